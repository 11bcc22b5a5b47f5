// SPDX-License-Identifier: MPL-2.0

package atlas_test

// Contract tests between the client and the simulator: facts the reference
// does not state, that the client relies on and the simulator provides. Each
// breaks when either side changes its half.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// contractStart is after the default snapshots, and not on a whole second,
// so that rounding instead of truncating shows.
var contractStart = time.Date(2026, 11, 28, 14, 3, 0, 700_000_000, time.UTC)

// postWatcher sits under the client's digest layer: it keeps the Date of
// every successful POST answer and calls onLost when a POST gets none.
type postWatcher struct {
	base   http.RoundTripper
	onLost func()

	mu    sync.Mutex
	dates []string
	lost  int
}

func (w *postWatcher) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(r)
	if r.Method != http.MethodPost {
		return resp, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		w.lost++
		if w.onLost != nil {
			w.onLost()
		}
	case resp.StatusCode == http.StatusOK:
		w.dates = append(w.dates, resp.Header.Get("Date"))
	}
	return resp, err
}

var contractTargets = []struct {
	name     string
	cluster  atlas.Cluster
	snapshot string
}{
	{"tenant", atlas.Cluster{Family: atlas.TenantV1, ProjectID: atlassim.DefaultProjectID, Name: atlassim.DefaultClusterName}, atlassim.DefaultSnapshotID},
	{"flex", atlas.Cluster{Family: atlas.Flex, ProjectID: atlassim.DefaultProjectID, Name: atlassim.DefaultFlexClusterName}, atlassim.DefaultFlexSnapshotID},
}

// fastRetry keeps the tests' waits short, in fake time.
var fastRetry = atlas.RetryPolicy{MaxAttempts: 5, MinDelay: time.Millisecond, MaxDelay: time.Millisecond}

// newContractPair starts a simulator and a client on one fake clock.
func newContractPair(t *testing.T, faults atlassim.Faults, retry atlas.RetryPolicy) (*atlassim.Server, *atlas.Client, *postWatcher, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.New(contractStart)
	sim, err := atlassim.New(atlassim.Config{Now: clock.Now, QueuedFor: time.Minute, RunningFor: time.Minute, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	watcher := &postWatcher{base: srv.Client().Transport}
	c, err := atlas.New(atlas.Config{
		BaseURL: srv.URL, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		Transport: watcher,
		Retry:     retry,
		Now:       clock.Now,
		Sleep:     clock.Sleep,
		Jitter:    func() float64 { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c, watcher, clock
}

func parseRFC3339(t *testing.T, what, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("%s %q: %v", what, s, err)
	}
	return at
}

// TestContractRestoreScheduledDateIsArrival: the job a POST creates has
// restoreScheduledDate equal to the POST answer's Date (the request's
// arrival, to the second), and keeps it on later reads.
func TestContractRestoreScheduledDateIsArrival(t *testing.T) {
	for _, tc := range contractTargets {
		t.Run(tc.name, func(t *testing.T) {
			sim, c, watcher, clock := newContractPair(t, atlassim.Faults{}, fastRetry)
			ctx := context.Background()
			job, err := c.RequestDownload(ctx, tc.cluster, tc.snapshot)
			if err != nil {
				t.Fatal(err)
			}
			if len(watcher.dates) != 1 {
				t.Fatalf("saw %d successful POST answers, want 1", len(watcher.dates))
			}
			date, err := http.ParseTime(watcher.dates[0])
			if err != nil {
				t.Fatalf("Date %q: %v", watcher.dates[0], err)
			}
			if want := contractStart.Truncate(time.Second); !date.Equal(want) {
				t.Fatalf("Date %s, want the simulator's clock %s", date, want)
			}
			if got := parseRFC3339(t, "restoreScheduledDate", job.RestoreScheduledDate); !got.Equal(date) {
				t.Errorf("restoreScheduledDate %s, Date of the answer that created it %s", got, date)
			}

			clock.Advance(150 * time.Second) // COMPLETED by now, on another second
			again, err := c.GetRestoreJob(ctx, tc.cluster, job.ID)
			if err != nil {
				t.Fatal(err)
			}
			if again.Status != atlas.StatusCompleted {
				t.Errorf("status %s after 150s, want COMPLETED", again.Status)
			}
			if got := parseRFC3339(t, "restoreScheduledDate", again.RestoreScheduledDate); !got.Equal(date) {
				t.Errorf("a later read gives restoreScheduledDate %s, want %s", got, date)
			}
			held, ok := sim.Job(tc.cluster.ProjectID, tc.cluster.Name, job.ID)
			if !ok || !held.RestoreScheduledDate.Equal(date) {
				t.Errorf("simulator holds restoreScheduledDate %s (found %v), want %s", held.RestoreScheduledDate, ok, date)
			}
		})
	}
}

// TestContractLostDownloadAnswerIsFound: when the simulator acts on a POST
// and drops its answer, the client finds the job the simulator made, by its
// restoreScheduledDate, instead of asking again. The clock moves on before
// the client looks, as it would for an answer lost to a timeout.
func TestContractLostDownloadAnswerIsFound(t *testing.T) {
	for _, tc := range contractTargets {
		t.Run(tc.name, func(t *testing.T) {
			sim, c, watcher, clock := newContractPair(t, atlassim.Faults{DropRate: 1}, fastRetry)
			watcher.onLost = func() {
				// Only the first POST is dropped: the client's search must be answered.
				if err := sim.SetFaults(atlassim.Faults{}); err != nil {
					t.Error(err)
				}
				clock.Advance(5 * time.Second)
			}
			job, err := c.RequestDownload(context.Background(), tc.cluster, tc.snapshot)
			if err != nil {
				t.Fatal(err)
			}
			if watcher.lost != 1 || len(watcher.dates) != 0 {
				t.Fatalf("%d POSTs lost and %d answered, want exactly one lost and none answered", watcher.lost, len(watcher.dates))
			}
			jobs := sim.Jobs()
			if len(jobs) != 1 {
				t.Fatalf("simulator holds %d jobs, want 1: %+v", len(jobs), jobs)
			}
			held := jobs[0]
			if job.ID != held.ID || job.SnapshotID != held.SnapshotID {
				t.Errorf("client returned job %s of snapshot %s, simulator holds %s of %s", job.ID, job.SnapshotID, held.ID, held.SnapshotID)
			}
			if got := parseRFC3339(t, "restoreScheduledDate", job.RestoreScheduledDate); !got.Equal(held.RestoreScheduledDate) ||
				!got.Equal(contractStart.Truncate(time.Second)) {
				t.Errorf("restoreScheduledDate %s; simulator holds %s; the POST arrived at %s", got, held.RestoreScheduledDate, contractStart)
			}
			st := sim.Stats()
			if st.Faults.Dropped != 1 || st.JobsCreated[tc.cluster.ProjectID+"/"+tc.cluster.Name] != 1 {
				t.Errorf("simulator stats: faults %+v, jobsCreated %v", st.Faults, st.JobsCreated)
			}
		})
	}
}

// TestContractDownloadLimitsAreWaitedOut: the simulator's download-limit
// refusals are ones the client waits out. A second download of the same
// snapshot, asked while the first job is unfinished, is refused until that
// job completes, then made: two jobs in all, the second after the first.
func TestContractDownloadLimitsAreWaitedOut(t *testing.T) {
	cases := []struct {
		name    string
		faults  atlassim.Faults
		refused func(atlassim.FaultCounts) int64
	}{
		{"one per snapshot", atlassim.Faults{OneDownloadPerSnapshot: true},
			func(f atlassim.FaultCounts) int64 { return f.ConcurrentDownloads }},
		{"per-project limit", atlassim.Faults{DownloadLimit: 1},
			func(f atlassim.FaultCounts) int64 { return f.TooManyDownloads }},
	}
	for _, tc := range cases {
		for _, target := range contractTargets {
			t.Run(tc.name+"/"+target.name, func(t *testing.T) {
				// Waits of a second or more, so that the two minutes the first
				// job takes pass in a few attempts.
				sim, c, _, _ := newContractPair(t, tc.faults, atlas.RetryPolicy{MinDelay: time.Second, MaxDelay: 30 * time.Second})
				ctx := context.Background()
				first, err := c.RequestDownload(ctx, target.cluster, target.snapshot)
				if err != nil {
					t.Fatal(err)
				}
				second, err := c.RequestDownload(ctx, target.cluster, target.snapshot)
				if err != nil {
					t.Fatalf("the second download was not waited out: %v", err)
				}
				jobs := sim.Jobs()
				if len(jobs) != 2 || jobs[0].ID != first.ID || jobs[1].ID != second.ID {
					t.Fatalf("simulator holds %d jobs, want the two the calls returned (%s, %s)", len(jobs), first.ID, second.ID)
				}
				firstDone := jobs[0].RestoreFinishedDate
				if firstDone.IsZero() || jobs[1].RestoreScheduledDate.Before(firstDone) {
					t.Errorf("second job scheduled at %s, before the first finished (%s)", jobs[1].RestoreScheduledDate, firstDone)
				}
				if n := tc.refused(sim.Stats().Faults); n == 0 {
					t.Error("the simulator refused nothing; the wait was not tested")
				}
			})
		}
	}
}

// TestContractDroppedAnswersNeverRefuseTheAPIKey: the simulator refuses a
// digest nonce count used before, even when the answer to its first use was
// dropped, and net/http sends a GET again, with the same Authorization, when
// a reused keep-alive connection drops. Under many such drops, no request
// made with the API key fails as if the key were wrong, and every download
// job the simulator makes is returned by exactly one call: the searches for
// lost answers survive the resent copies.
//
// The downloads of the snapshot go one at a time while reads run alongside,
// as in a Terraform apply, so that the searches run on reused connections.
// Concurrent lost downloads of one snapshot meet another edge, unrelated to
// digest: the search choosing between overlapping windows.
func TestContractDroppedAnswersNeverRefuseTheAPIKey(t *testing.T) {
	const downloads, readers = 80, 4
	clock := fakeclock.New(contractStart)
	sim, err := atlassim.New(atlassim.Config{Now: clock.Now, QueuedFor: time.Minute, RunningFor: time.Minute,
		Faults: atlassim.Faults{DropRate: 0.4, RandSeed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := atlas.New(atlas.Config{
		BaseURL: srv.URL, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		Now: clock.Now, Sleep: clock.Sleep, Jitter: func() float64 { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	target := contractTargets[0]
	ctx := context.Background()
	refusedKey := func(err error) bool {
		var ae *atlas.Error
		var ue *atlas.UnconfirmedJobError
		if errors.As(err, &ue) {
			err = ue.RecoveryErr
		}
		return errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized
	}

	var done atomic.Bool
	var reads, readFailures atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				reads.Add(1)
				if _, err := c.GetSnapshot(ctx, target.cluster, target.snapshot); err != nil {
					if readFailures.Add(1) == 1 {
						t.Errorf("read failed (key refused: %v): %v", refusedKey(err), err)
					}
				}
			}
		}()
	}
	returned := map[string]int{}
	for i := range downloads {
		job, err := c.RequestDownload(ctx, target.cluster, target.snapshot)
		if err != nil {
			t.Errorf("download %d failed (key refused: %v): %v", i, refusedKey(err), err)
			continue
		}
		returned[job.ID]++
	}
	done.Store(true)
	wg.Wait()
	if n := readFailures.Load(); n > 0 {
		t.Errorf("%d of %d reads failed", n, reads.Load())
	}

	for id, n := range returned {
		if n > 1 {
			t.Errorf("job %s returned by %d calls", id, n)
		}
	}
	made := 0
	for _, j := range sim.Jobs() {
		if j.SnapshotID != target.snapshot {
			continue
		}
		made++
		if returned[j.ID] == 0 {
			t.Errorf("job %s (scheduled %s) returned by no call: orphaned", j.ID, j.RestoreScheduledDate)
		}
	}
	st := sim.Stats()
	t.Logf("%d downloads made %d jobs; %d reads; %d answers dropped; %d digest challenges",
		downloads, made, reads.Load(), st.Faults.Dropped, c.DigestChallenges())
	// Nonces never expire here, so every challenge after the first answered
	// a resent copy: the run met what it is about.
	if st.Faults.Dropped == 0 || c.DigestChallenges() < 2 {
		t.Errorf("%d answers dropped and %d challenges: no resent copy was tested", st.Faults.Dropped, c.DigestChallenges())
	}
}
