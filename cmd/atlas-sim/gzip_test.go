// SPDX-License-Identifier: MPL-2.0

package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRunGzipsWhenAsked: the program answers gzip to clients that accept
// it, as Atlas does, unless -gzip=false.
func TestRunGzipsWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		gzip bool
	}{{nil, true}, {[]string{"-gzip=false"}, false}} {
		ctx, cancel := context.WithCancel(context.Background())
		stdout := newLineWriter()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-quiet"}, tc.args...), stdout, io.Discard)
		}()
		baseURL := strings.TrimPrefix(stdout.next(t), "ATLAS_SIM_BASE_URL=")
		req, err := http.NewRequest(http.MethodGet, baseURL+"/__sim/stats?pretty=true", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "gzip")
		raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		resp, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = resp.Body
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
			t.Errorf("%v: Content-Encoding %q, want gzip: %v", tc.args, resp.Header.Get("Content-Encoding"), tc.gzip)
		} else if got {
			if body, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		var st map[string]any
		if err := json.NewDecoder(body).Decode(&st); err != nil || st["totalRequests"] == nil {
			t.Errorf("%v: stats %v, %v", tc.args, st, err)
		}
		resp.Body.Close()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run: %v", err)
		}
	}
}
