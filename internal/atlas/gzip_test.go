// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestClientAsksForGzipAndDecodesIt: the client's requests carry
// Accept-Encoding: gzip (Go's transport adds it, as the client leaves the
// header alone), gzip answers and gzip errors decode, and the wire log says
// the answer came gzipped.
func TestClientAsksForGzipAndDecodesIt(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	const snapshotID = "6568a1b2c3d4e5f6000000a1"
	as := newAuthServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/snapshots") {
			_, _ = w.Write(gzipped(t, `{"results":[{"id":"`+snapshotID+`","status":"COMPLETED"}],"totalCount":1,"links":[]}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(gzipped(t, `{"error":404,"errorCode":"TENANT_SNAPSHOT_NOT_FOUND","detail":"none"}`))
	}))
	srv, _ := as.start()
	rec := &logRecorder{}
	c, err := New(Config{BaseURL: srv.URL, PublicKey: testUser, PrivateKey: testPass, LogHTTP: rec.log,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.ListSnapshots(context.Background(), testCluster, ListOptions{})
	if err != nil || len(page.Results) != 1 || page.Results[0].ID != snapshotID {
		t.Fatalf("ListSnapshots = %+v, %v", page, err)
	}
	_, err = c.GetSnapshot(context.Background(), testCluster, "6568a1b2c3d4e5f6000000ff")
	var ae *Error
	if !errors.As(err, &ae) || ae.ErrorCode != "TENANT_SNAPSHOT_NOT_FOUND" {
		t.Errorf("GetSnapshot error %v, want the gzipped TENANT_SNAPSHOT_NOT_FOUND", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) < 2 {
		t.Fatalf("%d signed requests reached the handler", len(asked))
	}
	for i, v := range asked {
		if !strings.Contains(v, "gzip") {
			t.Errorf("request %d: Accept-Encoding %q, want gzip", i, v)
		}
	}
	var logged bool
	for _, e := range rec.entries {
		if e["status"] == http.StatusOK {
			logged = true
			if e["response_header_content_encoding"] != "gzip (decoded by the transport)" {
				t.Errorf("log entry %v does not say the answer came gzipped", e)
			}
		}
		if ex, ok := e["error_excerpt"].(string); ok && e["status"] == http.StatusNotFound && !strings.Contains(ex, "TENANT_SNAPSHOT_NOT_FOUND") {
			t.Errorf("error excerpt %q is not the decoded body", ex)
		}
	}
	if !logged {
		t.Error("no 200 exchange logged")
	}
}
