// SPDX-License-Identifier: MPL-2.0

package atlas_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// TestContract_gzipAnswers: against a simulator that gzips, as Atlas and
// atlas-sim do, the client's lists decode (tenant lists unpaged, Flex ones
// paged) and the wire log says the answers came gzipped.
func TestContract_gzipAnswers(t *testing.T) {
	sim, err := atlassim.New(atlassim.Config{Gzip: true})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	encodings := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sim.ServeHTTP(w, r)
		mu.Lock()
		encodings[w.Header().Get("Content-Encoding")]++
		mu.Unlock()
	}))
	defer srv.Close()
	var logged []map[string]any
	c, err := atlas.New(atlas.Config{
		BaseURL: srv.URL, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		LogHTTP: func(_ context.Context, _ string, fields map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			logged = append(logged, fields)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range contractTargets {
		snaps, err := c.AllSnapshots(context.Background(), target.cluster)
		if err != nil || len(snaps) != 3 {
			t.Errorf("%s: %d snapshots, %v; want 3", target.name, len(snaps), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if encodings["gzip"] < 2 {
		t.Errorf("answers by Content-Encoding %v, want the lists gzipped", encodings)
	}
	decoded := 0
	for _, f := range logged {
		if f["response_header_content_encoding"] == "gzip (decoded by the transport)" {
			decoded++
		}
	}
	if decoded < 2 {
		t.Errorf("%d log entries say gzip, want the 2 lists: %v", decoded, logged)
	}
}
