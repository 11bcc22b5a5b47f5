// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// loggedQueryParams are the query parameters whose values the request log
// and the stats keep: paging and the global switches, which say how a
// client pages and carry no secret. Others keep their name only.
var loggedQueryParams = map[string]bool{
	"pageNum": true, "itemsPerPage": true, "includeCount": true, "pretty": true, "envelope": true,
	"includeDeletedWithRetainedBackups": true,
}

// redactedValue stands for the value of a query parameter that is not kept.
const redactedValue = "[redacted]"

// loggedQuery is the query string of an API request as the log and the
// stats show it, sorted, with the values of unknown parameters replaced.
// Paths outside /api/atlas/ (download links, whose token is in the query;
// the token endpoint) show none.
func loggedQuery(r *http.Request) string {
	if r.URL.RawQuery == "" || !strings.HasPrefix(r.URL.Path, "/api/atlas/") {
		return ""
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return redactedValue
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		for _, v := range q[k] {
			if !loggedQueryParams[k] {
				v = redactedValue
			}
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// logTarget is the path and, for API paths, the logged query of r.
func logTarget(r *http.Request) string {
	if q := loggedQuery(r); q != "" {
		return r.URL.Path + "?" + q
	}
	return r.URL.Path
}

// maxQueriesPerRoute bounds the distinct query strings counted per route;
// the rest are counted under otherQueries.
const (
	maxQueriesPerRoute = 100
	otherQueries       = "(other)"
)

// recordQuery counts one API request's query string under its route key.
func (r *statsRecorder) recordQuery(routeKey, query string) {
	if query == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	byQuery := r.s.Queries[routeKey]
	if byQuery == nil {
		byQuery = map[string]int64{}
		r.s.Queries[routeKey] = byQuery
	}
	if _, seen := byQuery[query]; !seen && len(byQuery) >= maxQueriesPerRoute {
		query = otherQueries
	}
	byQuery[query]++
}

// copyQueries is the deep copy of the query counts for a snapshot; the
// recorder must be locked.
func (r *statsRecorder) copyQueries() map[string]map[string]int64 {
	out := make(map[string]map[string]int64, len(r.s.Queries))
	for k, v := range r.s.Queries {
		m := make(map[string]int64, len(v))
		for q, n := range v {
			m[q] = n
		}
		out[k] = m
	}
	return out
}
