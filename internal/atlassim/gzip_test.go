// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// rawClient is a digest client whose transport neither asks for gzip nor
// decodes it, so that the test sees the bytes on the wire.
func (e *simEnv) rawClient(hdr ...string) *digestClient {
	c := e.client(hdr...)
	c.hc = &http.Client{Transport: &http.Transport{DisableCompression: true}}
	return c
}

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip does not decode: %v", err)
	}
	return out
}

func TestGzipWhenAsked(t *testing.T) {
	env := newSimEnv(t, Config{Gzip: true})
	cases := []struct {
		name, acceptEncoding string
		uri                  string
		gzipped              bool
	}{
		{"asked", "gzip", tenantBase + "/snapshots", true},
		{"asked among others", "br;q=1.0, gzip;q=0.5", tenantBase + "/snapshots", true},
		{"any coding", "*", tenantBase + "/snapshots", true},
		{"not asked", "", tenantBase + "/snapshots", false},
		{"refused", "gzip;q=0, identity", tenantBase + "/snapshots", false},
		{"a small error answer", "gzip", tenantBase + "/snapshots/0123456789abcdef01234567", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := env.rawClient("Accept-Encoding", tc.acceptEncoding).do(http.MethodGet, tc.uri, "")
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.gzipped {
				t.Fatalf("Content-Encoding %q, want gzip: %v", resp.Header.Get("Content-Encoding"), tc.gzipped)
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q lacks Accept-Encoding", resp.Header.Get("Vary"))
			}
			if tc.gzipped {
				data = gunzip(t, data)
			}
			if !json.Valid(data) {
				t.Errorf("body is not JSON: %q", data)
			}
		})
	}
}

func TestGzipAnswersDecodeForGoClients(t *testing.T) {
	// Go's transport asks for gzip by itself and decodes it.
	env := newSimEnv(t, Config{Gzip: true})
	var sawGzip atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.sim.ServeHTTP(w, r)
		if w.Header().Get("Content-Encoding") == "gzip" {
			sawGzip.Store(true)
		}
	}))
	defer srv.Close()
	c := env.client()
	c.base, c.hc = srv.URL, srv.Client()
	list := c.getJSON(http.MethodGet, tenantBase+"/snapshots", "", http.StatusOK)
	if !sawGzip.Load() {
		t.Fatal("the answer was not gzipped")
	}
	if r, _ := list["results"].([]any); len(r) != 3 {
		t.Errorf("results %v", list["results"])
	}
}

func TestSmallAnswersAndArchivesAreNotGzipped(t *testing.T) {
	env := newSimEnv(t, Config{Gzip: true})
	// A body under gzipMinBytes goes as it is.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	c := &call{s: env.sim, w: rec, r: req, contentType: "application/json"}
	c.writeJSON(map[string]int{"n": 1})
	if rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != "{\"n\":1}\n" {
		t.Errorf("tiny answer: Content-Encoding %q, body %q", rec.Header().Get("Content-Encoding"), rec.Body.String())
	}
	// The archive behind a download link is a .tar.gz already.
	job := env.client().getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, _ := send(t, hc, http.MethodGet, job["snapshotUrl"].(string), "", "", "Accept-Encoding", "gzip")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("archive: status %d, Content-Encoding %q, want 200 and none", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
}

func TestGzipIsOffByDefault(t *testing.T) {
	env := newSimEnv(t, Config{})
	resp, data := env.rawClient("Accept-Encoding", "gzip").do(http.MethodGet, tenantBase+"/snapshots", "")
	if resp.Header.Get("Content-Encoding") != "" || !json.Valid(data) {
		t.Errorf("Content-Encoding %q without Config.Gzip", resp.Header.Get("Content-Encoding"))
	}
}
