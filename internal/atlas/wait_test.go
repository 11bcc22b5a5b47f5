// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

const pollJobID = "6568a1b2c3d4e5f6000000b1"

// runningJobServer serves one download job, scheduled at scheduled (server
// clock) and finished runFor later; before that it is RUNNING. fail, when
// set, is asked before each read whether to answer 500 instead.
type runningJobServer struct {
	clock     *fakeClock
	scheduled time.Time
	runFor    time.Duration
	dated     bool // whether the job carries its restoreScheduledDate
	fail      func(n int) bool
	gets      atomic.Int64
}

func (s *runningJobServer) job(now time.Time) RestoreJob {
	j := RestoreJob{ID: pollJobID, SnapshotID: testSnapshot, DeliveryType: "DOWNLOAD", Status: StatusRunning}
	if s.dated {
		j.RestoreScheduledDate = s.scheduled.UTC().Format(time.RFC3339) // whole seconds, as Atlas's
	}
	if !now.Before(s.scheduled.Add(s.runFor)) {
		j.Status, j.SnapshotURL = StatusCompleted, "https://example.invalid/x.tar.gz?token=secret"
	}
	return j
}

func (s *runningJobServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	n := int(s.gets.Add(1))
	if s.fail != nil && s.fail(n) {
		status(500)(w, r)
		return
	}
	b, _ := json.Marshal(s.job(now))
	_, _ = w.Write(b)
}

func pollClient(t *testing.T, base string, clock *fakeClock, ahead time.Duration, jitter func() float64) *Client {
	t.Helper()
	c, err := New(Config{
		BaseURL: base, PublicKey: testUser, PrivateKey: testPass,
		Now:    func() time.Time { return clock.Now().Add(ahead) },
		Sleep:  clock.Sleep,
		Jitter: jitter,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPollDelayBounds: the gap after a poll at any age is at most the
// latency target for a job finishing just after it, max(5s, age/10) (capped
// at 5 minutes for old jobs), and jitter shortens it by at most a tenth.
func TestPollDelayBounds(t *testing.T) {
	for age := time.Duration(0); age <= 4*time.Hour; age += 1700 * time.Millisecond {
		target := min(max(5*time.Second, age/10), 5*time.Minute)
		for _, j := range []float64{0, 0.5, 0.999999} {
			d := pollDelay(age, j)
			if d > target || d < target*9/10 {
				t.Fatalf("pollDelay(%s, %v) = %s, want within [%s, %s]", age, j, d, target*9/10, target)
			}
		}
	}
}

// TestWaitForJobSeesAFinishedJobInTime: whatever a job's run time, the
// wait notices it finished within 10% of that run time or 5s, whichever is
// larger. The job is read through the real client, on a fake clock.
func TestWaitForJobSeesAFinishedJobInTime(t *testing.T) {
	runTimes := []time.Duration{
		time.Second, 3 * time.Second, 5 * time.Second, 5*time.Second + time.Millisecond, 12 * time.Second,
		40 * time.Second, 49 * time.Second, 50 * time.Second, 51 * time.Second, 61 * time.Second,
		90 * time.Second, 2 * time.Minute, 5 * time.Minute, 9*time.Minute + 59*time.Second,
		10 * time.Minute, 10*time.Minute + time.Second, 30 * time.Minute, time.Hour, 2 * time.Hour,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 12 { // and run times in between
		runTimes = append(runTimes, time.Duration(rng.Int64N(int64(90*time.Minute)))+time.Duration(i)*time.Millisecond)
	}
	jitters := map[string]func() float64{
		"no jitter":  func() float64 { return 0 },
		"mid jitter": func() float64 { return 0.5 },
		"max jitter": func() float64 { return 0.999999 },
	}
	var mu sync.Mutex
	seeded := rand.New(rand.NewPCG(3, 4))
	jitters["random jitter"] = func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return seeded.Float64()
	}
	for name, jitter := range jitters {
		t.Run(name, func(t *testing.T) {
			for _, runFor := range runTimes {
				// Scheduled mid-second, so the date Atlas shows is early.
				scheduled := clockStart.Add(400 * time.Millisecond)
				clock := fakeclock.New(scheduled)
				js := &runningJobServer{clock: clock, scheduled: scheduled, runFor: runFor, dated: true}
				as := newAuthServer(t, js)
				as.now = clock.Now
				srv := httptest.NewServer(as)
				c := pollClient(t, srv.URL, clock, 0, jitter)
				start := js.job(scheduled)
				job, err := c.WaitForJob(context.Background(), testCluster, &start, scheduled.Add(5*time.Hour))
				srv.Close()
				if err != nil || job.Status != StatusCompleted {
					t.Fatalf("run time %s: job %s, err %v", runFor, job.Status, err)
				}
				latency := clock.Now().Sub(scheduled.Add(runFor))
				if bound := max(runFor/10, 5*time.Second); latency > bound {
					t.Errorf("run time %s: seen %s after it finished, want at most %s (%d reads)", runFor, latency, bound, js.gets.Load())
				}
			}
		})
	}
}

// TestWaitForJobPollsByTheJobsAge: the gap follows the job's age on the
// server clock when its restoreScheduledDate is known (a job imported or
// read again is not polled as if new), else the wait's own age.
func TestWaitForJobPollsByTheJobsAge(t *testing.T) {
	for _, tt := range []struct {
		name      string
		age       time.Duration // of the job when the wait begins, server clock
		dated     bool
		ahead     time.Duration // our clock against the server's
		wantFirst time.Duration // the first wait, jitter 0
	}{
		{"new job", 0, true, 0, 5 * time.Second},
		{"20 minutes old", 20 * time.Minute, true, 0, 2*time.Minute - 100*time.Millisecond},
		{"20 minutes old, our clock an hour ahead", 20 * time.Minute, true, time.Hour, 2*time.Minute - 100*time.Millisecond},
		{"20 minutes old, our clock 10 minutes behind", 20 * time.Minute, true, -10 * time.Minute, 2*time.Minute - 100*time.Millisecond},
		{"three hours old", 3 * time.Hour, true, 0, 5 * time.Minute},
		{"no date", 20 * time.Minute, false, 0, 5 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New(clockStart)
			js := &runningJobServer{clock: clock, scheduled: clockStart.Add(-tt.age), runFor: 4 * time.Hour, dated: tt.dated}
			as := newAuthServer(t, js)
			as.now = clock.Now
			srv := httptest.NewServer(as)
			defer srv.Close()
			c := pollClient(t, srv.URL, clock, tt.ahead, func() float64 { return 0 })
			// Read first, as the provider does, which also shows the server clock.
			job, err := c.GetRestoreJob(context.Background(), testCluster, pollJobID)
			if err != nil {
				t.Fatal(err)
			}
			clock.OnSleep(func(n int) error {
				if n == 1 {
					js.runFor = 0 // finished: one more read ends the wait
				}
				return nil
			})
			if _, err := c.WaitForJob(context.Background(), testCluster, job, c.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got := clock.Sleeps(); len(got) != 1 || got[0] != tt.wantFirst {
				t.Errorf("waits %v, want one of %s", got, tt.wantFirst)
			}
		})
	}
}

// TestWaitForJobSurvivesA500: a read that fails with 500 during the wait is
// asked again, and the wait goes on.
func TestWaitForJobSurvivesA500(t *testing.T) {
	clock := fakeclock.New(clockStart)
	js := &runningJobServer{clock: clock, scheduled: clockStart, runFor: 12 * time.Second, dated: true,
		fail: func(n int) bool { return n == 2 }}
	as := newAuthServer(t, js)
	as.now = clock.Now
	srv := httptest.NewServer(as)
	defer srv.Close()
	c := pollClient(t, srv.URL, clock, 0, func() float64 { return 0 })
	start := js.job(clockStart)
	job, err := c.WaitForJob(context.Background(), testCluster, &start, clockStart.Add(time.Hour))
	if err != nil || job.Status != StatusCompleted {
		t.Fatalf("job %s, err %v; want COMPLETED", job.Status, err)
	}
	if n := js.gets.Load(); n < 3 {
		t.Errorf("reads = %d, want the 500 among them and the wait going on", n)
	}
}
