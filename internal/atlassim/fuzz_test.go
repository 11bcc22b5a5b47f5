// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// formatDigestAuthorization writes params the way a client would, quoting
// every value.
func formatDigestAuthorization(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(params[k])
		parts = append(parts, k+`="`+v+`"`)
	}
	return "Digest " + strings.Join(parts, ", ")
}

func FuzzDigestAuthorization(f *testing.F) {
	for _, h := range []string{
		`Digest username="atlassim", realm="MMS Public API", nonce="bm9uY2U=", uri="/api/atlas/v1.0/groups/6568a1b2c3d4e5f601234567/clusters/Cluster0/backup/tenant/restores", algorithm=MD5, response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="abc"`,
		`Digest username="a\"b", realm="x, y"`,
		`Digest username="unterminated`,
		`Digest a=1,,b=2`,
		`Digest =x`,
		`Basic YXRsYXNzaW06c2VjcmV0`,
		`digest USERNAME=x, Username=y`,
		"Digest username=\"\x00\", nc=zzzzzzzz",
		`Digest`,
		`Digest ,`, // found by fuzzing: accepted as no parameters (verify refuses it)
		``,
	} {
		f.Add(h)
	}
	d := newDigestAuth(DefaultPublicKey, DefaultPrivateKey)
	f.Fuzz(func(t *testing.T, h string) {
		params, ok := parseDigestAuthorization(h)
		if ok && len(params) > 0 { // "Digest ," parses to nothing, and nothing formats as "Digest"
			for k := range params {
				if k == "" || k != strings.ToLower(k) || strings.ContainsAny(k, " \t\",=") {
					t.Fatalf("accepted key %q", k)
				}
			}
			// What was accepted formats and parses back to the same values.
			again, ok2 := parseDigestAuthorization(formatDigestAuthorization(params))
			if !ok2 || !reflect.DeepEqual(params, again) {
				t.Fatalf("round trip of %q: %v -> %v (%v)", h, params, again, ok2)
			}
		}
		// The whole check never panics and never lets a made-up header in.
		r := httptest.NewRequest("GET", "/api/atlas/v1.0/groups/x", nil)
		r.Header.Set("Authorization", h)
		if got := d.verify(r, "/api/atlas/v1.0/groups/x", nonceRules{now: time.Now(), strict: true}); got == authOK {
			t.Fatalf("header %q was accepted", h)
		}
	})
}

func FuzzParseSeed(f *testing.F) {
	def, err := json.Marshal(DefaultSeed())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(def),
		`{"projects":[]}`,
		`{"projects":[{"id":"6568a1b2c3d4e5f601234567","clusters":[{"name":"Cluster0","snapshots":[{"id":"6568a1b2c3d4e5f6000000a1","status":"COMPLETED","finishTime":"2026-11-28T12:03:00Z"}]}]}]}`,
		`{"projects":[{"id":"6568a1b2c3d4e5f601234567","clusters":[{"name":"Cluster0","snapshots":[{"id":"6568a1b2c3d4e5f6000000a1","status":"COMPLETED","finishTime":"2026-11-28T12:03:00Z"}],"restoreJobs":[{"id":"6568a1b2c3d4e5f6000000b1","snapshotId":"6568a1b2c3d4e5f6000000a1","status":"COMPLETED","restoreScheduledDate":"2026-11-28T12:00:00Z"}]}]}]}`,
		`{"projects":[{"id":"6568A1B2C3D4E5F601234567","clusters":[]}]}`,
		`{"projects":[{"id":"6568a1b2c3d4e5f601234567","clusters":[{"name":"../x","snapshots":[]}]}]}`,
		`{"projects":[{"id":"6568a1b2c3d4e5f601234567","clusters":[{"name":"Cluster0","snapshots":[{"id":"6568a1b2c3d4e5f6000000a1","status":"DONE","finishTime":"28/11/2026"}]}]}]}`,
		`{"projects":[{"id":"6568a1b2c3d4e5f601234567","unknown":1}]}`,
		`{"projects":`,
		`{"projects":[]} []`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		seed, err := ParseSeed(data)
		if err != nil {
			if seed != nil {
				t.Fatal("a seed and an error")
			}
			return
		}
		// An accepted seed starts a simulator, and survives a round trip.
		if _, err := New(Config{Seed: seed, Now: func() time.Time { return testStart }}); err != nil {
			t.Fatalf("accepted seed does not start a simulator: %v", err)
		}
		again, err := json.Marshal(seed)
		if err != nil {
			t.Fatal(err)
		}
		seed2, err := ParseSeed(again)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", again, err)
		}
		if !reflect.DeepEqual(seed, seed2) {
			t.Fatalf("round trip changed the seed:\n%+v\n%+v", seed, seed2)
		}
	})
}
