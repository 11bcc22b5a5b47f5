// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// Stats counts what the simulator answered, for tests and benchmarks.
// Routes is keyed by "<METHOD> <route template>" (for example
// "GET /api/atlas/v1.0/groups/{groupId}/clusters/{clusterName}/backup/tenant/restores/{restoreId}"),
// then by status code as a string. Requests that match no route are counted
// under "<METHOD> (no route)".
//
// Faults counts the faults the simulator injected (a dropped request is also
// counted under its route with the status it would have had; a refused
// download that is then dropped counts as both; a token request over
// Config.TokenRateLimit counts as rateLimited), and
// JobsCreated the download jobs created through the API, by
// "<projectId>/<clusterName>" (a dropped request's job included).
// TokenRequests counts requests to POST /api/oauth/token, whatever their
// answer (they are in TotalRequests too); LiveTokens the access tokens
// neither expired nor revoked at the time of the read, and RevokedTokens
// those revoked so far (by POST /api/oauth/revoke or RevokeAllTokens).
type Stats struct {
	TotalRequests    int64                       `json:"totalRequests"`
	DigestChallenges int64                       `json:"digestChallenges"`
	TokenRequests    int64                       `json:"tokenRequests"`
	LiveTokens       int64                       `json:"liveTokens"`
	RevokedTokens    int64                       `json:"revokedTokens"`
	Routes           map[string]map[string]int64 `json:"routes"`
	Faults           FaultCounts                 `json:"faults"`
	JobsCreated      map[string]int64            `json:"jobsCreated"`
	// Queries counts API requests by route key, then by query string
	// (sorted; paging values kept, others redacted; see loggedQuery), so
	// that paging shows. Requests without a query are not in it.
	Queries map[string]map[string]int64 `json:"queries"`
	// Downloads counts what download links sent.
	Downloads DownloadCounts `json:"downloads"`
}

// DownloadCounts counts download-link answers: body bytes sent (200 and
// 206, HEAD none), requests that carried a Range header (honoured or not),
// and answers cut by Config.ArchiveDropAfter.
type DownloadCounts struct {
	Bytes          int64 `json:"bytes"`
	RangedRequests int64 `json:"rangedRequests"`
	Cut            int64 `json:"cut"`
}

// FaultCounts counts injected faults by kind.
type FaultCounts struct {
	RateLimited int64 `json:"rateLimited"`
	Injected5xx int64 `json:"injected5xx"`
	Dropped     int64 `json:"dropped"`
	StaleNonce  int64 `json:"staleNonce"`
	// TooManyDownloads counts 400 TOO_MANY_SNAPSHOT_DOWNLOADS answers
	// (Faults.DownloadLimit), ConcurrentDownloads 400
	// CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY (Faults.OneDownloadPerSnapshot).
	TooManyDownloads    int64 `json:"tooManyDownloads"`
	ConcurrentDownloads int64 `json:"concurrentDownloads"`
}

// faultKind is the fault, if any, injected into one request.
type faultKind int

const (
	noFault faultKind = iota
	faultRateLimited
	faultInjected5xx
	faultDropped
	faultStaleNonce
	faultTooManyDownloads
	faultConcurrentDownload
)

type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func newStatsRecorder() *statsRecorder {
	return &statsRecorder{s: Stats{Routes: map[string]map[string]int64{}, JobsCreated: map[string]int64{}, Queries: map[string]map[string]int64{}}}
}

func (r *statsRecorder) jobCreated(projectID, clusterName string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.JobsCreated[projectID+"/"+clusterName]++
}

// record counts one request; faults are those it met (a download can be
// refused and its answer then dropped).
func (r *statsRecorder) record(routeKey string, status int, challenged bool, faults ...faultKind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.TotalRequests++
	if challenged {
		r.s.DigestChallenges++
	}
	if routeKey == http.MethodPost+" "+tokenPath {
		r.s.TokenRequests++
	}
	for _, fault := range faults {
		switch fault {
		case faultRateLimited:
			r.s.Faults.RateLimited++
		case faultInjected5xx:
			r.s.Faults.Injected5xx++
		case faultDropped:
			r.s.Faults.Dropped++
		case faultStaleNonce:
			r.s.Faults.StaleNonce++
		case faultTooManyDownloads:
			r.s.Faults.TooManyDownloads++
		case faultConcurrentDownload:
			r.s.Faults.ConcurrentDownloads++
		}
	}
	byStatus := r.s.Routes[routeKey]
	if byStatus == nil {
		byStatus = map[string]int64{}
		r.s.Routes[routeKey] = byStatus
	}
	byStatus[strconv.Itoa(status)]++
}

// download counts one download answer's body bytes, whether it carried a
// Range header, and whether ArchiveDropAfter cut it.
func (r *statsRecorder) download(bytes int64, ranged, cut bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.Downloads.Bytes += bytes
	if ranged {
		r.s.Downloads.RangedRequests++
	}
	if cut {
		r.s.Downloads.Cut++
	}
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Stats{
		TotalRequests:    r.s.TotalRequests,
		DigestChallenges: r.s.DigestChallenges,
		TokenRequests:    r.s.TokenRequests,
		Routes:           make(map[string]map[string]int64, len(r.s.Routes)),
		Faults:           r.s.Faults,
		JobsCreated:      make(map[string]int64, len(r.s.JobsCreated)),
		Queries:          r.copyQueries(),
		Downloads:        r.s.Downloads,
	}
	for k, n := range r.s.JobsCreated {
		out.JobsCreated[k] = n
	}
	for k, v := range r.s.Routes {
		m := make(map[string]int64, len(v))
		for code, n := range v {
			m[code] = n
		}
		out.Routes[k] = m
	}
	return out
}

// recordingWriter remembers the status a handler sent and whether a 401
// carried a digest challenge.
type recordingWriter struct {
	http.ResponseWriter
	status     int
	challenged bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.challenged = code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") != ""
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) finalStatus() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection, which the
// dropped-connection fault needs.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack is kept for the same reason, for callers that type-assert.
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
