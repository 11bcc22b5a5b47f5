// SPDX-License-Identifier: MPL-2.0

package loadtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// The situations of one snapshot downloaded from several places at once,
// where a lost answer leaves a job that more than one request could take:
// two aliases of the provider, two applies on one machine, an interrupted
// apply, and (for figures only) two machines.

// coordinationSim is a simulator that acts on 30% of the API requests and
// then drops the connection, besides its rate limit, 5xx answers and stale
// nonces. Jobs take queued+running to finish (0: done at once).
func coordinationSim(t *testing.T, seed uint64, queued, running time.Duration) *atlassim.Server {
	t.Helper()
	sim, err := atlassim.New(atlassim.Config{
		Faults: atlassim.Faults{
			RateLimitCapacity: 30,
			RateLimitRefill:   30,
			RateLimitPeriod:   time.Second,
			ErrorRate:         0.05,
			DropRate:          0.3,
			NonceLifetime:     2 * time.Second,
			RandSeed:          seed,
		},
		QueuedFor:  queued,
		RunningFor: running,
		Logf:       simLog(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// simLog writes the simulator's requests to the file LOADTEST_SIM_LOG
// names, if any: what to read when a run loses a job.
func simLog(t *testing.T) func(string, ...any) {
	name := os.Getenv("LOADTEST_SIM_LOG")
	if name == "" {
		return nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var mu sync.Mutex
	return func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(f, "%s %s: %s\n", time.Now().Format("15:04:05.000"), t.Name(), fmt.Sprintf(format, args...))
	}
}

// applyArgs applies at LOADTEST_PARALLELISM.
func applyArgs(t *testing.T) []string {
	return []string{"apply", "-auto-approve", "-no-color", "-parallelism=" + strconv.Itoa(envInt(t, "LOADTEST_PARALLELISM", 10))}
}

// mayHaveCreated counts the resources an apply gave up on because Atlas
// may hold their job.
func mayHaveCreated(out string) int {
	return strings.Count(out, "Error: Atlas May Have Created a Download Job")
}

// logJobs prints what became of the jobs, for the docs.
func logJobs(t *testing.T, what string, resources int, c jobCount, failed int, sim *atlassim.Server) {
	t.Helper()
	st := sim.Stats()
	t.Logf("%s: %d resources in the state, %d jobs; %d resources share a job, %d jobs orphaned, "+
		"%d \"may have created\" failures; simulator: %d API requests, %d dropped after acting, %d injected 5xx, %d rate limited",
		what, resources, c.jobs, len(c.shared), len(c.orphans), failed,
		st.TotalRequests, st.Faults.Dropped, st.Faults.Injected5xx, st.Faults.RateLimited)
}

// perPlace is how many downloads each alias or working directory asks for:
// 25 at the default size, as in the reports of shared jobs, and half of
// LOADTEST_N when that is larger.
func perPlace(t *testing.T) int {
	return max(25, envInt(t, "LOADTEST_N", 20)/2)
}

// Two aliases of the provider in one configuration are two provider
// processes asking for the same snapshot.
func TestApplyTwoAliasesOfOneSnapshot(t *testing.T) {
	needTerraform(t)
	per := perPlace(t)
	sim := coordinationSim(t, 7, 0, 0)
	srv := httptest.NewServer(sim)
	defer srv.Close()

	w := newWorkdir(t, "aliases", downloadsConfig(srv.URL, group{"a", per}, group{"b", per}), append(apiKey, lockDirEnv(t))...)
	out, err := w.run(applyArgs(t)...)
	if err != nil {
		t.Errorf("terraform apply: %v\n%s", err, tail(out, 4000))
	}
	resources := w.state()
	c := countJobs(sim.Jobs(), resources)
	logJobs(t, "two aliases", len(resources), c, mayHaveCreated(out), sim)
	if len(resources) != 2*per {
		t.Errorf("state holds %d resources, want %d", len(resources), 2*per)
	}
	assertOneJobEach(t, c)
	assertDropped(t, sim)
}

// applyAtOnce applies in every working directory at the same time and
// returns the outputs, the errors and the states.
func applyAtOnce(t *testing.T, ws ...*workdir) (outs []string, errs []error, states [][]stateResource) {
	t.Helper()
	runs := make([]*terraformRun, len(ws))
	for i, w := range ws {
		runs[i] = w.start(applyArgs(t)...)
	}
	outs, errs = make([]string, len(ws)), make([]error, len(ws))
	for i, r := range runs {
		outs[i], errs[i] = r.wait()
	}
	for _, w := range ws {
		states = append(states, w.state())
	}
	return outs, errs, states
}

// twoWorkdirs makes two working directories of per downloads each, with
// the given lock directories.
func twoWorkdirs(t *testing.T, baseURL, lockA, lockB string) []*workdir {
	cfg := downloadsConfig(baseURL, group{count: perPlace(t)})
	return []*workdir{
		newWorkdir(t, "a", cfg, append(apiKey, lockA)...),
		newWorkdir(t, "b", cfg, append(apiKey, lockB)...),
	}
}

// Two working directories applying at once on one machine (a CI runner,
// terragrunt run-all) share the lock directory.
func TestApplyTwoWorkdirsAtOnce(t *testing.T) {
	needTerraform(t)
	sim := coordinationSim(t, 11, 0, 0)
	srv := httptest.NewServer(sim)
	defer srv.Close()

	lock := lockDirEnv(t)
	ws := twoWorkdirs(t, srv.URL, lock, lock)
	outs, errs, states := applyAtOnce(t, ws...)
	failed := 0
	for i, err := range errs {
		failed += mayHaveCreated(outs[i])
		if err != nil {
			t.Errorf("terraform apply in %s: %v\n%s", ws[i].path, err, tail(outs[i], 4000))
		}
	}
	c := countJobs(sim.Jobs(), states...)
	logJobs(t, "two applies, one lock directory", len(states[0])+len(states[1]), c, failed, sim)
	for i, s := range states {
		if len(s) != perPlace(t) {
			t.Errorf("state %d holds %d resources, want %d", i, len(s), perPlace(t))
		}
	}
	assertOneJobEach(t, c)
	assertDropped(t, sim)
}

// Two machines share nothing but Atlas: when more than one unclaimed job
// could be a lost request's, the provider fails rather than guess. These
// are figures for the docs, not assertions; they run in the full-size load
// (LOADTEST_N of 100 or more) or with LOADTEST_MACHINES=1.
func TestApplyOnTwoMachinesFigures(t *testing.T) {
	needTerraform(t)
	if envInt(t, "LOADTEST_N", 20) < 100 && os.Getenv("LOADTEST_MACHINES") == "" {
		t.Skip("figures only: set LOADTEST_MACHINES=1 or LOADTEST_N=100 or more")
	}
	var shared, orphans, named, failed, resources, jobs int
	for trial := range trials(t) {
		sim := coordinationSim(t, uint64(100+trial), 0, 0)
		srv := httptest.NewServer(sim)
		ws := twoWorkdirs(t, srv.URL, lockDirEnv(t), lockDirEnv(t))
		outs, _, states := applyAtOnce(t, ws...)
		srv.Close()
		c := countJobs(sim.Jobs(), states...)
		f := mayHaveCreated(outs[0]) + mayHaveCreated(outs[1])
		logJobs(t, fmt.Sprintf("two machines, trial %d", trial+1), len(states[0])+len(states[1]), c, f, sim)
		for _, id := range c.orphans {
			// An orphan the error names as a candidate can be imported.
			if strings.Contains(outs[0]+outs[1], id) {
				named++
			}
		}
		shared, orphans, failed = shared+len(c.shared), orphans+len(c.orphans), failed+f
		resources, jobs = resources+2*perPlace(t), jobs+c.jobs
	}
	t.Logf("two machines, %d trials of 2 x %d downloads: %d of %d resources shared a job, %d of %d jobs orphaned "+
		"(%d of them named as candidates in an error), %d \"may have created\" failures",
		trials(t), perPlace(t), shared, resources, orphans, jobs, named, failed)
}

// trials is how many times the interruption and the two machines are
// tried: LOADTEST_TRIALS, by default once, and five times in the full-size
// load.
func trials(t *testing.T) int {
	def := 1
	if envInt(t, "LOADTEST_N", 20) >= 100 {
		def = 5
	}
	return envInt(t, "LOADTEST_TRIALS", def)
}

// An interrupt while download requests are in flight must leave every job
// Atlas made in the state: the provider looks for the jobs of answers it
// lost to the interrupt before it returns.
func TestInterruptApplyWithRequestsInFlight(t *testing.T) {
	needTerraform(t)
	n := envInt(t, "LOADTEST_N", 20)
	for trial := range trials(t) {
		t.Run(fmt.Sprintf("trial %d", trial+1), func(t *testing.T) { interruptApply(t, n, uint64(200+trial)) })
	}
}

func interruptApply(t *testing.T, n int, seed uint64) {
	// Jobs take a moment to finish, so the interrupt also meets resources
	// that wait for their link.
	sim := coordinationSim(t, seed, time.Second, time.Second)
	interrupt := make(chan struct{})
	h := &interruptAfter{next: sim, from: int64(max(1, n/4)), fire: func() { close(interrupt) }, release: make(chan struct{})}
	h.to = h.from + int64(max(1, min(n, envInt(t, "LOADTEST_PARALLELISM", 10))/3)) - 1
	srv := httptest.NewServer(h)
	defer srv.Close()

	w := newWorkdir(t, "interrupted", downloadsConfig(srv.URL, group{count: n}), append(apiKey, lockDirEnv(t))...)
	run := w.start(applyArgs(t)...)
	exited := make(chan struct{})
	var out string
	go func() { out, _ = run.wait(); close(exited) }()
	select {
	case <-interrupt:
		if err := run.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		<-exited
	case <-exited:
		t.Fatalf("terraform exited before %d download requests reached the simulator:\n%s", h.to, tail(out, 4000))
	}
	close(h.release)
	resources := w.state()
	c := countJobs(sim.Jobs(), resources)
	logJobs(t, fmt.Sprintf("interrupted with download requests %d to %d of %d in flight, %d of them acted on",
		h.from, h.to, n, h.lost.Load()), len(resources), c, mayHaveCreated(out), sim)
	if h.lost.Load() == 0 {
		t.Errorf("no job's answer was lost to the interrupt; the trial proved nothing:\n%s", tail(out, 4000))
	}
	assertOneJobEach(t, c)
	if t.Failed() {
		t.Logf("terraform apply:\n%s", tail(out, 8000))
	}
}

// interruptAfter passes requests to next, but holds the answers to
// download requests from..to (counted from 1) that made a job until the
// client gives up on them, and calls fire when the last of them has
// arrived: Atlas has acted, and its answer is lost to the interrupt, as
// when someone presses Ctrl-C while requests are on the wire. Later
// requests are not held: resources that start after the interrupt reached
// the provider cannot be interrupted, and would wait out their timeout.
// Closing release lets any answer still held go.
type interruptAfter struct {
	next     http.Handler
	from, to int64
	fire     func()
	release  chan struct{}

	posts atomic.Int64
	lost  atomic.Int64 // held answers of requests Atlas acted on
}

func (h *interruptAfter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/download") {
		if i := h.posts.Add(1); i >= h.from && i <= h.to {
			w = &heldWriter{ResponseWriter: w, done: r.Context().Done(), release: h.release, lost: &h.lost}
			if i == h.to {
				h.fire()
			}
		}
	}
	h.next.ServeHTTP(w, r)
}

// heldWriter sends a success only once done (the client has hung up by
// then) or release. Refusals pass at once: Atlas did nothing, and the
// server, which has not read their body, would not see the client go.
type heldWriter struct {
	http.ResponseWriter
	done, release <-chan struct{}
	lost          *atomic.Int64
	held          bool
}

func (w *heldWriter) WriteHeader(code int) {
	if !w.held {
		w.held = true
		if code < 300 {
			w.lost.Add(1)
			select {
			case <-w.done:
			case <-w.release:
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *heldWriter) Write(b []byte) (int, error) {
	if !w.held {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets the simulator drop the connection.
func (w *heldWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// assertDropped fails a test whose simulator never dropped an answer
// after acting: nothing was left to find.
func assertDropped(t *testing.T, sim *atlassim.Server) {
	t.Helper()
	if sim.Stats().Faults.Dropped == 0 {
		t.Error("the simulator dropped no answer; the test proved nothing")
	}
}
