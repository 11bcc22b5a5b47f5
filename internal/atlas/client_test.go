// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDigestColdStartSharesOneChallenge(t *testing.T) {
	as := newAuthServer(t, jsonHandler(200, jobJSON))
	_, c := as.start()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("request failed: %v", err)
		}
	}
	if got := as.challenges.Load(); got != 1 {
		t.Errorf("challenges issued = %d, want 1", got)
	}
	if got := as.requests.Load(); got != n+1 {
		t.Errorf("requests = %d, want %d (one probe, then one each)", got, n+1)
	}
	if got := c.DigestChallenges(); got != 1 {
		t.Errorf("client counted %d challenges, want 1", got)
	}
}

func TestDigestWrongKeysFailFast(t *testing.T) {
	as := newAuthServer(t, jsonHandler(200, jobJSON))
	srv := httptest.NewServer(as)
	defer srv.Close()
	c := testClient(t, srv.URL, testUser, "wrong-private-key")
	_, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1")
	var ae *Error
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.ErrorCode != "USER_UNAUTHORIZED" {
		t.Fatalf("err = %v, want a 401 USER_UNAUTHORIZED *Error", err)
	}
	if got := as.requests.Load(); got != 4 {
		t.Errorf("round trips = %d, want 4 (probe, signed, then two fresh challenges)", got)
	}
	if strings.Contains(err.Error(), "wrong-private-key") {
		t.Errorf("error text holds the private key: %v", err)
	}
}

func TestDigestRenewsStaleNonce(t *testing.T) {
	as := newAuthServer(t, jsonHandler(200, jobJSON))
	as.nonceUses = 3
	_, c := as.start()
	for i := range 10 {
		if _, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	// 10 calls, 3 per nonce: the first challenge plus 3 renewals.
	if got := as.challenges.Load(); got != 4 {
		t.Errorf("challenges = %d, want 4", got)
	}
}

func TestDigestStrictNonceCountsUnderParallelLoad(t *testing.T) {
	as := newAuthServer(t, jsonHandler(200, jobJSON))
	as.strict = true
	_, c := as.start()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if _, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1"); err != nil {
					failed.Add(1)
					t.Errorf("spurious failure: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d callers saw an error", failed.Load())
	}
	t.Logf("requests %d, rejected by the strict server and retried %d", as.requests.Load(), as.rejected.Load())
}

func TestDigestNeverSentToAnotherHost(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
		fmt.Fprint(w, jobJSON)
	}))
	defer other.Close()
	as := newAuthServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	_, c := as.start()
	_, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1")
	if err == nil || !strings.Contains(err.Error(), "redirect to another host") {
		t.Fatalf("err = %v, want a refused cross-host redirect", err)
	}
	if leaked.Load() {
		t.Fatal("credentials were sent to another host")
	}
}

func TestErrorDecoding(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   string
		wantDetail string
	}{
		{"atlas body", 404, `{"detail":"No cluster named Nope exists in group 6568a1b2c3d4e5f601234567.","error":404,"errorCode":"CLUSTER_NOT_FOUND","parameters":["Nope"],"reason":"Not Found"}`, "CLUSTER_NOT_FOUND", "No cluster named Nope"},
		{"conflict", 409, `{"error":409,"errorCode":"CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT","detail":"Snapshot is not complete."}`, "CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT", "not complete"},
		{"missing fields", 400, `{"error":400}`, "", ""},
		{"html", 502, `<html><body>Bad gateway</body></html>`, "", "unexpected response body"},
		{"empty", 404, ``, "", ""},
		{"leaks url", 400, `oops https://files.example/x.tar.gz?token=abcdef123`, "", "?[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newAuthServer(t, jsonHandler(tt.status, tt.body))
			_, c := as.start()
			// POST is not retried on 4xx, and on 5xx the job lookup answers the same error.
			_, err := c.GetSnapshot(context.Background(), testCluster, "6568a1b2c3d4e5f6000000a1")
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ae.StatusCode != tt.status || ae.ErrorCode != tt.wantCode || !strings.Contains(ae.Detail, tt.wantDetail) {
				t.Errorf("got status %d code %q detail %q", ae.StatusCode, ae.ErrorCode, ae.Detail)
			}
			if strings.Contains(err.Error(), "abcdef123") {
				t.Errorf("error leaks a URL token: %v", err)
			}
		})
	}
}

func TestSuccessBodyMustBeJSON(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"html", "<html>maintenance</html>", `"<html>maintenance</html>"`},
		{"truncated", `{"id":"6568a1b2c3d4e5f6000000b1","snapshotUrl":"https://x.example/a?token=s3cret`, "?[redacted]"},
		{"empty", ``, "not the expected JSON"},
		{"bad id", `{"id":"NOT-AN-ID"}`, "not 24 lowercase hex"},
		{"bad date", `{"id":"6568a1b2c3d4e5f6000000b1","expirationDate":"28/11/2026"}`, "not an RFC 3339 date"},
		{"trailing", `{"id":"6568a1b2c3d4e5f6000000b1"} {}`, "trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newAuthServer(t, jsonHandler(200, tt.body))
			_, c := as.start()
			_, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks a URL token: %v", err)
			}
		})
	}
}

func TestUnknownFieldsIgnored(t *testing.T) {
	as := newAuthServer(t, jsonHandler(200, jobJSON))
	_, c := as.start()
	job, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1")
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != "COMPLETED" || job.ExpirationDate != "2026-11-28T16:00:00Z" || job.ClusterName != "Cluster0" {
		t.Errorf("decoded %+v", job)
	}
}

// sequence answers each request with the next of its responses, repeating
// the last.
type sequence struct {
	mu    sync.Mutex
	steps []func(w http.ResponseWriter, r *http.Request)
	calls []string
}

func (s *sequence) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	step := s.steps[0]
	if len(s.steps) > 1 {
		s.steps = s.steps[1:]
	}
	s.mu.Unlock()
	step(w, r)
}

func status(code int, headers ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":%d,"errorCode":"E%d","detail":"injected"}`, code, code)
	}
}

func body(s string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, s) }
}

// hangUp reads the request and closes the connection without an answer.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func recordingClient(t *testing.T, url string, sleeps *[]time.Duration) *Client {
	t.Helper()
	var mu sync.Mutex
	c, err := New(Config{
		BaseURL: url, PublicKey: testUser, PrivateKey: testPass,
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			*sleeps = append(*sleeps, d)
			mu.Unlock()
			return ctx.Err()
		},
		Jitter: func() float64 { return 0 },
		Retry:  RetryPolicy{MaxAttempts: 5, MinDelay: 100 * time.Millisecond, MaxDelay: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGetRetries(t *testing.T) {
	tests := []struct {
		name      string
		steps     []func(http.ResponseWriter, *http.Request)
		wantErr   string
		wantCalls int
		minSleep  time.Duration
	}{
		{"429 with Retry-After", []func(http.ResponseWriter, *http.Request){status(429, "Retry-After", "7"), body(jobJSON)}, "", 2, 7 * time.Second},
		{"503 then 502 then 504", []func(http.ResponseWriter, *http.Request){status(503), status(502), status(504), body(jobJSON)}, "", 4, 0},
		{"dropped connection", []func(http.ResponseWriter, *http.Request){hangUp, body(jobJSON)}, "", 2, 0},
		{"500 is retried: a read changes nothing", []func(http.ResponseWriter, *http.Request){status(500), body(jobJSON)}, "", 2, 0},
		{"404 is not retried", []func(http.ResponseWriter, *http.Request){status(404), body(jobJSON)}, "HTTP 404", 1, 0},
		{"gives up after max attempts", []func(http.ResponseWriter, *http.Request){status(503)}, "HTTP 503", 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq := &sequence{steps: tt.steps}
			as := newAuthServer(t, seq)
			srv := httptest.NewServer(as)
			defer srv.Close()
			var sleeps []time.Duration
			c := recordingClient(t, srv.URL, &sleeps)
			_, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1")
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if len(seq.calls) != tt.wantCalls {
				t.Errorf("calls = %d, want %d", len(seq.calls), tt.wantCalls)
			}
			// net/http itself resends a GET whose reused connection dropped,
			// so that case may pass without a wait of ours.
			if len(sleeps) != tt.wantCalls-1 && tt.wantErr == "" && tt.name != "dropped connection" {
				t.Errorf("sleeps = %v, want %d", sleeps, tt.wantCalls-1)
			}
			if tt.minSleep > 0 && (len(sleeps) == 0 || sleeps[0] < tt.minSleep) {
				t.Errorf("sleeps = %v, want the first >= %s", sleeps, tt.minSleep)
			}
			for i := 1; i < len(sleeps); i++ {
				if sleeps[i] < sleeps[i-1] {
					t.Errorf("backoff shrank: %v", sleeps)
				}
			}
		})
	}
}

func TestRetryHonoursContextDeadline(t *testing.T) {
	seq := &sequence{steps: []func(http.ResponseWriter, *http.Request){status(429, "Retry-After", "3600")}}
	as := newAuthServer(t, seq)
	srv := httptest.NewServer(as)
	defer srv.Close()
	var sleeps []time.Duration
	c := recordingClient(t, srv.URL, &sleeps)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.GetRestoreJob(ctx, testCluster, "6568a1b2c3d4e5f6000000b1")
	if err == nil || !strings.Contains(err.Error(), "no time left") {
		t.Fatalf("err = %v, want a give-up before the deadline", err)
	}
	if len(sleeps) != 0 {
		t.Errorf("slept %v past the deadline", sleeps)
	}
}

// downloadServer answers the download POSTs with its steps in turn, and
// keeps a job list, so the client's recovery can look for its job. A step
// is "ok"; "drop" (act, then hang up); a status such as "500" or "503"
// (act, then answer it); "429" (refused, nothing done); "noact" before any
// of these (nothing done, same answer); or "limit" / "limit-concurrent"
// (400 download limits, nothing done), with "+ra" for a Retry-After of 40s.
// After the last step, "ok". List answers follow listSteps ("ok", "empty"
// as if the jobs were not listed yet, a status, or "block": wait until the
// client gives up), the last repeating.
type downloadServer struct {
	mu        sync.Mutex
	posts     int
	lists     int
	jobs      []RestoreJob
	steps     []string
	listSteps []string
	// now is the server clock (nil: the real one); dates come from it.
	now func() time.Time
	// onPost and onList, when set, run before each answer, unlocked.
	onPost, onList func(n int)
}

func (d *downloadServer) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

// addJob records a download job of snapshotID scheduled at (server clock).
func (d *downloadServer) addJob(snapshotID string, at time.Time) RestoreJob {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.addJobLocked(snapshotID, at)
}

// testJobIDs numbers the jobs of every downloadServer in the test binary.
// Atlas never reuses a job id, and the client's record of claimed jobs is
// the process's: a server given an earlier one's port must not list a job
// under an id the record holds as claimed.
var testJobIDs atomic.Uint32

func (d *downloadServer) addJobLocked(snapshotID string, at time.Time) RestoreJob {
	j := RestoreJob{
		ID: fmt.Sprintf("6568a1b2c3d4e5f6%08x", testJobIDs.Add(1)), SnapshotID: snapshotID,
		DeliveryType: "DOWNLOAD", Status: "COMPLETED", SnapshotURL: "https://example.invalid/x.tar.gz?token=secret",
		RestoreScheduledDate: at.UTC().Format(time.RFC3339),
	}
	d.jobs = append(d.jobs, j)
	return j
}

func (d *downloadServer) jobIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for _, j := range d.jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

func (d *downloadServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Date", d.clock().UTC().Format(http.TimeFormat))
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/download"):
		var in struct {
			SnapshotID string `json:"snapshotId"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		d.mu.Lock()
		step := "ok"
		if d.posts < len(d.steps) {
			step = d.steps[d.posts]
		}
		d.posts++
		n := d.posts
		act := true
		if rest, ok := strings.CutPrefix(step, "noact"); ok {
			step, act = rest, false
		}
		if step == "429" || strings.HasPrefix(step, "limit") {
			act = false // refused before any work
		}
		var last []byte
		if act {
			j := d.addJobLocked(in.SnapshotID, d.clock())
			last, _ = json.Marshal(j)
		}
		d.mu.Unlock()
		if d.onPost != nil {
			d.onPost(n)
		}
		switch step {
		case "ok":
			if last == nil {
				panic("an ok step that did not act")
			}
			_, _ = w.Write(last)
		case "drop":
			hangUp(w, r)
		case "limit", "limit+ra", "limit-concurrent", "limit-concurrent+ra":
			if strings.HasSuffix(step, "+ra") {
				w.Header().Set("Retry-After", "40")
			}
			code := "TOO_MANY_SNAPSHOT_DOWNLOADS"
			if strings.HasPrefix(step, "limit-concurrent") {
				code = "CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY"
			}
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":400,"errorCode":%q,"detail":"limits reached"}`, code)
		default:
			code := 0
			if _, err := fmt.Sscan(step, &code); err != nil {
				panic("bad step " + step)
			}
			status(code)(w, r)
		}
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/restores"):
		d.mu.Lock()
		step := "ok"
		if len(d.listSteps) > 0 {
			step = d.listSteps[min(d.lists, len(d.listSteps)-1)]
		}
		d.lists++
		n := d.lists
		d.mu.Unlock()
		if d.onList != nil {
			d.onList(n)
		}
		switch step {
		case "empty": // a list that does not show the jobs yet
			b, _ := json.Marshal(Page[RestoreJob]{Results: []RestoreJob{}})
			_, _ = w.Write(b)
		case "ok":
			d.mu.Lock()
			b, _ := json.Marshal(Page[RestoreJob]{Results: d.jobs})
			d.mu.Unlock()
			_, _ = w.Write(b)
		case "block":
			<-r.Context().Done()
		default:
			code := 0
			if _, err := fmt.Sscan(step, &code); err != nil {
				panic("bad list step " + step)
			}
			status(code)(w, r)
		}
	default:
		w.WriteHeader(404)
	}
}

func TestDownloadPostIsNeverDuplicated(t *testing.T) {
	tests := []struct {
		name      string
		steps     []string
		wantPosts int
		wantJobs  int
		wantLists int
	}{
		{"plain success", nil, 1, 1, 0},
		{"429 is retried at once", []string{"429"}, 2, 1, 0},
		{"500 after acting: found, not repeated", []string{"500"}, 1, 1, 1},
		{"503 after acting: found, not repeated", []string{"503"}, 1, 1, 1},
		{"dropped after acting: found, not repeated", []string{"drop"}, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := &downloadServer{steps: tt.steps}
			as := newAuthServer(t, ds)
			srv := httptest.NewServer(as)
			defer srv.Close()
			var sleeps []time.Duration
			c := recordingClient(t, srv.URL, &sleeps)
			job, err := c.RequestDownload(context.Background(), testCluster, "6568a1b2c3d4e5f6000000a1")
			if err != nil {
				t.Fatalf("RequestDownload: %v", err)
			}
			if ds.posts != tt.wantPosts || len(ds.jobs) != tt.wantJobs || ds.lists != tt.wantLists {
				t.Errorf("posts %d jobs %d lists %d, want %d %d %d", ds.posts, len(ds.jobs), ds.lists, tt.wantPosts, tt.wantJobs, tt.wantLists)
			}
			if job.ID != ds.jobs[len(ds.jobs)-1].ID {
				t.Errorf("got job %s, want the one the server made (%s)", job.ID, ds.jobs[len(ds.jobs)-1].ID)
			}
		})
	}
}

func TestDownloadPostRetriedWhenServerDidNotAct(t *testing.T) {
	// A 503 that did nothing: the job list is empty, so the POST is sent again.
	var posts atomic.Int64
	var jobs []RestoreJob
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodGet {
			b, _ := json.Marshal(Page[RestoreJob]{Results: jobs})
			_, _ = w.Write(b)
			return
		}
		if posts.Add(1) == 1 {
			status(503)(w, r)
			return
		}
		jobs = append(jobs, RestoreJob{ID: "6568a1b2c3d4e5f6000000b9", SnapshotID: "6568a1b2c3d4e5f6000000a1", Status: "QUEUED"})
		b, _ := json.Marshal(jobs[0])
		_, _ = w.Write(b)
	})
	as := newAuthServer(t, h)
	srv := httptest.NewServer(as)
	defer srv.Close()
	var sleeps []time.Duration
	c := recordingClient(t, srv.URL, &sleeps)
	job, err := c.RequestDownload(context.Background(), testCluster, "6568a1b2c3d4e5f6000000a1")
	if err != nil || job.ID != "6568a1b2c3d4e5f6000000b9" {
		t.Fatalf("job %v err %v", job, err)
	}
	if posts.Load() != 2 {
		t.Errorf("posts = %d, want 2", posts.Load())
	}
}

func TestDownloadPostNotRetriedOnRefusal(t *testing.T) {
	seq := &sequence{steps: []func(http.ResponseWriter, *http.Request){status(409)}}
	as := newAuthServer(t, seq)
	srv := httptest.NewServer(as)
	defer srv.Close()
	var sleeps []time.Duration
	c := recordingClient(t, srv.URL, &sleeps)
	_, err := c.RequestDownload(context.Background(), testCluster, "6568a1b2c3d4e5f6000000a1")
	if !HasErrorCode(err, "E409") || len(seq.calls) != 1 {
		t.Fatalf("err %v calls %v", err, seq.calls)
	}
}

func TestConnectionRefusedIsRetriedForPost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	var sleeps []time.Duration
	c := recordingClient(t, "http://"+addr, &sleeps)
	_, err = c.RequestDownload(context.Background(), testCluster, "6568a1b2c3d4e5f6000000a1")
	if err == nil {
		t.Fatal("want an error")
	}
	if len(sleeps) != 4 {
		t.Errorf("sleeps = %d, want 4 (5 attempts, all refused)", len(sleeps))
	}
	if strings.Contains(err.Error(), "http://") {
		t.Errorf("error repeats the URL: %v", err)
	}
}

func TestPaginationFollowsNextLinks(t *testing.T) {
	var pages []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		pages = append(pages, q.Get("pageNum")+"/"+q.Get("itemsPerPage"))
		n := q.Get("pageNum")
		p := Page[Snapshot]{Results: []Snapshot{{ID: fmt.Sprintf("6568a1b2c3d4e5f6000000%s%s", "0", n)}}}
		if n != "3" {
			p.Links = []Link{{Rel: "next", Href: "http://x/next"}}
		}
		b, _ := json.Marshal(p)
		_, _ = w.Write(b)
	})
	as := newAuthServer(t, h)
	_, c := as.start()
	snaps, err := c.AllSnapshots(context.Background(), testCluster)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 3 || strings.Join(pages, ",") != "1/500,2/500,3/500" {
		t.Errorf("snaps %d pages %v", len(snaps), pages)
	}
}

func TestPathElementsAreEscaped(t *testing.T) {
	var got string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath()
		fmt.Fprint(w, jobJSON)
	})
	as := newAuthServer(t, h)
	_, c := as.start()
	cl := Cluster{Family: TenantV1, ProjectID: "../../x", Name: "a/b?c#d"}
	_, _ = c.GetRestoreJob(context.Background(), cl, "..")
	want := "/api/atlas/v1.0/groups/..%2F..%2Fx/clusters/a%2Fb%3Fc%23d/backup/tenant/restores/%2E%2E"
	if got != want {
		t.Errorf("path = %s, want %s", got, want)
	}
}

func TestResponseSizeLimit(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"results":[`))
		_, _ = io.Copy(w, io.LimitReader(infinite{}, maxResponseBytes+10))
	})
	as := newAuthServer(t, h)
	_, c := as.start()
	_, err := c.ListSnapshots(context.Background(), testCluster, ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "refusing to read it") {
		t.Fatalf("err = %v", err)
	}
}

type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestRequestHeaders(t *testing.T) {
	var accept, ctype, ua string
	var bodyText string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accept, ctype, ua = r.Header.Get("Accept"), r.Header.Get("Content-Type"), r.Header.Get("User-Agent")
		b, _ := io.ReadAll(r.Body)
		bodyText = string(b)
		fmt.Fprint(w, jobJSON)
	})
	as := newAuthServer(t, h)
	srv := httptest.NewServer(as)
	defer srv.Close()
	c, _ := New(Config{BaseURL: srv.URL, PublicKey: testUser, PrivateKey: testPass, UserAgent: "terraform-provider-atlas/1.2.3"})
	if _, err := c.RequestDownload(context.Background(), Cluster{Family: Flex, ProjectID: "6568a1b2c3d4e5f601234567", Name: "f1"}, "6568a1b2c3d4e5f6000000a1"); err != nil {
		t.Fatal(err)
	}
	if accept != "application/vnd.atlas.2024-11-13+json" || ctype != accept || ua != "terraform-provider-atlas/1.2.3" {
		t.Errorf("accept %q content-type %q user-agent %q", accept, ctype, ua)
	}
	if bodyText != `{"snapshotId":"6568a1b2c3d4e5f6000000a1"}` {
		t.Errorf("body %s", bodyText)
	}
}

func TestRetriesAreLogged(t *testing.T) {
	seq := &sequence{steps: []func(http.ResponseWriter, *http.Request){status(429, "Retry-After", "2"), status(503), body(jobJSON)}}
	as := newAuthServer(t, seq)
	srv := httptest.NewServer(as)
	defer srv.Close()
	type entry struct {
		msg    string
		fields map[string]any
	}
	var logged []entry
	c, err := New(Config{
		BaseURL: srv.URL, PublicKey: testUser, PrivateKey: testPass,
		Sleep:  func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		Jitter: func() float64 { return 0 },
		Log: func(_ context.Context, msg string, fields map[string]any) {
			logged = append(logged, entry{msg, fields})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1"); err != nil {
		t.Fatal(err)
	}
	if len(logged) != 2 {
		t.Fatalf("logged %d entries, want one per retry (2): %+v", len(logged), logged)
	}
	for i, want := range []struct {
		attempt int
		status  string
		delay   string
	}{{1, "HTTP 429 E429", "2s"}, {2, "HTTP 503 E503", "500ms"}} {
		f := logged[i].fields
		if logged[i].msg != "retrying atlas request" || f["attempt"] != want.attempt || f["error"] != want.status || f["delay"] != want.delay {
			t.Errorf("entry %d = %q %v, want attempt %d, %s, delay %s", i, logged[i].msg, f, want.attempt, want.status, want.delay)
		}
		for _, v := range f {
			if strings.Contains(fmt.Sprint(v), testPass) {
				t.Errorf("entry %d holds the private key", i)
			}
		}
	}
}

// reusedKey marks, in a request's context, that its connection carried an
// earlier request.
type reusedKey struct{}

// startHangUpServer serves as in front of handler, closing without an
// answer hangUps requests (-1: all) that pass the digest check on a
// reused keep-alive connection, so that net/http sends each again with the
// same Authorization.
func startHangUpServer(t *testing.T, hangUps int) (*authServer, *Client) {
	t.Helper()
	left := atomic.Int64{}
	left.Store(int64(hangUps))
	as := newAuthServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(reusedKey{}) == true && (hangUps < 0 || left.Add(-1) >= 0) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			_ = conn.Close()
			return
		}
		jsonHandler(200, jobJSON)(w, r)
	}))
	type served struct{ n atomic.Int64 }
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reused := r.Context().Value(served{}).(*served).n.Add(1) > 1
		as.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reusedKey{}, reused)))
	}))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, served{}, &served{})
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return as, testClient(t, srv.URL, testUser, testPass)
}

func TestDigestResentCopyIsNoRefusal(t *testing.T) {
	as, c := startHangUpServer(t, 3)
	if _, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1"); err != nil {
		t.Fatalf("GetRestoreJob: %v", err)
	}
	// Each hang-up made net/http send the request again, and the server
	// refused every copy for its spent nonce count.
	if got := as.rejected.Load(); got != 3 {
		t.Errorf("server refused %d resent copies, want 3", got)
	}
}

func TestDigestResendsAreBounded(t *testing.T) {
	as, c := startHangUpServer(t, -1)
	_, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1")
	var ae *Error
	if errors.As(err, &ae) {
		t.Fatalf("err = %v, want no key refusal: only the connection failed", err)
	}
	if !errors.Is(err, errResentTooOften) || !Unreachable(err) {
		t.Fatalf("err = %v, want errResentTooOften as a transport failure", err)
	}
	// Per attempt: the cached challenge's hang-up and resend, then
	// maxReplays+1 fresh challenges, each hung up on and resent.
	perAttempt := int64(2 * (maxReplays + 2))
	if got, most := as.requests.Load(), 1+int64(c.retry.MaxAttempts)*perAttempt; got > most {
		t.Errorf("server saw %d requests, want at most %d", got, most)
	}
}
