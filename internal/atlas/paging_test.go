// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
)

// TestAllCopesWithUnpagedLists: a list that ignores pageNum and
// itemsPerPage (the tenant lists, which the description gives no paging
// parameters) is read once, each item once, even when it links a next page;
// a paged list is still read to its end.
func TestAllCopesWithUnpagedLists(t *testing.T) {
	snapshots := func(n int) []map[string]string {
		var out []map[string]string
		for i := range n {
			out = append(out, map[string]string{"id": fmt.Sprintf("%024x", i+1), "status": "COMPLETED"})
		}
		return out
	}
	cases := []struct {
		name      string
		items     int
		paged     bool
		count     bool // send totalCount
		next      bool // link a next page on every answer
		wantCalls int64
	}{
		{"unpaged, with a count and a next link", 7, false, true, true, 1},
		{"unpaged, no count, a next link", 7, false, false, true, 2},
		{"unpaged, more than a page, a next link", 600, false, false, true, 1},
		{"unpaged, no next link", 7, false, true, false, 1},
		{"paged, with a count", 1200, true, true, true, 3},
		{"paged, without a count", 1200, true, false, true, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			_, c := newAuthServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				items := snapshots(tc.items)
				more := tc.next
				if tc.paged {
					num, _ := strconv.Atoi(r.URL.Query().Get("pageNum"))
					per, _ := strconv.Atoi(r.URL.Query().Get("itemsPerPage"))
					start := min((num-1)*per, len(items))
					end := min(start+per, len(items))
					more = end < len(items)
					items = items[start:end]
				}
				body := map[string]any{"results": items, "links": []map[string]string{{"rel": "self", "href": "x"}}}
				if more {
					body["links"] = []map[string]string{{"rel": "self", "href": "x"}, {"rel": "next", "href": "y"}}
				}
				if tc.count {
					body["totalCount"] = tc.items
				}
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(body)
			})).start()
			got, err := c.AllSnapshots(context.Background(), testCluster)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, s := range got {
				if seen[s.ID] {
					t.Fatalf("snapshot %s read twice", s.ID)
				}
				seen[s.ID] = true
			}
			if len(got) != tc.items {
				t.Errorf("%d snapshots, want %d", len(got), tc.items)
			}
			if n := calls.Load(); n != tc.wantCalls {
				t.Errorf("%d list requests, want %d", n, tc.wantCalls)
			}
		})
	}
}
