// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// budgetRunTime is how long each job of the budget section runs.
const budgetRunTime = 3 * time.Minute

// budgetLimit is the simulator's budget: requests a minute per project.
const budgetLimit = 60

// budget waits for 40 and then 200 download jobs of one project at once,
// with one client, on a simulator that allows 60 requests a minute per
// project (fakeclock.Sched runs the waits in parallel on a fake clock).
func budget(ctx context.Context, e *env, w io.Writer) ([]target, error) {
	var rows [][]string
	var share40 float64
	for _, n := range []int{40, 200} {
		var shares, lates []float64
		for run := range e.o.runs {
			share, late, _, err := budgetTrial(ctx, n, uint64(run+1))
			if err != nil {
				return nil, fmt.Errorf("%d waits: %w", n, err)
			}
			shares, lates = append(shares, 100*share), append(lates, late.Seconds())
		}
		s := spreadOf(shares)
		if n == 40 {
			share40 = s.hi
		}
		rows = append(rows, []string{fmt.Sprint(n), s.format("%.1f"), spreadOf(lates).format("%.0f"),
			fmt.Sprintf("%.0f", float64(n)*60/budgetLimit)})
	}
	table(w, []string{"parallel waits", "429 answers (% of their requests)", "finished job seen after (s, worst wait)", "s between polls that the budget allows each wait"}, rows...)
	return []target{{name: "429s of 40 parallel waits under 60 a minute", want: "≤ 5% of their requests",
		got: fmt.Sprintf("%.1f%% at most", share40), met: share40 <= 5}}, nil
}

// budgetTrial requests n downloads, then waits for all of them at once,
// and returns the share of the waits' requests answered 429, the longest
// time from a job's end to the poll that saw it, and the waits' requests.
func budgetTrial(ctx context.Context, n int, seed uint64) (float64, time.Duration, int64, error) {
	clock := fakeclock.NewSched(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	sim, err := atlassim.New(atlassim.Config{
		Now: clock.Now, QueuedFor: budgetRunTime / 5, RunningFor: budgetRunTime - budgetRunTime/5,
		Faults: atlassim.Faults{RateLimitCapacity: budgetLimit, RateLimitRefill: budgetLimit, RateLimitPeriod: time.Minute},
	})
	if err != nil {
		return 0, 0, 0, err
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, uint64(n))) //nolint:gosec // seeded so that runs repeat; jitter, not a secret
	c, err := atlas.New(atlas.Config{
		BaseURL: srv.URL, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		Now: clock.Now, Sleep: clock.Sleep,
		Jitter: func() float64 { mu.Lock(); defer mu.Unlock(); return rng.Float64() },
	})
	if err != nil {
		return 0, 0, 0, err
	}
	cl := atlas.Cluster{Family: atlas.TenantV1, ProjectID: atlassim.DefaultProjectID, Name: atlassim.DefaultClusterName}
	// The downloads are requested together, on the parallel clock (those
	// beyond the budget are retried as Atlas's 429s say), and then waited
	// for together; only the waits' requests are counted.
	var late time.Duration
	var failure error
	jobs := make([]*atlas.RestoreJob, n)
	for i := range jobs {
		clock.Go(func() {
			job, err := c.RequestDownload(ctx, cl, atlassim.DefaultSnapshotID)
			mu.Lock()
			defer mu.Unlock()
			jobs[i] = job
			if err != nil {
				failure = err
			}
		})
	}
	clock.Wait()
	if failure != nil {
		return 0, 0, 0, failure
	}
	before := sim.Stats()
	for _, job := range jobs {
		clock.Go(func() {
			job, err := c.WaitForJob(ctx, cl, job, clock.Now().Add(3*time.Hour))
			mu.Lock()
			defer mu.Unlock()
			if err == nil && job.Status != atlas.StatusCompleted {
				err = fmt.Errorf("the wait ended with the job %s", job.Status)
			}
			if err != nil {
				failure = err
				return
			}
			at, _ := time.Parse(time.RFC3339, job.RestoreScheduledDate)
			late = max(late, clock.Now().Sub(at.Add(budgetRunTime)))
		})
	}
	clock.Wait()
	if failure != nil {
		return 0, 0, 0, failure
	}
	after := sim.Stats()
	requests := after.TotalRequests - before.TotalRequests
	return float64(after.Faults.RateLimited-before.Faults.RateLimited) / float64(requests), late, requests, nil
}
