// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var challengePattern = regexp.MustCompile(`^Digest realm="MMS Public API", domain="", nonce="([A-Za-z0-9+/=]{40})", algorithm=MD5, qop="auth", stale=false$`)

func TestDigestChallenge(t *testing.T) {
	env := newSimEnv(t, Config{})
	nonces := map[string]bool{}
	for range 3 {
		resp, data := env.plain(http.MethodGet, tenantBase+"/snapshots", "")
		m := apiErrorBody(t, resp, data, http.StatusUnauthorized, codeUserUnauthorized)
		if got := resp.Header.Get("Content-Type"); got != "application/json;charset=ISO-8859-1" {
			t.Errorf("Content-Type %q", got)
		}
		h := resp.Header.Get("WWW-Authenticate")
		match := challengePattern.FindStringSubmatch(h)
		if match == nil {
			t.Fatalf("WWW-Authenticate %q does not have the Atlas form", h)
		}
		if nonces[match[1]] {
			t.Errorf("nonce %q issued twice", match[1])
		}
		nonces[match[1]] = true
		if d := m["detail"].(string); !strings.Contains(d, "credentials are required") {
			t.Errorf("detail %q does not say credentials are required", d)
		}
	}
	if got := env.sim.Stats().DigestChallenges; got != 3 {
		t.Errorf("DigestChallenges = %d, want 3", got)
	}
}

func TestDigestGoodCredentialsReuseNonce(t *testing.T) {
	env := newSimEnv(t, Config{})
	c := env.client()
	for i := range 5 {
		resp, data := c.do(http.MethodGet, tenantBase+"/snapshots?pageNum=1", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d: %s", i, resp.StatusCode, data)
		}
	}
	if c.nc != 5 {
		t.Errorf("client used nc up to %d, want 5 (one nonce reused)", c.nc)
	}
	st := env.sim.Stats()
	if st.DigestChallenges != 1 || st.TotalRequests != 6 {
		t.Errorf("stats = %+v, want 1 challenge and 6 requests", st)
	}
}

func TestDigestCustomKeys(t *testing.T) {
	env := newSimEnv(t, Config{PublicKey: "abcdefgh", PrivateKey: "secret-1"})
	c := env.client() // default keys: wrong here
	resp, data := c.do(http.MethodGet, tenantBase+"/snapshots", "")
	apiErrorBody(t, resp, data, http.StatusUnauthorized, codeUserUnauthorized)

	c = &digestClient{t: t, base: env.srv.URL, hc: env.srv.Client(), user: "abcdefgh", pass: "secret-1"}
	if resp, data := c.do(http.MethodGet, tenantBase+"/snapshots", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
}

func TestDigestRejections(t *testing.T) {
	env := newSimEnv(t, Config{})
	const uri = tenantBase + "/snapshots"
	good := func(nonce string, nc uint32) string {
		return digestAuthorization(DefaultPublicKey, DefaultPrivateKey, http.MethodGet, uri, nonce, nc, "abcdef")
	}
	cases := []struct {
		name string
		// header builds the Authorization value from a fresh nonce; the
		// request is GET uri.
		header func(nonce string) string
		// first, when set, is sent (and must succeed) before header.
		first func(nonce string) string
	}{
		{name: "wrong password", header: func(n string) string {
			return digestAuthorization(DefaultPublicKey, "wrong", http.MethodGet, uri, n, 1, "abcdef")
		}},
		{name: "wrong user", header: func(n string) string {
			return digestAuthorization("someoneelse", DefaultPrivateKey, http.MethodGet, uri, n, 1, "abcdef")
		}},
		{name: "replayed nonce count", first: func(n string) string { return good(n, 7) }, header: func(n string) string { return good(n, 7) }},
		{name: "unknown nonce", header: func(string) string { return good("bm90LWlzc3VlZC1ieS10aGUtc2ltdWxhdG9yISEh", 1) }},
		{name: "uri of another resource", header: func(n string) string {
			return digestAuthorization(DefaultPublicKey, DefaultPrivateKey, http.MethodGet, tenantBase+"/restores", n, 1, "abcdef")
		}},
		{name: "hash for another method", header: func(n string) string {
			return digestAuthorization(DefaultPublicKey, DefaultPrivateKey, http.MethodPost, uri, n, 1, "abcdef")
		}},
		{name: "nc not eight hex digits", header: func(n string) string {
			return strings.Replace(good(n, 1), "nc=00000001", "nc=1", 1)
		}},
		{name: "unsupported algorithm", header: func(n string) string {
			return strings.Replace(good(n, 1), "algorithm=MD5", "algorithm=SHA-256", 1)
		}},
		{name: "qop missing", header: func(n string) string { return strings.Replace(good(n, 1), "qop=auth, ", "", 1) }},
		{name: "wrong realm", header: func(n string) string {
			return strings.Replace(good(n, 1), `realm="MMS Public API"`, `realm="other"`, 1)
		}},
		{name: "duplicate parameter", header: func(n string) string { return good(n, 1) + `, username="atlassim"` }},
		{name: "basic scheme", header: func(string) string { return "Basic YXRsYXNzaW06eA==" }},
		{name: "bearer scheme", header: func(string) string { return "Bearer abc" }},
		{name: "scheme only", header: func(string) string { return "Digest" }},
		{name: "only commas", header: func(string) string { return "Digest ,,, ," }},
		{name: "unterminated quote", header: func(string) string { return `Digest username="atlassim, realm="MMS` }},
		{name: "no equals", header: func(string) string { return "Digest username" }},
		{name: "junk after value", header: func(string) string { return `Digest username="a"junk, realm="b"` }},
		{name: "empty key", header: func(string) string { return `Digest ="a"` }},
		{name: "trailing backslash", header: func(string) string { return `Digest username="a\` }},
		{name: "binary junk", header: func(string) string { return "Digest \xff\xfe=\x80,\"\"=\"" }},
		{name: "huge", header: func(string) string { return "Digest username=\"" + strings.Repeat("a", 10000) + "\"" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nonce := challengeNonce(t, mustStatus(t, env, http.StatusUnauthorized))
			if tc.first != nil {
				resp, data := send(t, env.srv.Client(), http.MethodGet, env.srv.URL+uri, "", tc.first(nonce))
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("first request: status %d: %s", resp.StatusCode, data)
				}
			}
			resp, data := send(t, env.srv.Client(), http.MethodGet, env.srv.URL+uri, "", tc.header(nonce))
			apiErrorBody(t, resp, data, http.StatusUnauthorized, codeUserUnauthorized)
			if !challengePattern.MatchString(resp.Header.Get("WWW-Authenticate")) {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			var m map[string]any
			_ = json.Unmarshal(data, &m)
			if d, _ := m["detail"].(string); strings.Contains(d, "required") {
				t.Errorf("detail %q speaks of missing credentials; they were wrong", d)
			}
		})
	}
}

func mustStatus(t *testing.T, env *simEnv, want int) *http.Response {
	t.Helper()
	resp, data := env.plain(http.MethodGet, tenantBase+"/snapshots", "")
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, data)
	}
	return resp
}

func TestParseDigestAuthorizationNeverPanics(t *testing.T) {
	inputs := []string{"", " ", "Digest ", "Digest =", "Digest a", "Digest a=", `Digest a="`, `Digest a="\`,
		`Digest a="b\"c", d=e`, "DIGEST a=b", "Digest\ta=b", "Digest a=b,,c=d", `Digest a=b c=d`}
	for _, in := range inputs {
		p, ok := parseDigestAuthorization(in)
		_ = fmt.Sprint(p, ok)
	}
	p, ok := parseDigestAuthorization(`DIGEST Username="a\"b", NC=00000001,qop=auth`)
	if !ok || p["username"] != `a"b` || p["nc"] != "00000001" || p["qop"] != "auth" {
		t.Errorf("parse = %v, %v", p, ok)
	}
}

// TestDigestDroppedAnswerSpendsNonceCount: a request whose answer the drop
// fault threw away has used its nonce count. Sent again with the same
// Authorization, as net/http resends a GET after a dropped keep-alive
// connection, it is refused like any replay; the nonce itself stays good.
func TestDigestDroppedAnswerSpendsNonceCount(t *testing.T) {
	env := newSimEnv(t, Config{Faults: Faults{DropRate: 1}})
	const uri = tenantBase + "/snapshots"
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // no resend of its own
	t.Cleanup(hc.CloseIdleConnections)
	nonce := challengeNonce(t, mustStatus(t, env, http.StatusUnauthorized))
	auth := digestAuthorization(DefaultPublicKey, DefaultPrivateKey, http.MethodGet, uri, nonce, 1, "abcdef")
	req, err := http.NewRequest(http.MethodGet, env.srv.URL+uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d), want a dropped connection", resp.StatusCode)
	}
	if err := env.sim.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}

	resp, data := send(t, hc, http.MethodGet, env.srv.URL+uri, "", auth)
	apiErrorBody(t, resp, data, http.StatusUnauthorized, codeUserUnauthorized)
	m := challengePattern.FindStringSubmatch(resp.Header.Get("WWW-Authenticate"))
	if m == nil || m[1] == nonce {
		t.Errorf("WWW-Authenticate %q, want a fresh non-stale challenge", resp.Header.Get("WWW-Authenticate"))
	}
	next := digestAuthorization(DefaultPublicKey, DefaultPrivateKey, http.MethodGet, uri, nonce, 2, "abcdef")
	if resp, data := send(t, hc, http.MethodGet, env.srv.URL+uri, "", next); resp.StatusCode != http.StatusOK {
		t.Errorf("next count on the same nonce: status %d: %s", resp.StatusCode, data)
	}
}
