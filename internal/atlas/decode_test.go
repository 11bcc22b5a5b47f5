// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"strings"
	"testing"
)

// TestBadAnswers is the table of broken Atlas answers: each is an error
// that names the call and what is wrong with the answer, and none repeats
// a link's token.
func TestBadAnswers(t *testing.T) {
	const id = "6568a1b2c3d4e5f6000000b1"
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"empty 200", ``, 200, "not the expected JSON (EOF)"},
		{"non-JSON 200", `<html><body>Service Unavailable</body></html>`, 200, `not the expected JSON`},
		{"truncated body", `{"id":"` + id + `","snapshotUrl":"https://x.example/r.tar.gz?token=s3cretT0k`, 200, "unexpected EOF"},
		{"JSON array instead of an object", `[]`, 200, "cannot unmarshal array"},
		{"JSON null", `null`, 200, `restore job id "" is not 24 lowercase hex`},
		{"id too long", `{"id":"` + id + `0"}`, 200, "is not 24 lowercase hex"},
		{"id in upper case", `{"id":"` + strings.ToUpper(id) + `"}`, 200, "is not 24 lowercase hex"},
		{"id with fullwidth digits", `{"id":"６５６８a1b2c3d4e5f6000000b1"}`, 200, "is not 24 lowercase hex"},
		{"id with a null byte", `{"id":"6568a1b2c3d4e5f6000000b\u0000"}`, 200, "is not 24 lowercase hex"},
		{"id with a path", `{"id":"../../6568a1b2c3d4e5f6"}`, 200, "is not 24 lowercase hex"},
		{"date in the wrong format", `{"id":"` + id + `","expirationDate":"28/11/2026 16:00"}`, 200, "expirationDate \"28/11/2026 16:00\" is not an RFC 3339 date"},
		{"date without a zone", `{"id":"` + id + `","restoreScheduledDate":"2026-11-28T12:00:00"}`, 200, "restoreScheduledDate"},
		{"trailing garbage", `{"id":"` + id + `"} x`, 200, "trailing data"},
		{"wrong type", `{"id":42}`, 200, "cannot unmarshal number"},
		{"error body with missing fields", `{"error":404}`, 404, "HTTP 404"},
		{"error body that is not JSON", `Not Found: https://x.example/a?token=s3cretT0k`, 404, `unexpected response body: "Not Found: https://x.example/a?[redacted]"`},
		{"error body with control characters", "{\"error\":400,\"errorCode\":\"X\",\"detail\":\"bad\\u001b[31m\\nthing\"}", 400, "bad [31m thing"},
		{"error body that is too long", `{"error":400,"errorCode":"X","detail":"` + strings.Repeat("x", 2000) + `"}`, 400, "xxx…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newAuthServer(t, jsonHandler(tt.status, tt.body))
			_, c := as.start()
			_, err := c.GetRestoreJob(context.Background(), testCluster, id)
			if err == nil {
				t.Fatal("a broken answer was accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not say %q", msg, tt.want)
			}
			if !strings.Contains(msg, "GET /api/atlas/v1.0/groups/") {
				t.Errorf("error %q does not name the call", msg)
			}
			if strings.Contains(msg, "s3cretT0k") || strings.ContainsRune(msg, 0) || len(msg) > 1000 {
				t.Errorf("error leaks, holds a control character or is unbounded: %q", msg)
			}
		})
	}
}

// TestCompletedJobWithoutLinkIsKept: a COMPLETED download with an empty
// snapshotUrl is a valid answer (the provider decides what it means), and
// decodes with the link empty, not invented.
func TestCompletedJobWithoutLinkIsKept(t *testing.T) {
	j, err := decodeRestoreJob([]byte(`{"id":"6568a1b2c3d4e5f6000000b1","status":"COMPLETED","deliveryType":"DOWNLOAD","snapshotUrl":""}`))
	if err != nil || j.Status != StatusCompleted || j.SnapshotURL != "" {
		t.Fatalf("job %+v, err %v", j, err)
	}
}
