// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// Section 5 measures how soon a wait for a download job sees it finished,
// and how many GETs that costs, for the client's poll schedule and for the
// one before it (kept here as a formula). It runs the simulator in this
// process, on a fake clock that the simulator and the client share, so
// that an hour of waiting takes milliseconds.

// pollRunTimes are the job run times measured (QUEUED for a fifth of it,
// then RUNNING).
var pollRunTimes = []time.Duration{
	5 * time.Second, 40 * time.Second, time.Minute, 2 * time.Minute,
	5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
}

// pollTrials is how many waits each run time and schedule gets, each with
// its own jitter seed.
const pollTrials = 25

// pollStart is a whole second, so that the job's restoreScheduledDate (cut
// to the second) is the moment it was requested.
var pollStart = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// pollRow is one run time's measurements, one value per trial.
type pollRow struct {
	RunTime    time.Duration `json:"runTime"`
	OldLatency []float64     `json:"oldLatencySeconds"`
	OldGETs    []float64     `json:"oldGets"`
	NewLatency []float64     `json:"newLatencySeconds"`
	NewGETs    []float64     `json:"newGets"`
}

type pollResults struct {
	Rows []pollRow `json:"rows"`
}

// oldPollDelay is the schedule the client used before: the retry policy's
// capped exponential backoff (0.5s doubling, capped at 30s, the upper half
// jittered), by poll number alone.
func oldPollDelay(attempt int, jitter float64) time.Duration {
	step := math.Min(float64(500*time.Millisecond)*math.Pow(2, float64(attempt-1)), float64(30*time.Second))
	return time.Duration(step/2 + step/2*jitter)
}

// oldPollCount is how many polls the old schedule needs, on average (the
// jitter's mean), to reach age t: what its request count tends to.
func oldPollCount(t time.Duration) float64 {
	var at time.Duration
	for n := 1; ; n++ {
		at += oldPollDelay(n, 0.5)
		if at >= t {
			return float64(n)
		}
	}
}

// fewestPolls is the fewest polls any schedule needs to see a job of run
// time t within the target, max(10% of t, 5s): a poll at age a may be
// followed by one at most max(5s, a/10) later, so the latest possible
// polls are 5s apart up to 50s and then 10% apart.
func fewestPolls(t time.Duration) int {
	n, at := 0, time.Duration(0)
	for at < t {
		at += max(5*time.Second, at/10)
		n++
	}
	return n
}

// conflictRange is the run times, to the second within the first hour, for
// which even the fewest polls that meet the latency target outnumber the
// old schedule's mean.
func conflictRange() (lo, hi time.Duration) {
	for t := time.Second; t <= time.Hour; t += time.Second {
		if float64(fewestPolls(t)) > oldPollCount(t) {
			if lo == 0 {
				lo = t
			}
			hi = t
		}
	}
	return lo, hi
}

// measurePolling runs every trial.
func measurePolling(ctx context.Context) (*pollResults, error) {
	res := &pollResults{}
	for _, runFor := range pollRunTimes {
		row := pollRow{RunTime: runFor}
		for trial := range pollTrials {
			seed := uint64(trial + 1)
			for _, old := range []bool{true, false} {
				latency, gets, err := pollTrial(ctx, runFor, old, seed)
				if err != nil {
					return nil, fmt.Errorf("polling, run time %s: %w", runFor, err)
				}
				if old {
					row.OldLatency, row.OldGETs = append(row.OldLatency, latency.Seconds()), append(row.OldGETs, float64(gets))
				} else {
					row.NewLatency, row.NewGETs = append(row.NewLatency, latency.Seconds()), append(row.NewGETs, float64(gets))
				}
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// pollTrial requests one download from a fresh simulator whose jobs take
// runFor, waits for it with the old schedule or the client's, and returns
// how long after the job finished the wait saw it, and the GETs it sent.
func pollTrial(ctx context.Context, runFor time.Duration, old bool, seed uint64) (time.Duration, int64, error) {
	clock := fakeclock.New(pollStart)
	queued := runFor / 5
	sim, err := atlassim.New(atlassim.Config{Now: clock.Now, QueuedFor: queued, RunningFor: runFor - queued})
	if err != nil {
		return 0, 0, err
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	rng := rand.New(rand.NewPCG(seed, uint64(runFor))) //nolint:gosec // seeded so that runs repeat; jitter, not a secret
	counter := &getCounter{base: srv.Client().Transport}
	c, err := atlas.New(atlas.Config{
		BaseURL: srv.URL, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		Transport: counter, Now: clock.Now, Sleep: clock.Sleep, Jitter: rng.Float64,
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
	deadline := clock.Now().Add(3 * time.Hour)
	if old {
		job, err = waitOld(ctx, c, cl, job, rng.Float64, deadline)
	} else {
		job, err = c.WaitForJob(ctx, cl, job, deadline)
	}
	if err != nil {
		return 0, 0, err
	}
	if job.Status != atlas.StatusCompleted {
		return 0, 0, fmt.Errorf("the wait ended with the job %s", job.Status)
	}
	return clock.Now().Sub(scheduled.Add(runFor)), counter.gets.Load(), nil
}

// waitOld is WaitForJob with the old schedule.
func waitOld(ctx context.Context, c *atlas.Client, cl atlas.Cluster, job *atlas.RestoreJob, jitter func() float64, deadline time.Time) (*atlas.RestoreJob, error) {
	for attempt := 1; !job.Finished(); attempt++ {
		if !c.Now().Before(deadline) {
			return job, context.DeadlineExceeded
		}
		if err := c.Sleep(ctx, min(oldPollDelay(attempt, jitter()), deadline.Sub(c.Now()))); err != nil {
			return job, err
		}
		next, err := c.GetRestoreJob(ctx, cl, job.ID)
		if err != nil {
			return job, err
		}
		job = next
	}
	return job, nil
}

// getCounter counts the GETs of restore jobs that reach the simulator.
type getCounter struct {
	base http.RoundTripper
	gets atomic.Int64
}

func (g *getCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/restores/") {
		g.gets.Add(1)
	}
	return g.base.RoundTrip(r)
}

// pollSectionHeading starts section 5; -only polling replaces the section
// from it to the next heading of the same level.
const pollSectionHeading = "## 5. Polling a download job"

// renderPolling is section 5 of the report.
func renderPolling(pr *pollResults) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p("%s\n\n", pollSectionHeading)
	p("How soon a wait for a download job (`WaitForJob`) sees the job finished, and how many GETs it\n")
	p("sends, for jobs of several run times (QUEUED for a fifth of it, then RUNNING: the simulator's\n")
	p("`QueuedFor` and `RunningFor`). The simulator runs in the harness on a fake clock that it shares with\n")
	p("the client, so every wait takes milliseconds; %d waits per run time and schedule, each with its own\n", pollTrials)
	p("jitter seed, so these numbers are the same on every machine. Latency is the time from the job's\n")
	p("end to the poll that saw it; GETs are the reads of the job during the wait.\n\n")
	p("- **old**: the schedule before, by poll number: the retry policy's backoff, 0.5 s doubling, capped\n")
	p("  at 30 s, the upper half jittered (a mean gap of 22.5 s once capped).\n")
	p("- **new**: by the job's age: 5 s gaps until it is 50 s old, then 10%% of its age (capped at 5 min),\n")
	p("  jitter shortening a gap by up to a tenth and never lengthening it.\n\n")
	p("Target: a finished job is seen within 10%% of its run time or 5 s, whichever is larger, without\n")
	p("more GETs per wait than the old schedule for jobs under ten minutes.\n\n")
	p("| run time | target | latency old (s) | latency new (s) | GETs old | GETs new | fewest possible | GETs new − old |\n")
	p("|---|---|---|---|---|---|---|---|\n")
	var more, fewer []string
	oldMisses, newMisses := 0, 0
	for _, r := range pr.Rows {
		bound := max(r.RunTime/10, 5*time.Second).Seconds()
		ol, nl := spreadOf(r.OldLatency), spreadOf(r.NewLatency)
		og, ng := spreadOf(r.OldGETs), spreadOf(r.NewGETs)
		if ol.hi > bound {
			oldMisses++
		}
		if nl.hi > bound {
			newMisses++
		}
		diff := ng.med - og.med
		change := fmt.Sprintf("%+.0f (%+.0f%%)", diff, 100*diff/og.med)
		moreOrFewer := fmt.Sprintf("%s: %+.0f GETs (%+.0f%%)", shortDuration(r.RunTime), diff, 100*diff/og.med)
		switch {
		case diff > 0:
			more = append(more, moreOrFewer)
		case diff < 0:
			fewer = append(fewer, moreOrFewer)
		}
		p("| %s | ≤ %.1f s | %s%s | %s%s | %s | %s | %d | %s |\n", shortDuration(r.RunTime), bound,
			ol.format("%.1f"), missMark(ol.hi > bound), nl.format("%.1f"), missMark(nl.hi > bound),
			og.format("%.0f"), ng.format("%.0f"), fewestPolls(r.RunTime), change)
	}
	p("\nLatency and GETs: median (min–max) over the waits; ✗ marks a run time where some wait missed the\n")
	p("target. \"Fewest possible\" is the fewest polls any schedule needs to meet the target at that run\n")
	p("time: a poll at age a can be followed by one at most max(5 s, a/10) later, so the latest possible\n")
	p("polls come 5 s apart up to 50 s and 10%% apart after; the new schedule is that, less its jitter.\n\n")
	p("Latency target: old schedule %s (misses at %d of %d run times), new schedule %s.\n\n",
		verdict(oldMisses == 0), oldMisses, len(pr.Rows), verdict(newMisses == 0))
	lo, hi := conflictRange()
	p("**Requests.** The two targets conflict, and the latency target wins. After the first 50 s, seeing a\n")
	p("job within 10%% of its age takes about ln(T/50 s)/ln(1.1) polls (26 more to reach 10 minutes), and\n")
	p("before that one every 5 s (10); the old schedule's doubling then 22.5 s mean gaps take %.0f polls to\n", oldPollCount(10*time.Minute))
	p("reach 10 minutes. Counting the fewest polls any schedule needs (the column above) against the old\n")
	p("schedule's mean, no schedule that meets the latency target can match the old request count for run\n")
	p("times from about %s to %s. The new schedule's jitter adds one or two polls more.\n\n", shortDuration(lo), shortDuration(hi))
	if len(more) > 0 {
		p("More GETs per wait than the old schedule (medians, new − old): %s.\n", strings.Join(more, "; "))
	}
	if len(fewer) > 0 {
		p("Fewer: %s; the old schedule's first polls (0.4 s, 1.1 s, 2.6 s, …) are gone, and long\n", strings.Join(fewer, "; "))
		p("jobs are polled at 10%% of their age instead of every 22.5 s.")
	}
	p("\n\nRun this section alone (seconds, no Terraform needed): `go run ./bench/cmd/atlasbench -only polling`.\n\n")
	return w.String()
}

func missMark(miss bool) string {
	if miss {
		return " ✗"
	}
	return ""
}

// shortDuration writes 5s, 40s, 2m, 1m30s.
func shortDuration(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0 && d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// spliceSection puts section, which starts with heading, into report in
// place of an earlier version of it (from heading to the next heading of
// the same level), or else before the Reproduce section, or else at the end.
func spliceSection(report, heading, section string) string {
	if i := strings.Index(report, heading); i >= 0 {
		end := len(report)
		if j := strings.Index(report[i+len(heading):], "\n## "); j >= 0 {
			end = i + len(heading) + j + 1
		}
		return report[:i] + section + report[end:]
	}
	if i := strings.Index(report, "\n## Reproduce"); i >= 0 {
		return report[:i+1] + section + report[i+1:]
	}
	if report != "" && !strings.HasSuffix(report, "\n\n") {
		report = strings.TrimRight(report, "\n") + "\n\n"
	}
	return report + section
}

// runPollingOnly measures section 5 and rewrites only it in o.out.
func runPollingOnly(ctx context.Context, o options) error {
	started := time.Now()
	logf("polling: %d run times, %d waits each per schedule, on a fake clock", len(pollRunTimes), pollTrials)
	pr, err := measurePolling(ctx)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.rawDir, 0o750); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(o.rawDir, "polling.json"), pr); err != nil {
		return err
	}
	old, err := os.ReadFile(o.out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	report := addReproduceLines(spliceSection(string(old), pollSectionHeading, renderPolling(pr)))
	if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil { //nolint:gosec // a committed, public report
		return err
	}
	logf("rewrote section 5 of %s after %s", o.out, time.Since(started).Round(time.Millisecond))
	return nil
}
