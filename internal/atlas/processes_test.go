// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// The download calls of one test: many of one snapshot at once, through
// clients that each stand for a provider configuration.
var simCluster = Cluster{Family: TenantV1, ProjectID: atlassim.DefaultProjectID, Name: atlassim.DefaultClusterName}

// lossySim is a simulator that loses a share of answers after acting and
// fails others without acting, on the real clock (several processes talk
// to it).
func lossySim(t *testing.T, drop float64) (*atlassim.Server, string) {
	t.Helper()
	sim, err := atlassim.New(atlassim.Config{Faults: atlassim.Faults{DropRate: drop, ErrorRate: 0.1, RandSeed: 11}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

func fastClient(t testing.TB, base, lockDir string) *Client {
	c, err := New(Config{
		BaseURL: base, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		LockDir: lockDir,
		Retry:   RetryPolicy{MaxAttempts: 30, MinDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requestMany makes n downloads of the default snapshot at once and
// returns the job ids (one per call, "" for a failed call) and the errors.
func requestMany(c *Client, n int) ([]string, []error) {
	ids, errs := make([]string, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job, err := c.RequestDownload(context.Background(), simCluster, atlassim.DefaultSnapshotID)
			if errs[i] = err; err == nil {
				ids[i] = job.ID
			}
		}()
	}
	wg.Wait()
	return ids, errs
}

// checkOneJobEach fails unless every id is distinct and every job the
// simulator made is held by exactly one call.
func checkOneJobEach(t *testing.T, sim *atlassim.Server, ids []string) {
	t.Helper()
	held := map[string]int{}
	for _, id := range ids {
		held[id]++
	}
	shared, orphans := 0, 0
	for id, n := range held {
		if n > 1 {
			shared += n
			t.Errorf("job %s is held by %d calls", id, n)
		}
	}
	for _, j := range sim.Jobs() {
		if held[j.ID] == 0 {
			orphans++
		}
	}
	if shared > 0 || orphans > 0 {
		t.Errorf("%d calls hold a shared job, %d jobs are held by none, of %d calls", shared, orphans, len(ids))
	}
	st := sim.Stats()
	if st.Faults.Dropped == 0 {
		t.Errorf("no answer was dropped: the test proves nothing")
	}
}

// TestAliasesOfOneProcessNeverShareAJob: two clients of one process (two
// aliases of the provider) requesting downloads of one snapshot at once,
// with answers lost, never take each other's jobs.
func TestAliasesOfOneProcessNeverShareAJob(t *testing.T) {
	sim, base := lossySim(t, 0.3)
	a, b := fastClient(t, base, ""), fastClient(t, base, "")
	var ids []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range []*Client{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, errs := requestMany(c, 25)
			mu.Lock()
			defer mu.Unlock()
			for i, err := range errs {
				if err != nil {
					t.Errorf("call: %v", err)
				}
				ids = append(ids, got[i])
			}
		}()
	}
	wg.Wait()
	checkOneJobEach(t, sim, ids)
}

// childEnv carries what a child process of TestProcessesNeverShareAJob
// needs: the simulator's URL, the lock directory and how many calls.
const childEnv = "ATLAS_TEST_DOWNLOAD_CHILD"

// TestProcessesNeverShareAJob: several provider processes on one machine
// (parallel applies in two directories, terragrunt run-all) requesting
// downloads of one snapshot at once, with answers lost, never share a job
// when they share the lock directory.
func TestProcessesNeverShareAJob(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("this is the child's run")
	}
	sim, base := lossySim(t, 0.3)
	dir := filepath.Join(t.TempDir(), "locks")
	const procs, each = 3, 15
	outs := make([]bytes.Buffer, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestDownloadChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+base+" "+dir+" "+strconv.Itoa(each))
			cmd.Stdout = &outs[p]
			cmd.Stderr = &outs[p]
			errs[p] = cmd.Run()
		}()
	}
	wg.Wait()
	var ids []string
	for p := range procs {
		if errs[p] != nil {
			t.Fatalf("child %d: %v\n%s", p, errs[p], outs[p].String())
		}
		sc := bufio.NewScanner(&outs[p])
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "JOB "); ok {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) != procs*each {
		t.Fatalf("children reported %d jobs, want %d", len(ids), procs*each)
	}
	checkOneJobEach(t, sim, ids)
}

// TestDownloadChild is the child process's body; it runs only when
// TestProcessesNeverShareAJob starts it.
func TestDownloadChild(t *testing.T) {
	args := strings.Fields(os.Getenv(childEnv))
	if len(args) != 3 {
		t.Skip("runs only as a child of TestProcessesNeverShareAJob")
	}
	n, _ := strconv.Atoi(args[2])
	ids, errs := requestMany(fastClient(t, args[0], args[1]), n)
	for i := range ids {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		fmt.Printf("JOB %s\n", ids[i])
	}
}

// TestSearchRefusesToGuessBetweenCandidates: a job of the snapshot that was
// requested elsewhere (another machine) inside the window of our only lost
// attempt, beside ours, could be either's: the call takes neither and names
// both.
func TestSearchRefusesToGuessBetweenCandidates(t *testing.T) {
	clock := fakeclock.New(clockStart.Add(300 * time.Millisecond))
	ds := &downloadServer{steps: []string{"drop"}, listSteps: []string{"ok"}}
	ds.onPost = func(int) { addForeign(ds, clock.Now()) }
	c := clockClient(t, startDownloadServer(t, ds, clock), clock, 0, RetryPolicy{MaxAttempts: 3})
	_, err := c.RequestDownload(context.Background(), testCluster, testSnapshot)
	var ue *UnconfirmedJobError
	var amb *AmbiguousJobsError
	if !errors.As(err, &ue) || !errors.As(ue.RecoveryErr, &amb) {
		t.Fatalf("err = %v, want an *UnconfirmedJobError from an *AmbiguousJobsError", err)
	}
	ids := ds.jobIDs()
	if len(ids) != 2 || len(ue.Candidates) != 2 || !sameSet(ids, ue.Candidates) || ds.posts != 1 {
		t.Errorf("candidates %v, server %v after %d POSTs; want both jobs named after one POST", ue.Candidates, ids, ds.posts)
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestRecordRetention: claims and lost attempts are kept as long as a job
// can still fall in a lost window, and no longer; a call that found its
// job no longer accounts for others.
func TestRecordRetention(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	b := readBook([]entry{
		{Job: "old", At: now.Add(-claimRetention - time.Second)},
		{Job: "kept", At: now.Add(-time.Hour)},
		{Call: "a", Sent: now, Ended: now, At: now.Add(-lostRetention - time.Second)},
		{Call: "b", Sent: now, Ended: now, At: now},
		{Call: "c", Sent: now, Ended: now, At: now},
		{Call: "c", Found: true, At: now},
	}, now)
	if b.claimed["old"] || !b.claimed["kept"] {
		t.Errorf("claimed = %v, want only the claim within the retention", b.claimed)
	}
	if len(b.lost) != 1 || len(b.lost["b"]) != 1 {
		t.Errorf("lost = %v, want only call b's attempt (a aged out, c found its job)", b.lost)
	}
	if len(b.kept) != 2 {
		t.Errorf("compaction would keep %d entries, want 2", len(b.kept))
	}
}
