// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

const testSnapshot = "6568a1b2c3d4e5f6000000a1"

// startDownloadServer serves ds behind digest checks, both on clock.
func startDownloadServer(t *testing.T, ds *downloadServer, clock *fakeClock) string {
	t.Helper()
	ds.now = clock.Now
	as := newAuthServer(t, ds)
	as.now = clock.Now
	srv := httptest.NewServer(as)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRecoveryAfterEveryAmbiguousAttempt: the search for a job made by a
// lost or failed answer runs after every ambiguous failure, the last
// attempt's included, so the call returns the job Atlas holds.
func TestRecoveryAfterEveryAmbiguousAttempt(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		steps       []string
		wantPosts   int
		wantJobs    int
		wantLists   int
		wantErr     string // "" when the call must return the server's only job
	}{
		{"dropped on the only attempt", 1, []string{"drop"}, 1, 1, 1, ""},
		{"503 after acting on the only attempt", 1, []string{"503"}, 1, 1, 1, ""},
		{"dropped on the last of three", 3, []string{"noact503", "noact503", "drop"}, 3, 1, 3, ""},
		{"500 after acting on the last of two", 2, []string{"noactdrop", "500"}, 2, 1, 2, ""},
		{"nothing done on any attempt", 2, []string{"noact503", "noact503"}, 2, 0, 2, "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New(clockStart)
			ds := &downloadServer{steps: tt.steps}
			c := clockClient(t, startDownloadServer(t, ds, clock), clock, 0, RetryPolicy{MaxAttempts: tt.maxAttempts})
			job, err := c.RequestDownload(context.Background(), testCluster, testSnapshot)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("RequestDownload: %v", err)
				}
				if ids := ds.jobIDs(); len(ids) != 1 || job.ID != ids[0] {
					t.Errorf("got job %s, server holds %v", job.ID, ids)
				}
			} else {
				var ue *UnconfirmedJobError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &ue) {
					t.Fatalf("err = %v, want a plain %q (the search did finish)", err, tt.wantErr)
				}
			}
			if ds.posts != tt.wantPosts || len(ds.jobs) != tt.wantJobs || ds.lists != tt.wantLists {
				t.Errorf("posts %d jobs %d lists %d, want %d %d %d", ds.posts, len(ds.jobs), ds.lists, tt.wantPosts, tt.wantJobs, tt.wantLists)
			}
		})
	}
}

// TestRecoveryLearnsServerClockFromDigestProbe: a cold client whose clock
// is off learns the server's from the digest challenge, so the search for
// the job of a POST whose answer was lost looks at the right seconds and
// finds it instead of making a second job.
func TestRecoveryLearnsServerClockFromDigestProbe(t *testing.T) {
	for _, tt := range []struct {
		name  string
		ahead time.Duration
		frac  time.Duration // of a second, on the server clock
	}{
		{"clock 5s ahead", 5 * time.Second, 0},
		{"clock 5s ahead, mid-second", 5 * time.Second, 700 * time.Millisecond},
		{"clock 30s ahead", 30 * time.Second, 300 * time.Millisecond},
		{"clock 5s behind", -5 * time.Second, 0},
		{"clocks agree", 0, 999 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New(clockStart.Add(tt.frac))
			ds := &downloadServer{steps: []string{"drop"}}
			c := clockClient(t, startDownloadServer(t, ds, clock), clock, tt.ahead, RetryPolicy{MaxAttempts: 5})
			job, err := c.RequestDownload(context.Background(), testCluster, testSnapshot)
			if err != nil {
				t.Fatalf("RequestDownload: %v", err)
			}
			ids := ds.jobIDs()
			if len(ids) != 1 {
				t.Fatalf("server holds %d jobs, want exactly 1", len(ids))
			}
			if job.ID != ids[0] || ds.posts != 1 {
				t.Errorf("got job %s after %d POSTs, want %s after 1", job.ID, ds.posts, ids[0])
			}
		})
	}
	// Interrupted right after the POST left: the search still runs, and
	// finds the job on the server's clock, which only the probe taught.
	t.Run("clock 30s ahead, ctx ends before the search", func(t *testing.T) {
		clock := fakeclock.New(clockStart.Add(600 * time.Millisecond))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ds := &downloadServer{steps: []string{"drop"}, onPost: func(int) { cancel() }}
		c := clockClient(t, startDownloadServer(t, ds, clock), clock, 30*time.Second, RetryPolicy{MaxAttempts: 5})
		job, err := c.RequestDownload(ctx, testCluster, testSnapshot)
		if ids := ds.jobIDs(); err != nil || len(ids) != 1 || job.ID != ids[0] || ds.posts != 1 {
			t.Fatalf("got %s, %v after %d POSTs; want the server's one job %v", jobID(job), err, ds.posts, ids)
		}
	})
	// When that search cannot finish, the error's Since is on the server
	// clock too.
	t.Run("clock 30s ahead, ctx ends, the list fails", func(t *testing.T) {
		clock := fakeclock.New(clockStart.Add(600 * time.Millisecond))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ds := &downloadServer{steps: []string{"drop"}, listSteps: []string{"500"}, onPost: func(int) { cancel() }}
		c := clockClient(t, startDownloadServer(t, ds, clock), clock, 30*time.Second, RetryPolicy{MaxAttempts: 5})
		_, err := c.RequestDownload(ctx, testCluster, testSnapshot)
		var ue *UnconfirmedJobError
		if !errors.As(err, &ue) || !ue.Since.Equal(clockStart) {
			t.Fatalf("err = %v, want an *UnconfirmedJobError with Since %s (the server's second)", err, clockStart)
		}
	})
}

// addForeign records a job of the snapshot that another client made at
// (server clock), marked so that the test can tell it apart.
func addForeign(ds *downloadServer, at time.Time) {
	ds.addJob(testSnapshot, at)
	ds.mu.Lock()
	ds.jobs[len(ds.jobs)-1].TargetDeploymentItemName = "another client's"
	ds.mu.Unlock()
}

// TestRecoveryLeavesOtherClientsJobs: jobs of the same snapshot that another
// client made outside the windows of our own attempts are not taken, and of
// several in them, the one nearest the failed attempt is.
func TestRecoveryLeavesOtherClientsJobs(t *testing.T) {
	const second = time.Second
	tests := []struct {
		name  string
		steps []string
		ahead time.Duration // our clock against the server's
		// setup arranges for the other client's job.
		setup     func(ds *downloadServer, clock *fakeClock)
		wantPosts int
	}{
		{
			name:  "made a second before our first attempt",
			steps: []string{"drop"},
			setup: func(ds *downloadServer, clock *fakeClock) {
				addForeign(ds, clock.Now().Add(-second))
			},
			wantPosts: 1,
		},
		{
			name:  "made three seconds before, our clock 2s behind",
			steps: []string{"drop"},
			ahead: -2 * second,
			setup: func(ds *downloadServer, clock *fakeClock) {
				addForeign(ds, clock.Now().Add(-3*second))
			},
			wantPosts: 1,
		},
		{
			// The hull of our attempts would hold it; the attempts do not.
			name:  "made while we waited between two attempts that did nothing",
			steps: []string{"noact503", "noactdrop", "ok"},
			setup: func(ds *downloadServer, clock *fakeClock) {
				clock.OnSleep(func(n int) error {
					if n == 1 {
						addForeign(ds, clock.Now().Add(-5*second))
					}
					return nil
				})
			},
			wantPosts: 3,
		},
		{
			// In the window of our first attempt (shown in the list only
			// after that attempt's search), but our job is nearer the
			// attempt whose answer was lost.
			name:  "made in the second of our first attempt, listed late",
			steps: []string{"noact503", "drop"},
			setup: func(ds *downloadServer, clock *fakeClock) {
				first := clock.Now()
				ds.onPost = func(n int) {
					if n == 2 {
						addForeign(ds, first)
					}
				}
			},
			wantPosts: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New(clockStart.Add(200 * time.Millisecond))
			ds := &downloadServer{steps: tt.steps}
			c := clockClient(t, startDownloadServer(t, ds, clock), clock, tt.ahead,
				RetryPolicy{MaxAttempts: 5, MinDelay: 20 * second, MaxDelay: time.Minute})
			tt.setup(ds, clock)
			job, err := c.RequestDownload(context.Background(), testCluster, testSnapshot)
			if err != nil {
				t.Fatalf("RequestDownload: %v", err)
			}
			var ours []string
			for _, j := range ds.jobs {
				if j.TargetDeploymentItemName == "" {
					ours = append(ours, j.ID)
				}
			}
			if len(ds.jobs) != 2 || len(ours) != 1 || ds.posts != tt.wantPosts {
				t.Fatalf("server holds %d jobs (%d ours) after %d POSTs, want theirs and ours after %d", len(ds.jobs), len(ours), ds.posts, tt.wantPosts)
			}
			if job.ID != ours[0] {
				t.Errorf("got job %s (%q), want ours, %s", job.ID, job.TargetDeploymentItemName, ours[0])
			}
		})
	}
}

// TestRecoveryPrefersAJobNoOtherLostCallCouldOwn: two calls of one client
// lost their answers; X's request crawled to Atlas and was stamped seconds
// after it left, Y's was quick, and Y's search has not run yet (say the
// list did not show its job at first). X's window holds both jobs and Y's
// is nearer X's send time, but only X can own X's: taking Y's would leave X's
// outside every window, to be orphaned while Y asks again.
func TestRecoveryPrefersAJobNoOtherLostCallCouldOwn(t *testing.T) {
	clock := fakeclock.New(clockStart)
	ds := &downloadServer{}
	c := clockClient(t, startDownloadServer(t, ds, clock), clock, 0, RetryPolicy{MaxAttempts: 1})
	c.skew.learn(clockStart.Format(http.TimeFormat), clockStart, clockStart) // the clocks agree

	at := func(d time.Duration) time.Time { return clockStart.Add(d) }
	xSpan := span{sent: at(10500 * time.Millisecond), ended: at(15200 * time.Millisecond)}
	ySpan := span{sent: at(10600 * time.Millisecond), ended: at(10800 * time.Millisecond)}
	yJob := ds.addJob(testSnapshot, at(10*time.Second))
	xJob := ds.addJob(testSnapshot, at(15*time.Second))

	want := jobRequest{delivery: deliveryDownload, snapshotID: testSnapshot}
	rec, err := c.record(testCluster, want)
	if err != nil {
		t.Fatal(err)
	}
	x := &lostCall{id: "x", cl: testCluster, want: want, lost: []span{xSpan}}
	y := &lostCall{id: "y", cl: testCluster, want: want, lost: []span{ySpan}}
	for _, call := range []*lostCall{y, x} {
		if err := rec.add(entry{Call: call.id, Sent: call.lost[0].sent, Ended: call.lost[0].ended, At: clockStart}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.search(context.Background(), rec, x, xSpan)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.ID != xJob.ID {
		t.Fatalf("X's search took %s, want X's own job %s (Y's is %s)", jobID(got), xJob.ID, yJob.ID)
	}
	// And Y, looking next, still finds its own.
	got, err = c.search(context.Background(), rec, y, ySpan)
	if err != nil || got == nil || got.ID != yJob.ID {
		t.Fatalf("Y's search took %s (%v), want %s", jobID(got), err, yJob.ID)
	}
}

func jobID(j *RestoreJob) string {
	if j == nil {
		return "nothing"
	}
	return j.ID
}

// TestRecoverySurvivesA500OnTheList: the list that recovery reads is a GET,
// retried on a 500 like any other.
func TestRecoverySurvivesA500OnTheList(t *testing.T) {
	clock := fakeclock.New(clockStart)
	ds := &downloadServer{steps: []string{"drop"}, listSteps: []string{"500", "ok"}}
	c := clockClient(t, startDownloadServer(t, ds, clock), clock, 0, RetryPolicy{MaxAttempts: 5})
	job, err := c.RequestDownload(context.Background(), testCluster, testSnapshot)
	if err != nil {
		t.Fatalf("RequestDownload: %v", err)
	}
	if ids := ds.jobIDs(); len(ids) != 1 || job.ID != ids[0] || ds.posts != 1 || ds.lists != 2 {
		t.Errorf("job %s, server %v, posts %d, lists %d; want the one job after 1 POST and 2 lists", job.ID, ids, ds.posts, ds.lists)
	}
}

// TestUnconfirmedJobError: when the search cannot finish, the error
// says that Atlas may hold a job, with the fields the provider needs, and
// still unwraps to the request's own failure.
func TestUnconfirmedJobError(t *testing.T) {
	tests := []struct {
		name      string
		steps     []string
		listSteps []string
		cancelOn  string // "post" or "list": ctx ends while that is under way
		// wantStatus is the *Error the request's failure unwraps to (0: a
		// transport failure).
		wantStatus  int
		wantRecover func(error) bool
	}{
		{"answer lost, list keeps failing", []string{"drop"}, []string{"500"}, "", 0, func(err error) bool {
			var ae *Error
			return errors.As(err, &ae) && ae.StatusCode == 500
		}},
		{"503 after acting, list keeps failing", []string{"503"}, []string{"503"}, "", 503, func(err error) bool {
			var ae *Error
			return errors.As(err, &ae) && ae.StatusCode == 503
		}},
		// The search outlives the interrupt by the grace only.
		{"ctx ends during the search", []string{"drop"}, []string{"block"}, "list", 0, func(err error) bool {
			return errors.Is(err, context.Canceled)
		}},
		// The search ran after the interrupt and found nothing yet.
		{"ctx ends while the POST is out", []string{"noactdrop"}, nil, "post", 0, func(err error) bool {
			return errors.Is(err, ErrNotListed)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New(clockStart.Add(400 * time.Millisecond))
			ds := &downloadServer{steps: tt.steps, listSteps: tt.listSteps}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			switch tt.cancelOn {
			case "list":
				ds.onList = func(int) { cancel() }
			case "post":
				ds.onPost = func(int) { cancel() }
			}
			c := clockClient(t, startDownloadServer(t, ds, clock), clock, 0, RetryPolicy{MaxAttempts: 3})
			c.grace = 2 * time.Second
			_, err := c.RequestDownload(ctx, testCluster, testSnapshot)
			var ue *UnconfirmedJobError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v (%T), want *UnconfirmedJobError", err, err)
			}
			if ue.Cluster != testCluster || ue.SnapshotID != testSnapshot || !ue.Since.Equal(clockStart) {
				t.Errorf("fields: cluster %+v snapshot %s since %s; want %+v %s %s", ue.Cluster, ue.SnapshotID, ue.Since, testCluster, testSnapshot, clockStart)
			}
			if ue.Err == nil || !tt.wantRecover(ue.RecoveryErr) {
				t.Errorf("Err %v, RecoveryErr %v", ue.Err, ue.RecoveryErr)
			}
			var ae *Error
			if got := errors.As(err, &ae); got != (tt.wantStatus != 0) || (got && ae.StatusCode != tt.wantStatus) {
				t.Errorf("errors.As(*Error) = %v (%v), want status %d", got, ae, tt.wantStatus)
			}
			if tt.wantStatus == 0 && !Unreachable(err) {
				t.Errorf("Unreachable(err) = false for a lost answer")
			}
			msg := err.Error()
			for _, want := range []string{"may have created a download job", testSnapshot, "Cluster0", "could not confirm", "2026-11-28T12:00:00Z"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "token=secret") || strings.Contains(msg, testPass) || strings.Contains(msg, "http://") {
				t.Errorf("message leaks a secret or URL: %q", msg)
			}
		})
	}
}
