// SPDX-License-Identifier: MPL-2.0

package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestRunGzipsWhenAsked: the program answers gzip to clients that accept
// it, as Atlas does, unless -gzip=false.
func TestRunGzipsWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		gzip bool
	}{{nil, true}, {[]string{"-gzip=false"}, false}} {
		prog := startProgram(t, tc.args...)
		req, err := http.NewRequest(http.MethodGet, prog.baseURL+"/__sim/stats?pretty=true", nil)
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
		prog.stop(t)
	}
}
