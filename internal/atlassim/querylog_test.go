// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestLogAndStatsKeepTheQuery: paging shows in the request log and in
// /__sim/stats; other values on API paths are redacted, and a download
// link's query (its token) shows nowhere.
func TestLogAndStatsKeepTheQuery(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	env := newSimEnv(t, Config{Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}})
	flex := env.client("Accept", mediaTypeFlex)
	flex.getJSON(http.MethodGet, flexBase+"/snapshots?pageNum=1&itemsPerPage=2", "", http.StatusOK)
	flex.getJSON(http.MethodGet, flexBase+"/snapshots?pageNum=1&itemsPerPage=2", "", http.StatusOK)
	flex.getJSON(http.MethodGet, flexBase+"/snapshots?itemsPerPage=2&pageNum=2&secret=hunter2", "", http.StatusOK)
	job := flex.getJSON(http.MethodPost, flexBase+"/download", downloadBody(DefaultFlexSnapshotID), http.StatusOK)
	snapURL := job["snapshotUrl"].(string)
	resp, _ := send(t, env.srv.Client(), http.MethodGet, snapURL, "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d", resp.StatusCode)
	}
	token := strings.TrimPrefix(regexpToken.FindString(snapURL), "token=")
	if token == "" {
		t.Fatalf("no token in %s", snapURL)
	}

	mu.Lock()
	all := strings.Join(lines, "\n")
	mu.Unlock()
	for _, want := range []string{
		"GET " + flexBase + "/snapshots?itemsPerPage=2&pageNum=1 -> 200",
		"GET " + flexBase + "/snapshots?itemsPerPage=2&pageNum=2&secret=%5Bredacted%5D -> 200",
		"POST " + flexBase + "/download -> 200",
		"/restore-" + DefaultFlexSnapshotID + ".tar.gz -> 200",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("log lacks %q:\n%s", want, all)
		}
	}
	for _, secret := range []string{token, "hunter2", "expires=", ".tar.gz?"} {
		if strings.Contains(all, secret) {
			t.Errorf("log contains %q:\n%s", secret, all)
		}
	}

	stats := env.sim.Stats()
	route := "GET " + flexV2.prefix + "/snapshots"
	// The first request's digest challenge counts too: 3.
	if got := stats.Queries[route]; got["itemsPerPage=2&pageNum=1"] != 3 || got["itemsPerPage=2&pageNum=2&secret=%5Bredacted%5D"] != 1 || len(got) != 2 {
		t.Errorf("queries of %s = %v", route, got)
	}
	if _, ok := stats.Queries["GET "+downloadRoutePattern]; ok {
		t.Errorf("download link queries counted: %v", stats.Queries)
	}
	resp, data := send(t, env.srv.Client(), http.MethodGet, env.srv.URL+statsPath, "", "")
	var page Stats
	if err := json.Unmarshal(data, &page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stats page: %d %v", resp.StatusCode, err)
	}
	if page.Queries[route]["itemsPerPage=2&pageNum=1"] != 3 || strings.Contains(string(data), token) {
		t.Errorf("stats page queries %v (or the token shows): %s", page.Queries, data)
	}
}

func TestQueryCountsAreBounded(t *testing.T) {
	r := newStatsRecorder()
	for i := range maxQueriesPerRoute + 5 {
		r.recordQuery("GET /x", fmt.Sprintf("pageNum=%d", i+1))
	}
	r.recordQuery("GET /x", "pageNum=1")
	got := r.snapshot().Queries["GET /x"]
	if len(got) != maxQueriesPerRoute+1 || got[otherQueries] != 5 || got["pageNum=1"] != 2 {
		t.Errorf("%d distinct, %d other, pageNum=1 %d", len(got), got[otherQueries], got["pageNum=1"])
	}
}
