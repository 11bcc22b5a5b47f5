// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	tenantV2Base = "/api/atlas/v2/groups/" + DefaultProjectID + "/clusters/" + DefaultClusterName + "/backup/tenant"
	flexBase     = "/api/atlas/v2/groups/" + DefaultProjectID + "/flexClusters/" + DefaultFlexClusterName + "/backup"
)

func TestDateHeaderFollowsClock(t *testing.T) {
	env := newSimEnv(t, Config{})
	c := env.client()
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	snapURL := job["snapshotUrl"].(string)
	cases := []struct {
		name string
		do   func() *http.Response
	}{
		{"api answer", func() *http.Response { r, _ := c.do(http.MethodGet, tenantBase+"/snapshots", ""); return r }},
		{"api error", func() *http.Response {
			r, _ := c.do(http.MethodGet, tenantBase+"/restores/"+DefaultSnapshotID, "")
			return r
		}},
		{"401 challenge", func() *http.Response { r, _ := env.plain(http.MethodGet, tenantBase+"/snapshots", ""); return r }},
		{"download", func() *http.Response { r, _ := send(t, env.srv.Client(), http.MethodGet, snapURL, "", ""); return r }},
		{"no route", func() *http.Response { r, _ := env.plain(http.MethodGet, "/nowhere", ""); return r }},
		{"stats", func() *http.Response { r, _ := env.plain(http.MethodGet, "/__sim/stats", ""); return r }},
	}
	for _, advance := range []time.Duration{0, 36*time.Hour + 17*time.Second} {
		env.clock.Advance(advance)
		want := env.clock.Now().UTC().Format(http.TimeFormat)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s+%s", tc.name, advance), func(t *testing.T) {
				if got := tc.do().Header.Get("Date"); got != want {
					t.Errorf("Date %q, want %q", got, want)
				}
			})
		}
	}
}

func TestRateLimit(t *testing.T) {
	cases := []struct {
		name, base string
		hdr        []string
		code       string
	}{
		{"v1.0", tenantBase, nil, codeRateLimited},
		{"tenant v2", tenantV2Base, []string{"Accept", mediaTypeTenantV2}, codeRateLimitedTokenBucket},
		{"flex", flexBase, []string{"Accept", mediaTypeFlex}, codeRateLimitedTokenBucket},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newSimEnv(t, Config{Faults: Faults{RateLimitCapacity: 3, RateLimitRefill: 1, RateLimitPeriod: 10 * time.Second}})
			c := env.client(tc.hdr...)
			steps := []struct {
				advance    time.Duration
				status     int
				remaining  string
				retryAfter string
			}{
				{0, 200, "2", ""}, {0, 200, "1", ""}, {0, 200, "0", ""},
				{0, 429, "0", "10"},
				{9 * time.Second, 429, "0", "1"},
				{time.Second, 200, "0", ""},
				{25 * time.Second, 200, "1", ""}, // two periods: two tokens, one taken
				{time.Hour, 200, "2", ""},        // never above the capacity
			}
			for i, st := range steps {
				env.clock.Advance(st.advance)
				resp, data := c.do(http.MethodGet, tc.base+"/snapshots", "")
				if resp.StatusCode != st.status {
					t.Fatalf("step %d: status %d, want %d: %s", i, resp.StatusCode, st.status, data)
				}
				if st.status == 429 {
					apiErrorBody(t, resp, data, 429, tc.code)
				}
				h := resp.Header
				if h.Get("RateLimit-Limit") != "3" || h.Get("RateLimit-Remaining") != st.remaining || h.Get("Retry-After") != st.retryAfter {
					t.Errorf("step %d: RateLimit-Limit %q, RateLimit-Remaining %q, Retry-After %q; want 3, %s, %q",
						i, h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("Retry-After"), st.remaining, st.retryAfter)
				}
			}
			if got := env.sim.Stats().Faults.RateLimited; got != 2 {
				t.Errorf("faults.rateLimited = %d, want 2", got)
			}
		})
	}
}

func TestRateLimitIsPerProjectAndAPIOnly(t *testing.T) {
	env := newSimEnv(t, Config{})
	c := env.client()
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	if err := env.sim.SetFaults(Faults{RateLimitCapacity: 1}); err != nil {
		t.Fatal(err)
	}
	c.getJSON(http.MethodGet, tenantBase+"/snapshots", "", http.StatusOK)
	resp, data := c.do(http.MethodGet, tenantBase+"/snapshots", "")
	apiErrorBody(t, resp, data, http.StatusTooManyRequests, codeRateLimited)

	other := "/api/atlas/v1.0/groups/" + DefaultSecondProjectID + "/clusters/" + DefaultSecondProjectClusterName + "/backup/tenant/snapshots"
	if resp, data := c.do(http.MethodGet, other, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("another project: status %d: %s", resp.StatusCode, data)
	}
	if resp, _ := send(t, env.srv.Client(), http.MethodGet, job["snapshotUrl"].(string), "", ""); resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit-Limit") != "" {
		t.Errorf("download link: status %d, RateLimit-Limit %q", resp.StatusCode, resp.Header.Get("RateLimit-Limit"))
	}
	if resp, _ := env.plain(http.MethodGet, "/__sim/stats", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("stats: status %d", resp.StatusCode)
	}
	// A 401 costs no token but shows the bucket.
	resp, _ = env.plain(http.MethodGet, tenantBase+"/snapshots", "")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("401: status %d, RateLimit-Remaining %q", resp.StatusCode, resp.Header.Get("RateLimit-Remaining"))
	}
}

func TestInjected5xx(t *testing.T) {
	cases := []struct {
		name       string
		faults     Faults
		status     int
		code       string
		retryAfter string
	}{
		{"default 503", Faults{ErrorRate: 1}, 503, codeServiceUnavailable, ""},
		{"503 with Retry-After", Faults{ErrorRate: 1, ErrorRetryAfter: 1500 * time.Millisecond}, 503, codeServiceUnavailable, "2"},
		{"500", Faults{ErrorRate: 1, ErrorStatus: 500, ErrorRetryAfter: time.Second}, 500, codeUnexpectedError, ""},
		{"502", Faults{ErrorRate: 1, ErrorStatus: 502}, 502, codeUnexpectedError, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newSimEnv(t, Config{})
			c := env.client()
			job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
			if err := env.sim.SetFaults(tc.faults); err != nil {
				t.Fatal(err)
			}
			resp, data := c.do(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID))
			apiErrorBody(t, resp, data, tc.status, tc.code)
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if n := len(env.sim.Jobs()); n != 1 {
				t.Errorf("%d jobs after an injected 5xx, want 1 (the request must not be acted on)", n)
			}
			if resp, _ := send(t, env.srv.Client(), http.MethodGet, job["snapshotUrl"].(string), "", ""); resp.StatusCode != http.StatusOK {
				t.Errorf("download link: status %d, want 200 (not an API path)", resp.StatusCode)
			}
			st := env.sim.Stats()
			if st.Faults.Injected5xx != 1 || st.JobsCreated[DefaultProjectID+"/"+DefaultClusterName] != 1 {
				t.Errorf("stats faults %+v, jobsCreated %v", st.Faults, st.JobsCreated)
			}
		})
	}
}

// outcomes sends n requests and returns their statuses as a string.
func outcomes(t *testing.T, faults Faults, n int) string {
	env := newSimEnv(t, Config{Faults: faults})
	c := env.client()
	var b strings.Builder
	for range n {
		resp, _ := c.do(http.MethodGet, tenantBase+"/snapshots", "")
		if resp.StatusCode == http.StatusOK {
			b.WriteByte('.')
		} else {
			b.WriteByte('x')
		}
	}
	return b.String()
}

func TestFaultSharesAreSeeded(t *testing.T) {
	a := outcomes(t, Faults{ErrorRate: 0.5, RandSeed: 7}, 40)
	b := outcomes(t, Faults{ErrorRate: 0.5, RandSeed: 7}, 40)
	c := outcomes(t, Faults{ErrorRate: 0.5, RandSeed: 8}, 40)
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same faults: %s", a)
	}
	if n := strings.Count(a, "x"); n < 8 || n > 32 {
		t.Errorf("%d of 40 failed at a share of 0.5: %s", n, a)
	}
}

func TestLatencyUsesSleepHook(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return nil
	}
	env := newSimEnv(t, Config{Sleep: sleep, Faults: Faults{Latency: 250 * time.Millisecond}})
	c := env.client()
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK) // 401, then 200
	send(t, env.srv.Client(), http.MethodGet, job["snapshotUrl"].(string), "", "")
	env.plain(http.MethodGet, "/__sim/stats", "") // no latency here
	mu.Lock()
	got := fmt.Sprint(waits)
	mu.Unlock()
	if want := "[250ms 250ms 250ms]"; got != want {
		t.Errorf("waits %s, want %s", got, want)
	}

	// A wait that fails (the client went away) leaves the request unhandled.
	env = newSimEnv(t, Config{Sleep: func(context.Context, time.Duration) error { return context.Canceled },
		Faults: Faults{Latency: time.Second}})
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(env.srv.URL + tenantBase + "/snapshots")
	if err == nil {
		resp.Body.Close()
		t.Errorf("an abandoned request was answered: %d %v", resp.StatusCode, resp.Header)
	}
	if n := env.sim.Stats().TotalRequests; n != 0 {
		t.Errorf("an abandoned request was counted: %d", n)
	}
}

func TestSleepTimer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepTimer(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepTimer on a canceled context = %v", err)
	}
	if err := sleepTimer(context.Background(), 0); err != nil {
		t.Errorf("sleepTimer(0) = %v", err)
	}
}

func TestDropConnectionAfterWork(t *testing.T) {
	env := newSimEnv(t, Config{Faults: Faults{DropRate: 1}})
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(hc.CloseIdleConnections)
	const uri = tenantBase + "/download"
	c := &digestClient{t: t, base: env.srv.URL, hc: hc, user: DefaultPublicKey, pass: DefaultPrivateKey}
	nonce := c.fetchNonce(http.MethodPost, uri) // the 401 is not dropped
	req, err := http.NewRequest(http.MethodPost, env.srv.URL+uri, strings.NewReader(downloadBody(DefaultSnapshotID)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", digestAuthorization(DefaultPublicKey, DefaultPrivateKey, http.MethodPost, uri, nonce, 1, "abc"))
	resp, err := hc.Do(req)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("got an answer, want a dropped connection: %d %s", resp.StatusCode, body)
	}
	jobs := env.sim.Jobs()
	if len(jobs) != 1 || jobs[0].SnapshotID != DefaultSnapshotID {
		t.Errorf("jobs %+v, want the one the dropped request created", jobs)
	}
	st := env.sim.Stats()
	key := "POST " + tenantV1.prefix + "/download"
	if st.Faults.Dropped != 1 || st.Routes[key]["200"] != 1 || st.JobsCreated[DefaultProjectID+"/"+DefaultClusterName] != 1 {
		t.Errorf("stats %+v", st)
	}
	// Stats and download links are never dropped.
	if resp, _ := env.plain(http.MethodGet, "/__sim/stats", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("stats: %d", resp.StatusCode)
	}
}

func TestNonceLifetime(t *testing.T) {
	env := newSimEnv(t, Config{Faults: Faults{NonceLifetime: time.Minute}})
	const uri = tenantBase + "/snapshots"
	get := func(pass, nonce string, nc uint32) *http.Response {
		resp, _ := send(t, env.srv.Client(), http.MethodGet, env.srv.URL+uri, "",
			digestAuthorization(DefaultPublicKey, pass, http.MethodGet, uri, nonce, nc, "abc"))
		return resp
	}
	nonce := challengeNonce(t, mustStatus(t, env, http.StatusUnauthorized))
	steps := []struct {
		advance time.Duration
		pass    string
		status  int
		stale   string
	}{
		{30 * time.Second, DefaultPrivateKey, 200, ""},
		{30 * time.Second, DefaultPrivateKey, 200, ""}, // exactly the lifetime: still good
		{time.Second, "wrong", 401, "stale=false"},     // a bad digest is never stale
		{0, DefaultPrivateKey, 401, "stale=true"},
		{0, DefaultPrivateKey, 401, "stale=false"}, // a stale nonce is forgotten
	}
	for i, st := range steps {
		env.clock.Advance(st.advance)
		resp := get(st.pass, nonce, uint32(i+1))
		if resp.StatusCode != st.status || !strings.HasSuffix(resp.Header.Get("WWW-Authenticate"), st.stale) {
			t.Fatalf("step %d: %d %q, want %d %s", i, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), st.status, st.stale)
		}
		if st.stale == "stale=true" {
			fresh := challengeNonce(t, resp)
			if r := get(DefaultPrivateKey, fresh, 1); r.StatusCode != http.StatusOK {
				t.Errorf("the fresh nonce from a stale answer: %d", r.StatusCode)
			}
		}
	}
	if got := env.sim.Stats().Faults.StaleNonce; got != 1 {
		t.Errorf("faults.staleNonce = %d, want 1", got)
	}
}

func TestStrictNonceCount(t *testing.T) {
	cases := []struct {
		strict bool
		want   []int // statuses for nc 1, 3, 2, 3, 4
	}{
		{false, []int{200, 200, 200, 401, 200}},
		{true, []int{200, 200, 401, 401, 200}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint("strict=", tc.strict), func(t *testing.T) {
			env := newSimEnv(t, Config{Faults: Faults{StrictNonceCount: tc.strict}})
			const uri = tenantBase + "/snapshots"
			nonce := challengeNonce(t, mustStatus(t, env, http.StatusUnauthorized))
			for i, nc := range []uint32{1, 3, 2, 3, 4} {
				resp, _ := send(t, env.srv.Client(), http.MethodGet, env.srv.URL+uri, "",
					digestAuthorization(DefaultPublicKey, DefaultPrivateKey, http.MethodGet, uri, nonce, nc, "abc"))
				if resp.StatusCode != tc.want[i] {
					t.Errorf("nc %d: status %d, want %d", nc, resp.StatusCode, tc.want[i])
				}
				if resp.StatusCode == 401 && !strings.HasSuffix(resp.Header.Get("WWW-Authenticate"), "stale=false") {
					t.Errorf("nc %d: challenge %q, want stale=false", nc, resp.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}

func TestFailingJobs(t *testing.T) {
	cases := []struct {
		name   string
		faults Faults
		want   map[string]string // snapshot -> final status
	}{
		{"by snapshot", Faults{FailSnapshotIDs: []string{DefaultOlderSnapshotID}},
			map[string]string{DefaultSnapshotID: StatusCompleted, DefaultOlderSnapshotID: StatusFailed}},
		{"every job", Faults{FailJobRate: 1},
			map[string]string{DefaultSnapshotID: StatusFailed, DefaultOlderSnapshotID: StatusFailed}},
		{"none", Faults{}, map[string]string{DefaultSnapshotID: StatusCompleted, DefaultOlderSnapshotID: StatusCompleted}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newSimEnv(t, Config{QueuedFor: time.Minute, RunningFor: time.Minute, Faults: tc.faults})
			c := env.client()
			ids := map[string]string{}
			for snap := range tc.want {
				job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(snap), http.StatusOK)
				ids[snap] = job["id"].(string)
			}
			for _, step := range []struct {
				advance time.Duration
				status  string
			}{{0, StatusQueued}, {time.Minute, StatusRunning}, {time.Minute, ""}} {
				env.clock.Advance(step.advance)
				for snap, id := range ids {
					want := step.status
					if want == "" {
						want = tc.want[snap]
					}
					job := c.getJSON(http.MethodGet, tenantBase+"/restores/"+id, "", http.StatusOK)
					if job["status"] != want {
						t.Errorf("after %s: job for %s is %v, want %s", step.advance, snap, job["status"], want)
					}
					if _, has := job["snapshotUrl"]; has != (want == StatusCompleted) {
						t.Errorf("job for %s (%s) snapshotUrl %v", snap, want, job["snapshotUrl"])
					}
				}
			}
		})
	}
}

func TestFaultsValidation(t *testing.T) {
	bad := []Faults{
		{ErrorRate: 1.5}, {DropRate: -0.1}, {FailJobRate: 2}, {ErrorStatus: 404}, {RateLimitCapacity: -1},
		{Latency: -time.Second}, {FailSnapshotIDs: []string{"nope"}},
	}
	for _, f := range bad {
		if _, err := New(Config{Faults: f}); err == nil {
			t.Errorf("New accepted faults %+v", f)
		}
	}
	sim, err := New(Config{Faults: Faults{ErrorRate: 0.25, FailSnapshotIDs: []string{DefaultSnapshotID}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetFaults(Faults{ErrorRate: 3}); err == nil {
		t.Error("SetFaults accepted ErrorRate 3")
	}
	if f := sim.Faults(); f.ErrorRate != 0.25 || len(f.FailSnapshotIDs) != 1 {
		t.Errorf("a refused SetFaults changed the faults: %+v", f)
	}
}

// TestFaultsUnderConcurrency changes faults while clients run; with -race
// it checks the locking, and every request is counted once.
func TestFaultsUnderConcurrency(t *testing.T) {
	env := newSimEnv(t, Config{Faults: Faults{ErrorRate: 0.3, RateLimitCapacity: 50, FailJobRate: 0.5, RandSeed: 3}})
	const workers, each = 6, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := env.client()
			for i := range each {
				c.do(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID))
				if w == 0 && i%5 == 0 {
					_ = env.sim.SetFaults(Faults{ErrorRate: 0.1 * float64(i%3), RateLimitCapacity: 50, RandSeed: uint64(i)})
				}
			}
		}()
	}
	wg.Wait()
	st := env.sim.Stats()
	var total int64
	for _, byStatus := range st.Routes {
		for _, n := range byStatus {
			total += n
		}
	}
	if total != st.TotalRequests || st.Faults.Injected5xx == 0 {
		t.Errorf("stats %+v", st)
	}
	if got := int64(len(env.sim.Jobs())); got != st.JobsCreated[DefaultProjectID+"/"+DefaultClusterName] {
		t.Errorf("%d jobs, jobsCreated %v", got, st.JobsCreated)
	}
}
