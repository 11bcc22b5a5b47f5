// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A valid-looking request line for the default cluster's restore jobs.
const restoresPath = "/api/atlas/v1.0/groups/" + DefaultProjectID + "/clusters/" + DefaultClusterName + "/backup/tenant/restores"

// TestMalformedRequestsGetA4xx sends broken headers, bodies and paths
// straight to ServeHTTP: each must get a client error, never a panic or a
// 2xx or 5xx.
func TestMalformedRequestsGetA4xx(t *testing.T) {
	sim, err := New(Config{Now: newFakeClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 9<<10)
	tests := []struct {
		name, method, target, auth, body string
	}{
		{"no credentials", "GET", restoresPath, "", ""},
		{"basic auth", "GET", restoresPath, "Basic YXRsYXNzaW06eA==", ""},
		{"digest with no parameters", "GET", restoresPath, "Digest", ""},
		{"digest scheme only and a space", "GET", restoresPath, "Digest ", ""},
		{"unterminated quote", "GET", restoresPath, `Digest username="atlassim`, ""},
		{"duplicate keys", "GET", restoresPath, `Digest username="a", username="b"`, ""},
		{"junk between pairs", "GET", restoresPath, `Digest username="a" junk, realm="x"`, ""},
		{"empty key", "GET", restoresPath, `Digest ="x"`, ""},
		{"null bytes", "GET", restoresPath, "Digest username=\"\x00\", realm=\"\x00\"", ""},
		{"huge header", "GET", restoresPath, `Digest username="` + long + `"`, ""},
		{"bad nonce count", "GET", restoresPath, `Digest username="atlassim", realm="MMS Public API", nonce="n", uri="` + restoresPath + `", response="00", qop=auth, nc=xyz, cnonce="c"`, ""},
		{"nonce count overflow", "GET", restoresPath, `Digest username="atlassim", realm="MMS Public API", nonce="n", uri="` + restoresPath + `", response="00", qop=auth, nc=ffffffffff, cnonce="c"`, ""},
		{"unknown nonce", "GET", restoresPath, `Digest username="atlassim", realm="MMS Public API", nonce="bm9uZQ==", uri="` + restoresPath + `", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="c"`, ""},
		{"wrong algorithm", "GET", restoresPath, `Digest username="atlassim", realm="MMS Public API", nonce="n", uri="` + restoresPath + `", algorithm=SHA-512, response="00", qop=auth, nc=00000001, cnonce="c"`, ""},
		{"uri for another path", "GET", restoresPath, `Digest username="atlassim", realm="MMS Public API", nonce="n", uri="/other", response="00", qop=auth, nc=00000001, cnonce="c"`, ""},
		{"dot-dot path", "GET", "/api/atlas/v1.0/groups/../../etc/passwd", "", ""},
		{"encoded slash in cluster", "GET", "/api/atlas/v1.0/groups/" + DefaultProjectID + "/clusters/a%2Fb/backup/tenant/restores", "", ""},
		{"null byte in path", "GET", "/api/atlas/v1.0/groups/%00/clusters/x/backup/tenant/restores", "", ""},
		{"unicode path", "GET", "/api/atlas/v1.0/groups/" + url.PathEscape("６５６８") + "/clusters/Clusterа0/backup/tenant/restores", "", ""},
		{"unknown route", "GET", "/api/atlas/v1.0/nothing/here", "", ""},
		{"download without token", "GET", "/backup/restore/6568a1b2c3d4e5f6000000b1/restore-x.tar.gz", "", ""},
		{"download with bad token", "GET", "/backup/restore/6568a1b2c3d4e5f6000000b1/restore-x.tar.gz?token=%zz&expires=abc", "", ""},
		{"download with dot-dot", "GET", "/backup/restore/../restore-x.tar.gz?token=a&expires=1", "", ""},
		{"stats with POST", "POST", "/__sim/stats", "", "x"},
		{"wrong method on a route", "DELETE", restoresPath, "", ""},
		{"post with a broken body, unauthenticated", "POST", "/api/atlas/v1.0/groups/" + DefaultProjectID + "/clusters/Cluster0/backup/tenant/download", "", `{"snapshotId":`},
		{"bad pretty parameter", "GET", restoresPath + "?pretty=maybe", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body *strings.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequest(tt.method, "http://127.0.0.1"+tt.target, body)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("ServeHTTP panicked: %v", p)
					}
				}()
				sim.ServeHTTP(rec, req)
			}()
			if rec.Code < 400 || rec.Code > 499 {
				t.Errorf("status %d, want a 4xx; body %.200s", rec.Code, rec.Body.String())
			}
		})
	}
}

// TestMalformedBodiesWhenAuthenticated sends broken download bodies with
// good credentials: each is a 4xx that names the problem, and no job is made.
func TestMalformedBodiesWhenAuthenticated(t *testing.T) {
	env := newSimEnv(t, Config{})
	for _, tt := range []struct{ name, body string }{
		{"empty", ``},
		{"not JSON", `snapshotId=6568a1b2c3d4e5f6000000a1`},
		{"truncated", `{"snapshotId":"6568a1b2c3d4e5f6`},
		{"wrong type", `{"snapshotId":42}`},
		{"upper-case id", `{"snapshotId":"6568A1B2C3D4E5F6000000A1"}`},
		{"fullwidth digits", `{"snapshotId":"６５６８a1b2c3d4e5f6000000a1"}`},
		{"null byte", "{\"snapshotId\":\"6568a1b2c3d4e5f6000000a1\u0000\"}"},
		{"array", `[]`},
		{"huge", `{"snapshotId":"` + strings.Repeat("a", maxBodyBytes) + `"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := env.client().do(http.MethodPost, "/api/atlas/v1.0/groups/"+DefaultProjectID+"/clusters/"+DefaultClusterName+"/backup/tenant/download", tt.body)
			if resp.StatusCode < 400 || resp.StatusCode > 499 {
				t.Errorf("status %d, want a 4xx: %.200s", resp.StatusCode, body)
			}
		})
	}
	if n := len(env.sim.Jobs()); n != 0 {
		t.Errorf("broken bodies made %d jobs", n)
	}
}
