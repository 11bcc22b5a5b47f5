// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzSecret is planted in fuzzed bodies; no error may repeat it.
const fuzzSecret = "Zq9SECRETq9Z"

// leaksToken reports whether s has a token= whose value was not redacted.
func leaksToken(s string) bool {
	lower := strings.ToLower(s)
	for i := strings.Index(lower, "token="); i >= 0; {
		rest := s[i+len("token="):]
		// "[" starts the marker; the excerpt's limit may cut it short ("…").
		if rest != "" && !strings.HasPrefix(rest, "[") && !strings.HasPrefix(rest, "…") && !strings.ContainsRune("&\"' \t\n<>\\", rune(rest[0])) {
			return true
		}
		next := strings.Index(lower[i+1:], "token=")
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

func FuzzDecodeError(f *testing.F) {
	f.Add(404, []byte(`{"detail":"No cluster named Nope exists in group 6568a1b2c3d4e5f601234567.","error":404,"errorCode":"CLUSTER_NOT_FOUND","parameters":["Nope"],"reason":"Not Found"}`), "", "")
	f.Add(401, []byte(`{"detail":"You are not authorized for this resource.","error":401,"errorCode":"USER_UNAUTHORIZED","parameters":[],"reason":"Unauthorized"}`), "", "")
	f.Add(502, []byte(`<html><body>Bad gateway</body></html>`), "<p>", "</p>")
	f.Add(400, []byte(`{"error":400}`), `{"detail":"`, `"}`)
	f.Add(500, []byte{}, "oops ", " and more")
	f.Fuzz(func(t *testing.T, status int, body []byte, prefix, suffix string) {
		e := decodeError("GET", "/api/x", status, body)
		msg := e.Error()
		if e.StatusCode != status || !strings.HasPrefix(msg, "atlas: GET /api/x: HTTP ") {
			t.Fatalf("status %d lost: %q", status, msg)
		}
		if utf8.RuneCountInString(e.Detail) > 600 || utf8.RuneCountInString(e.Reason) > 201 {
			t.Fatalf("detail or reason not bounded: %d, %d runes", utf8.RuneCountInString(e.Detail), utf8.RuneCountInString(e.Reason))
		}
		if !utf8.ValidString(msg) {
			t.Fatalf("message is not UTF-8: %q", msg)
		}
		// A presigned link anywhere in the answer never reaches the message.
		planted := []byte(prefix + "https://files.example/restore.tar.gz?token=" + fuzzSecret + "&expires=1" + suffix)
		if msg := decodeError("GET", "/api/x", status, planted).Error(); strings.Contains(msg, fuzzSecret) {
			t.Fatalf("message repeats the link's token: %q", msg)
		}
		planted = []byte(`{"error":400,"errorCode":"X","detail":` + jsonString(prefix+"https://files.example/x?token="+fuzzSecret+suffix) + `}`)
		if msg := decodeError("GET", "/api/x", status, planted).Error(); strings.Contains(msg, fuzzSecret) {
			t.Fatalf("message repeats the link's token: %q", msg)
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func FuzzDecodeRestoreJob(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		j, err := decodeRestoreJob(body)
		if err != nil {
			if leaksToken(err.Error()) {
				t.Fatalf("error shows a link token: %v", err)
			}
			if j != nil {
				t.Fatal("a job and an error")
			}
			return
		}
		if !IsID(j.ID) {
			t.Fatalf("accepted id %q", j.ID)
		}
		for _, d := range []string{j.ExpirationDate, j.RestoreScheduledDate, j.RestoreFinishedDate, j.SnapshotFinishedDate} {
			if _, err := time.Parse(time.RFC3339, d); d != "" && err != nil {
				t.Fatalf("accepted date %q", d)
			}
		}
		if j.ClusterName == "" && j.InstanceName != "" {
			t.Fatal("instanceName not carried into clusterName")
		}
		// What was accepted encodes and decodes to itself.
		again, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		j2, err := decodeRestoreJob(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if len(j.Links) == 0 {
			j.Links = nil
		}
		if !reflect.DeepEqual(j, j2) {
			t.Fatalf("round trip changed the job:\n%+v\n%+v", j, j2)
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeSnapshot(body)
		if err != nil {
			if leaksToken(err.Error()) {
				t.Fatalf("error shows a link token: %v", err)
			}
			return
		}
		if !IsID(s.ID) {
			t.Fatalf("accepted id %q", s.ID)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := decodeSnapshot(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if len(s.Links) == 0 {
			s.Links = nil
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip changed the snapshot:\n%+v\n%+v", s, s2)
		}
	})
}
