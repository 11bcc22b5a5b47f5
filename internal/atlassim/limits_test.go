// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A download request in a limits test: where it goes and what it must get.
type limitStep struct {
	advance  time.Duration // moved on the clock before the request
	target   string        // key of limitTargets
	snapshot string
	status   int
	code     string // errorCode of a refusal
}

// limitTargets are the clusters the limit tests download from: two tenant
// clusters and a Flex cluster of one project, and a cluster of another.
var limitTargets = map[string]struct {
	base string
	hdr  []string
}{
	"Cluster0": {tenantBase, nil},
	"Cluster1": {"/api/atlas/v1.0/groups/" + DefaultProjectID + "/clusters/" + DefaultSecondClusterName + "/backup/tenant", nil},
	"Flex0":    {flexBase, []string{"Accept", mediaTypeFlex}},
	"Reports0": {"/api/atlas/v1.0/groups/" + DefaultSecondProjectID + "/clusters/" + DefaultSecondProjectClusterName + "/backup/tenant", nil},
}

func TestDownloadLimits(t *testing.T) {
	const minute = time.Minute
	ok := func(target, snap string) limitStep { return limitStep{0, target, snap, http.StatusOK, ""} }
	busy := func(target, snap string) limitStep {
		return limitStep{0, target, snap, http.StatusBadRequest, codeConcurrentDownload}
	}
	full := func(target, snap string) limitStep {
		return limitStep{0, target, snap, http.StatusBadRequest, codeTooManyDownloads}
	}
	later := func(d time.Duration, s limitStep) limitStep { s.advance = d; return s }
	cases := []struct {
		name   string
		faults Faults
		steps  []limitStep
		// refusals the stats must count
		tooMany, concurrent int64
	}{
		{
			name:   "off: any number at once",
			faults: Faults{},
			steps: []limitStep{
				ok("Cluster0", DefaultSnapshotID), ok("Cluster0", DefaultSnapshotID), ok("Cluster0", DefaultSnapshotID),
			},
		},
		{
			name:   "one per snapshot: refused while QUEUED and RUNNING, per snapshot only",
			faults: Faults{OneDownloadPerSnapshot: true},
			steps: []limitStep{
				ok("Cluster0", DefaultSnapshotID),
				busy("Cluster0", DefaultSnapshotID),                // QUEUED
				ok("Cluster0", DefaultOlderSnapshotID),             // another snapshot of the cluster
				ok("Flex0", DefaultFlexSnapshotID),                 // another cluster
				later(minute, busy("Cluster0", DefaultSnapshotID)), // RUNNING
				later(minute-time.Second, busy("Cluster0", DefaultSnapshotID)),
				later(time.Second, ok("Cluster0", DefaultSnapshotID)), // COMPLETED
				busy("Cluster0", DefaultSnapshotID),                   // the new one is QUEUED
			},
			concurrent: 4,
		},
		{
			name:   "one per snapshot: a FAILED job no longer counts",
			faults: Faults{OneDownloadPerSnapshot: true, FailSnapshotIDs: []string{DefaultSnapshotID}},
			steps: []limitStep{
				ok("Cluster0", DefaultSnapshotID),
				later(minute, busy("Cluster0", DefaultSnapshotID)),
				later(minute, ok("Cluster0", DefaultSnapshotID)),
			},
			concurrent: 1,
		},
		{
			name:   "limit per project: other clusters count, other projects do not",
			faults: Faults{DownloadLimit: 2},
			steps: []limitStep{
				ok("Cluster0", DefaultSnapshotID),
				ok("Cluster0", DefaultSnapshotID), // the same snapshot twice: no per-snapshot rule
				full("Cluster0", DefaultOlderSnapshotID),
				full("Cluster1", DefaultSecondClusterSnapshotID),
				full("Flex0", DefaultFlexSnapshotID),
				ok("Reports0", DefaultSecondProjectSnapshotID),
				later(2*minute-time.Second, full("Cluster0", DefaultSnapshotID)), // still RUNNING
				later(time.Second, ok("Flex0", DefaultFlexSnapshotID)),           // both COMPLETED
				ok("Cluster1", DefaultSecondClusterSnapshotID),
				full("Cluster0", DefaultSnapshotID),
			},
			tooMany: 5,
		},
		{
			name:   "both: the per-snapshot answer comes first",
			faults: Faults{DownloadLimit: 1, OneDownloadPerSnapshot: true},
			steps: []limitStep{
				ok("Cluster0", DefaultSnapshotID),
				busy("Cluster0", DefaultSnapshotID),
				full("Cluster0", DefaultOlderSnapshotID),
				later(2*minute, ok("Cluster0", DefaultOlderSnapshotID)),
			},
			tooMany: 1, concurrent: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newSimEnv(t, Config{QueuedFor: minute, RunningFor: minute, Faults: tc.faults})
			clients := map[string]*digestClient{}
			accepted := map[string]int64{} // project/cluster -> jobs
			for i, st := range tc.steps {
				env.clock.Advance(st.advance)
				target := limitTargets[st.target]
				c := clients[st.target]
				if c == nil {
					c = env.client(target.hdr...)
					clients[st.target] = c
				}
				before := len(env.sim.Jobs())
				resp, data := c.do(http.MethodPost, target.base+"/download", downloadBody(st.snapshot))
				if st.status == http.StatusOK {
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("step %d (%s %s): status %d, want 200: %s", i, st.target, st.snapshot, resp.StatusCode, data)
					}
					project := DefaultProjectID
					if st.target == "Reports0" {
						project = DefaultSecondProjectID
					}
					accepted[project+"/"+st.target]++
					continue
				}
				e := apiErrorBody(t, resp, data, st.status, st.code)
				if p, _ := e["parameters"].([]any); len(p) != 2 {
					t.Errorf("step %d: parameters %v, want two", i, e["parameters"])
				}
				if after := len(env.sim.Jobs()); after != before {
					t.Errorf("step %d: a refused request changed the jobs from %d to %d", i, before, after)
				}
			}
			st := env.sim.Stats()
			if st.Faults.TooManyDownloads != tc.tooMany || st.Faults.ConcurrentDownloads != tc.concurrent {
				t.Errorf("faults.tooManyDownloads %d, faults.concurrentDownloads %d; want %d, %d",
					st.Faults.TooManyDownloads, st.Faults.ConcurrentDownloads, tc.tooMany, tc.concurrent)
			}
			for key, n := range accepted {
				if st.JobsCreated[key] != n {
					t.Errorf("jobsCreated[%s] = %d, want %d", key, st.JobsCreated[key], n)
				}
			}
			var refused int64
			for _, byStatus := range st.Routes {
				refused += byStatus["400"]
			}
			if refused != tc.tooMany+tc.concurrent {
				t.Errorf("%d answers of 400 counted under routes, want %d", refused, tc.tooMany+tc.concurrent)
			}
		})
	}
}

// TestDownloadLimitsFollowPinnedStatus: a status pinned with SetJobStatus
// decides, as for reads, and SetFaults turns the limits on while running.
func TestDownloadLimitsFollowPinnedStatus(t *testing.T) {
	env := newSimEnv(t, Config{})
	c := env.client()
	post := func() (*http.Response, []byte) {
		return c.do(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID))
	}
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	id := job["id"].(string)
	if err := env.sim.SetJobStatus(DefaultProjectID, DefaultClusterName, id, StatusRunning); err != nil {
		t.Fatal(err)
	}
	if resp, data := post(); resp.StatusCode != http.StatusOK {
		t.Fatalf("before the limits are on: %d %s", resp.StatusCode, data)
	}
	if err := env.sim.SetFaults(Faults{OneDownloadPerSnapshot: true}); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(24 * time.Hour) // a pinned RUNNING job stays unfinished
	resp, data := post()
	apiErrorBody(t, resp, data, http.StatusBadRequest, codeConcurrentDownload)
	for _, status := range []string{StatusPending, StatusQueued} {
		if err := env.sim.SetJobStatus(DefaultProjectID, DefaultClusterName, id, status); err != nil {
			t.Fatal(err)
		}
		resp, data := post()
		apiErrorBody(t, resp, data, http.StatusBadRequest, codeConcurrentDownload)
	}
	if err := env.sim.SetJobStatus(DefaultProjectID, DefaultClusterName, id, StatusCompleted); err != nil {
		t.Fatal(err)
	}
	if resp, data := post(); resp.StatusCode != http.StatusOK {
		t.Errorf("once the job is COMPLETED: %d %s", resp.StatusCode, data)
	}
	if n := len(env.sim.Jobs()); n != 3 {
		t.Errorf("%d jobs, want 3", n)
	}
}

// TestRefusedDownloadDropped counts a refusal whose answer is then lost as
// both a refusal and a drop, and it creates no job.
func TestRefusedDownloadDropped(t *testing.T) {
	env := newSimEnv(t, Config{QueuedFor: time.Minute})
	c := env.client()
	c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	if err := env.sim.SetFaults(Faults{DownloadLimit: 1, DropRate: 1}); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(hc.CloseIdleConnections)
	dc := &digestClient{t: t, base: env.srv.URL, hc: hc, user: DefaultPublicKey, pass: DefaultPrivateKey}
	const uri = tenantBase + "/download"
	nonce := dc.fetchNonce(http.MethodPost, uri)
	req, err := http.NewRequest(http.MethodPost, env.srv.URL+uri, strings.NewReader(downloadBody(DefaultOlderSnapshotID)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", digestAuthorization(DefaultPublicKey, DefaultPrivateKey, http.MethodPost, uri, nonce, 1, "abc"))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer, want a dropped connection: %d", resp.StatusCode)
	}
	st := env.sim.Stats()
	if st.Faults.Dropped != 1 || st.Faults.TooManyDownloads != 1 || st.Routes["POST "+tenantV1.prefix+"/download"]["400"] != 1 {
		t.Errorf("stats %+v", st)
	}
	if n := len(env.sim.Jobs()); n != 1 {
		t.Errorf("%d jobs, want 1", n)
	}
}

func TestDownloadLimitValidation(t *testing.T) {
	if _, err := New(Config{Faults: Faults{DownloadLimit: -1}}); err == nil {
		t.Error("New accepted DownloadLimit -1")
	}
	sim, err := New(Config{Faults: Faults{DownloadLimit: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetFaults(Faults{DownloadLimit: -2}); err == nil {
		t.Error("SetFaults accepted DownloadLimit -2")
	}
	if f := sim.Faults(); f.DownloadLimit != 3 {
		t.Errorf("a refused SetFaults changed the limit to %d", f.DownloadLimit)
	}
}
