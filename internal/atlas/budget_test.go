// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// parallelWaitsUnderLimit requests n downloads in one project of a
// simulator that allows limit requests a minute (RateLimit headers on every
// answer), then waits for all of them at once on a clock that runs the
// waits in parallel, and returns the share of the waits' requests that
// drew a 429 and the longest time from a job's end to the poll that saw it.
func parallelWaitsUnderLimit(t *testing.T, n, limit int) (share float64, late time.Duration) {
	t.Helper()
	clock := fakeclock.NewSched(clockStart)
	const runTime = 3 * time.Minute
	sim, err := atlassim.New(atlassim.Config{
		Now: clock.Now, QueuedFor: runTime / 5, RunningFor: runTime - runTime/5,
		Faults: atlassim.Faults{RateLimitCapacity: limit, RateLimitRefill: limit, RateLimitPeriod: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	var rngMu sync.Mutex
	c, err := New(Config{
		BaseURL: srv.URL, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		Now: clock.Now, Sleep: clock.Sleep,
		Jitter: func() float64 { rngMu.Lock(); defer rngMu.Unlock(); return rng.Float64() },
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := Cluster{Family: TenantV1, ProjectID: atlassim.DefaultProjectID, Name: atlassim.DefaultClusterName}
	ctx := context.Background()
	jobs := make([]*RestoreJob, n)
	for i := range jobs {
		if jobs[i], err = c.RequestDownload(ctx, cl, atlassim.DefaultSnapshotID); err != nil {
			t.Fatal(err)
		}
	}
	before := sim.Stats()
	var mu sync.Mutex
	for _, job := range jobs {
		clock.Go(func() {
			done, err := c.WaitForJob(ctx, cl, job, clock.Now().Add(time.Hour))
			if err != nil || done.Status != StatusCompleted {
				t.Errorf("wait for %s: %v, status %s", job.ID, err, done.Status)
				return
			}
			at, _ := time.Parse(time.RFC3339, job.RestoreScheduledDate)
			mu.Lock()
			late = max(late, clock.Now().Sub(at.Add(runTime)))
			mu.Unlock()
		})
	}
	clock.Wait()
	after := sim.Stats()
	requests := after.TotalRequests - before.TotalRequests
	limited := after.Faults.RateLimited - before.Faults.RateLimited
	t.Logf("%d parallel waits: %d requests, %d answered 429; a finished job seen at most %s late", n, requests, limited, late)
	return float64(limited) / float64(requests), late
}

// Parallel waits in one project space their polls by the budget that
// Atlas's RateLimit headers announce, so that almost none draws a 429.
// The latency target (10% of the jobs' 3-minute run time) holds where the
// budget allows it: 40 jobs that finish together need 40 polls, which a
// budget of 60 a minute, refilled at once, has.
func TestWaitForJob_parallelWaitsStayInsideBudget(t *testing.T) {
	for _, tt := range []struct {
		waits, limit int
		late         time.Duration
	}{{40, 60, 18 * time.Second}, {40, 600, 18 * time.Second}} {
		share, late := parallelWaitsUnderLimit(t, tt.waits, tt.limit)
		if share > 0.05 {
			t.Errorf("%d waits under %d a minute: %.1f%% of their requests drew a 429, want at most 5%%", tt.waits, tt.limit, share*100)
		}
		if late > tt.late {
			t.Errorf("%d waits under %d a minute: a finished job was seen %s late, want at most %s", tt.waits, tt.limit, late, tt.late)
		}
	}
}

// The budget is learnt from RateLimit-Limit and RateLimit-Remaining, and a
// 429's Retry-After pauses every poll of the project.
func TestBudget_learntFromHeaders(t *testing.T) {
	var bs budgets
	now := clockStart
	if at, _ := bs.turn("p", now, time.Time{}); !at.Equal(now) {
		t.Errorf("unknown budget: turn at %s, want now", at.Sub(now))
	}
	bs.observe("p", http.StatusOK, http.Header{"Ratelimit-Limit": {"60"}, "Ratelimit-Remaining": {"30"}}, now)
	if at, _ := bs.turn("p", now, time.Time{}); !at.Equal(now) {
		t.Errorf("half the budget left: turn at +%s, want now", at.Sub(now))
	}
	bs.observe("p", http.StatusOK, http.Header{"Ratelimit-Limit": {"60"}, "Ratelimit-Remaining": {"3"}}, now)
	first, _ := bs.turn("p", now, time.Time{})
	second, claimed := bs.turn("p", now, time.Time{})
	if !first.Equal(now) || second.Sub(first) != time.Second || !claimed {
		t.Errorf("budget nearly spent: turns at +%s and +%s (claimed %v), want now and a second later", first.Sub(now), second.Sub(now), claimed)
	}
	if third, claimed := bs.turn("p", now, time.Time{}); claimed || third.Sub(now) != time.Second {
		t.Errorf("a third poll was given +%s (claimed %v); want to look again a second later, unclaimed", third.Sub(now), claimed)
	}
	bs.observe("p", http.StatusTooManyRequests, http.Header{"Retry-After": {"20"}}, now)
	if at, _ := bs.turn("p", now, time.Time{}); at.Sub(now) < 20*time.Second {
		t.Errorf("after a 429 with Retry-After 20: turn at +%s", at.Sub(now))
	}
	if at, _ := bs.turn("other", now, time.Time{}); !at.Equal(now) {
		t.Errorf("another project waits +%s", at.Sub(now))
	}
	if projectOf("/api/atlas/v2/groups/6568a1b2c3d4e5f601234567/clusters/x") != "6568a1b2c3d4e5f601234567" {
		t.Error("projectOf misread a path")
	}
}
