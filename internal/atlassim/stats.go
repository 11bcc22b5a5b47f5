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
type Stats struct {
	TotalRequests    int64                       `json:"totalRequests"`
	DigestChallenges int64                       `json:"digestChallenges"`
	Routes           map[string]map[string]int64 `json:"routes"`
}

type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func newStatsRecorder() *statsRecorder {
	return &statsRecorder{s: Stats{Routes: map[string]map[string]int64{}}}
}

func (r *statsRecorder) record(routeKey string, status int, challenged bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.TotalRequests++
	if challenged {
		r.s.DigestChallenges++
	}
	byStatus := r.s.Routes[routeKey]
	if byStatus == nil {
		byStatus = map[string]int64{}
		r.s.Routes[routeKey] = byStatus
	}
	byStatus[strconv.Itoa(status)]++
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Stats{
		TotalRequests:    r.s.TotalRequests,
		DigestChallenges: r.s.DigestChallenges,
		Routes:           make(map[string]map[string]int64, len(r.s.Routes)),
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

// Unwrap lets http.ResponseController reach the connection, which a
// dropped-connection fault will need.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack is kept for the same reason, for callers that type-assert.
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
