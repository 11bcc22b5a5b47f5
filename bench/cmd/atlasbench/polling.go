// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// pollRunTimes are the download jobs' run times measured (QUEUED for a
// fifth of it, then RUNNING), and pollTrials the waits for each, each with
// its own jitter seed.
var pollRunTimes = []time.Duration{
	5 * time.Second, 40 * time.Second, time.Minute, 2 * time.Minute,
	5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
}

const pollTrials = 25

// pollBound is the latency target: a finished job is seen within 10% of
// its run time or 5 seconds, whichever is larger.
func pollBound(runTime time.Duration) time.Duration { return max(runTime/10, 5*time.Second) }

// polling waits for download jobs with the client's WaitForJob against an
// in-process simulator on a fake clock shared with the client, so that an
// hour of waiting takes milliseconds and the numbers are the same on every
// machine.
func polling(ctx context.Context, _ *env, w io.Writer) ([]target, error) {
	var rows [][]string
	met, closest, worst := true, -1.0, ""
	for _, runTime := range pollRunTimes {
		var latency, gets []float64
		for trial := range pollTrials {
			l, g, err := pollTrial(ctx, runTime, uint64(trial+1))
			if err != nil {
				return nil, fmt.Errorf("run time %s: %w", runTime, err)
			}
			latency, gets = append(latency, l.Seconds()), append(gets, float64(g))
		}
		l := spreadOf(latency)
		frac := l.hi / pollBound(runTime).Seconds()
		met = met && frac <= 1
		if frac > closest {
			closest, worst = frac, fmt.Sprintf("%.1f s against %s (a %s job)", l.hi, pollBound(runTime), runTime)
		}
		rows = append(rows, []string{runTime.String(), pollBound(runTime).String(), l.format("%.1f"), spreadOf(gets).format("%.0f")})
	}
	table(w, []string{"job run time", "latency target", "latency (s)", "GETs per wait"}, rows...)
	return []target{{name: "polling latency", want: "every wait sees the job within 10% of its run time or 5 s",
		got: "closest: " + worst, met: met}}, nil
}

// pollTrial requests one download from a fresh simulator whose jobs take
// runTime, waits for it, and returns how long after the job finished the
// wait saw it, and the GETs of the job it sent.
func pollTrial(ctx context.Context, runTime time.Duration, seed uint64) (time.Duration, int64, error) {
	clock := fakeclock.New(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)) // a whole second, as restoreScheduledDate is
	sim, err := atlassim.New(atlassim.Config{Now: clock.Now, QueuedFor: runTime / 5, RunningFor: runTime - runTime/5})
	if err != nil {
		return 0, 0, err
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	rng := rand.New(rand.NewPCG(seed, uint64(runTime))) //nolint:gosec // seeded so that runs repeat; jitter, not a secret
	c, err := atlas.New(atlas.Config{
		BaseURL: srv.URL, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		Now: clock.Now, Sleep: clock.Sleep, Jitter: rng.Float64,
	})
	if err != nil {
		return 0, 0, err
	}
	cl := atlas.Cluster{Family: atlas.TenantV1, ProjectID: atlassim.DefaultProjectID, Name: atlassim.DefaultClusterName}
	job, err := c.RequestDownload(ctx, cl, atlassim.DefaultSnapshotID)
	if err != nil {
		return 0, 0, err
	}
	scheduled, err := time.Parse(time.RFC3339, job.RestoreScheduledDate)
	if err != nil {
		return 0, 0, fmt.Errorf("restoreScheduledDate: %w", err)
	}
	if job, err = c.WaitForJob(ctx, cl, job, clock.Now().Add(3*time.Hour)); err != nil {
		return 0, 0, err
	}
	if job.Status != atlas.StatusCompleted {
		return 0, 0, fmt.Errorf("the wait ended with the job %s", job.Status)
	}
	var gets int64
	for route, byStatus := range sim.Stats().Routes {
		if strings.HasPrefix(route, "GET ") && strings.Contains(route, "/restores/") {
			for _, n := range byStatus {
				gets += n
			}
		}
	}
	return clock.Now().Sub(scheduled.Add(runTime)), gets, nil
}
