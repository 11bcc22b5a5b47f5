// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// testStart is the fake clock's starting time: after the default snapshots.
var testStart = time.Date(2026, 11, 28, 14, 3, 0, 0, time.UTC)

// fakeClock is an injected clock; tests move it instead of sleeping.
type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock { return fakeclock.New(testStart) }

// simEnv is a simulator behind a loopback httptest server.
type simEnv struct {
	t     *testing.T
	sim   *Server
	srv   *httptest.Server
	clock *fakeClock
}

func newSimEnv(t *testing.T, cfg Config) *simEnv {
	t.Helper()
	clock := newFakeClock()
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	sim, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(recordExchanges(sim))
	t.Cleanup(srv.Close)
	return &simEnv{t: t, sim: sim, srv: srv, clock: clock}
}

// idleStats closes the test server, which waits for every handler to
// return, and then reads the statistics: a handler counts a download after
// its last byte has reached the client, so reading them at once could miss
// the last one. The environment serves no more requests after it.
func (e *simEnv) idleStats() Stats {
	e.srv.Close()
	return e.sim.Stats()
}

// client returns a digest client with the default keys. hdr are header
// name/value pairs sent with every request (Accept for the v2 families).
func (e *simEnv) client(hdr ...string) *digestClient {
	return &digestClient{t: e.t, base: e.srv.URL, hc: e.srv.Client(), user: DefaultPublicKey, pass: DefaultPrivateKey, hdr: hdr}
}

// plain sends a request without credentials.
func (e *simEnv) plain(method, uri, body string) (*http.Response, []byte) {
	e.t.Helper()
	return send(e.t, e.srv.Client(), method, e.srv.URL+uri, body, "")
}

// send sends one request; hdr are header name/value pairs, set after the
// default Content-Type of a request with a body.
func send(t testing.TB, hc *http.Client, method, url, body, authorization string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("NewRequest %s %s: %v", method, url, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s %s: %v", method, url, err)
	}
	return resp, data
}

// digestClient is a small RFC 7616 client written for these tests: it
// fetches a challenge once, then reuses the nonce with increasing counts.
type digestClient struct {
	t          testing.TB
	base       string
	hc         *http.Client
	user, pass string
	hdr        []string

	mu    sync.Mutex
	nonce string
	nc    uint32
}

var nonceInChallenge = regexp.MustCompile(`nonce="([^"]*)"`)

func challengeNonce(t testing.TB, resp *http.Response) string {
	t.Helper()
	m := nonceInChallenge.FindStringSubmatch(resp.Header.Get("WWW-Authenticate"))
	if m == nil {
		t.Fatalf("no nonce in WWW-Authenticate %q (status %d)", resp.Header.Get("WWW-Authenticate"), resp.StatusCode)
	}
	return m[1]
}

// digestAuthorization computes an Authorization header value (MD5, qop=auth).
func digestAuthorization(user, pass, method, uri, nonce string, nc uint32, cnonce string) string {
	h := func(s string) string {
		sum := md5.Sum([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	ncs := fmt.Sprintf("%08x", nc)
	ha1 := h(user + ":MMS Public API:" + pass)
	ha2 := h(method + ":" + uri)
	resp := h(ha1 + ":" + nonce + ":" + ncs + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="MMS Public API", nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s", response="%s"`,
		user, nonce, uri, ncs, cnonce, resp)
}

// fetchNonce asks for a fresh challenge.
func (d *digestClient) fetchNonce(method, uri string) string {
	d.t.Helper()
	resp, _ := send(d.t, d.hc, method, d.base+uri, "", "", d.hdr...)
	if resp.StatusCode != http.StatusUnauthorized {
		d.t.Fatalf("challenge: status %d, want 401", resp.StatusCode)
	}
	return challengeNonce(d.t, resp)
}

// do sends an authenticated request, fetching or refreshing the challenge
// as needed (one retry after a 401 with a challenge).
func (d *digestClient) do(method, uri, body string) (*http.Response, []byte) {
	d.t.Helper()
	d.mu.Lock()
	if d.nonce == "" {
		d.mu.Unlock()
		n := d.fetchNonce(method, uri)
		d.mu.Lock()
		if d.nonce == "" {
			d.nonce, d.nc = n, 0
		}
	}
	for attempt := 0; ; attempt++ {
		d.nc++
		nonce, nc := d.nonce, d.nc
		d.mu.Unlock()
		auth := digestAuthorization(d.user, d.pass, method, uri, nonce, nc, fmt.Sprintf("c%07d", nc))
		resp, data := send(d.t, d.hc, method, d.base+uri, body, auth, d.hdr...)
		if resp.StatusCode != http.StatusUnauthorized || attempt > 0 || resp.Header.Get("WWW-Authenticate") == "" {
			return resp, data
		}
		d.mu.Lock()
		d.nonce, d.nc = challengeNonce(d.t, resp), 0
	}
}

// getJSON is do plus decoding into a generic map; it fails on a status other than want.
func (d *digestClient) getJSON(method, uri, body string, want int) map[string]any {
	d.t.Helper()
	resp, data := d.do(method, uri, body)
	if resp.StatusCode != want {
		d.t.Fatalf("%s %s: status %d, want %d; body %s", method, uri, resp.StatusCode, want, data)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		d.t.Fatalf("%s %s: decoding %q: %v", method, uri, data, err)
	}
	return m
}

const tenantBase = "/api/atlas/v1.0/groups/" + DefaultProjectID + "/clusters/" + DefaultClusterName + "/backup/tenant"

func downloadBody(snapshotID string) string {
	return `{"snapshotId":"` + snapshotID + `"}`
}

// apiErrorBody decodes and checks the common shape of an Atlas error.
func apiErrorBody(t *testing.T, resp *http.Response, data []byte, status int, code string) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, data)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if h := resp.Header.Get("X-Error-Code"); h != code {
		t.Errorf("X-Error-Code %q, want %s", h, code)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decoding error body %q: %v", data, err)
	}
	if m["errorCode"] != code {
		t.Errorf("errorCode %v, want %s; body %s", m["errorCode"], code, data)
	}
	if m["error"] != float64(status) {
		t.Errorf("error %v, want %d", m["error"], status)
	}
	if m["reason"] != http.StatusText(status) {
		t.Errorf("reason %v, want %q", m["reason"], http.StatusText(status))
	}
	if _, ok := m["parameters"].([]any); !ok {
		t.Errorf("parameters %v is not an array", m["parameters"])
	}
	if d, _ := m["detail"].(string); d == "" {
		t.Errorf("empty detail in %s", data)
	}
	return m
}
