// SPDX-License-Identifier: MPL-2.0

// Package loadtest applies many download resources at once through the
// real terraform CLI and the built provider, against a simulator that
// rate limits, fails, drops connections, expires nonces and refuses
// downloads beyond a per-project limit, and checks that every resource
// ends with exactly one job of its own and that no job is left without
// one: with the API key and with a service account, through two aliases
// of the provider, from two working directories at once, and when an apply
// is interrupted while requests are in flight (coordination_test.go).
//
// make test runs it small (LOADTEST_N=20); make loadtest runs the full
// size (200 resources, -parallelism=50), five interrupted trials, and the
// figures for two machines, and prints the counts. LOADTEST_DOWNLOAD_LIMIT
// sets the per-project download limit (default a third of the
// parallelism); LOADTEST_TRIALS the number of trials;
// LOADTEST_PROVIDER_SOURCE another checkout to build the provider from, to
// measure an older one; LOADTEST_SIM_LOG a file for the simulator's
// request log.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q is not a positive whole number", name, v)
	}
	return n
}

// needTerraform skips a load test unless TF_ACC is set.
func needTerraform(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run the load test (make test does)")
	}
}

// terraformBinary is the terraform the acceptance tests use.
func terraformBinary(t *testing.T) string {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("no terraform found (set TF_ACC_TERRAFORM_PATH or put terraform on PATH; make test does)")
	}
	return p
}

// The load runs once with each way to authenticate: the API key (digest)
// and a service account (Bearer tokens, whose endpoint meets the faults
// too).
func TestApplyManyDownloadsUnderFaults(t *testing.T) {
	needTerraform(t)
	auth := map[string][]string{
		"api key": apiKey,
		"service account": {"MONGODB_ATLAS_PUBLIC_KEY=", "MONGODB_ATLAS_PRIVATE_KEY=",
			"MONGODB_ATLAS_CLIENT_ID=" + atlassim.DefaultClientID, "MONGODB_ATLAS_CLIENT_SECRET=" + atlassim.DefaultClientSecret},
	}
	for _, name := range []string{"api key", "service account"} {
		t.Run(name, func(t *testing.T) { applyManyDownloads(t, auth[name], name == "service account") })
	}
}

// applyManyDownloads is the load with the given credentials in terraform's
// environment.
func applyManyDownloads(t *testing.T, credentials []string, serviceAccount bool) {
	n := envInt(t, "LOADTEST_N", 20)
	parallelism := envInt(t, "LOADTEST_PARALLELISM", 10)
	// Fewer jobs may be unfinished than terraform runs at once, so some
	// requests meet TOO_MANY_SNAPSHOT_DOWNLOADS and must wait their turn.
	downloadLimit := envInt(t, "LOADTEST_DOWNLOAD_LIMIT", max(1, parallelism/3))

	faults := atlassim.Faults{
		RateLimitCapacity: 30,
		RateLimitRefill:   30,
		RateLimitPeriod:   time.Second,
		ErrorRate:         0.10,
		DropRate:          0.03,
		NonceLifetime:     2 * time.Second,
		RandSeed:          42,
		DownloadLimit:     downloadLimit,
	}
	// On the real clock, as terraform runs for real: each job holds its
	// place under the limit for one to two seconds.
	sim, err := atlassim.New(atlassim.Config{Faults: faults, QueuedFor: time.Second, RunningFor: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()

	w := newWorkdir(t, "work", downloadsConfig(srv.URL, group{count: n}), append(credentials, lockDirEnv(t))...)
	start := time.Now()
	applyOut, err := w.run("apply", "-auto-approve", "-no-color", "-parallelism="+strconv.Itoa(parallelism))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, tail(applyOut, 4000))
	}
	for _, bad := range []string{"Warning:", "Error:"} {
		if strings.Contains(applyOut, bad) {
			t.Errorf("apply showed a diagnostic (%s):\n%s", bad, tail(applyOut, 4000))
		}
	}
	resources := w.state()
	if len(resources) != n {
		t.Fatalf("state holds %d resources, want %d", len(resources), n)
	}
	for _, r := range resources {
		if r.Values["status"] != "COMPLETED" || r.Values["snapshot_url"] == nil {
			t.Errorf("%s ended %v with url set = %v", r.Address, r.Values["status"], r.Values["snapshot_url"] != nil)
		}
	}
	jobs := sim.Jobs()
	if len(jobs) != n {
		t.Errorf("simulator holds %d jobs for %d resources", len(jobs), n)
	}
	assertOneJobEach(t, countJobs(jobs, resources))
	st := sim.Stats()
	t.Logf("load: %d resources, -parallelism=%d, download limit %d, apply %s; simulator: %d API requests, %d token requests, "+
		"%d digest challenges, %d rate limited (429), %d injected 5xx, %d dropped after acting, %d stale nonces, "+
		"%d refused over the download limit; %d jobs",
		n, parallelism, downloadLimit, elapsed.Round(time.Millisecond), st.TotalRequests-st.TokenRequests, st.TokenRequests,
		st.DigestChallenges, st.Faults.RateLimited, st.Faults.Injected5xx, st.Faults.Dropped, st.Faults.StaleNonce,
		st.Faults.TooManyDownloads, len(jobs))
	switch {
	case serviceAccount && (st.TokenRequests == 0 || st.DigestChallenges != 0):
		t.Errorf("the service-account run made %d token requests and met %d digest challenges; it did not use the service account",
			st.TokenRequests, st.DigestChallenges)
	case !serviceAccount && st.TokenRequests != 0:
		t.Errorf("the API-key run made %d token requests", st.TokenRequests)
	}
	if n >= 20 && st.Faults.Injected5xx+st.Faults.Dropped == 0 {
		t.Errorf("no fault fired; the test proved nothing: %+v", st.Faults)
	}
	if n > downloadLimit && parallelism > downloadLimit && st.Faults.TooManyDownloads == 0 {
		t.Errorf("the download limit of %d never refused a request at -parallelism=%d; it was not tested", downloadLimit, parallelism)
	}
}

// group is count downloads of the default snapshot through one provider
// configuration: the default one, or the alias named.
type group struct {
	alias string
	count int
}

// downloadsConfig is a configuration with a provider block and a counted
// download resource for each group, all against baseURL.
func downloadsConfig(baseURL string, groups ...group) string {
	var b strings.Builder
	b.WriteString("terraform {\n  required_providers {\n    atlas = { source = \"atlas-community/atlas\" }\n  }\n}\n")
	for _, g := range groups {
		name, ref := "load", ""
		fmt.Fprintf(&b, "provider \"atlas\" {\n  base_url = %q\n", baseURL)
		if g.alias != "" {
			name, ref = g.alias, "  provider     = atlas."+g.alias+"\n"
			fmt.Fprintf(&b, "  alias    = %q\n", g.alias)
		}
		fmt.Fprintf(&b, "}\nresource \"atlas_tenant_snapshot_download\" %q {\n%s  count        = %d\n  project_id   = %q\n"+
			"  cluster_name = %q\n  snapshot_id  = %q\n}\n",
			name, ref, g.count, atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID)
	}
	return b.String()
}

// apiKey is terraform's environment for the simulator's API key.
var apiKey = []string{"MONGODB_ATLAS_PUBLIC_KEY=" + atlassim.DefaultPublicKey, "MONGODB_ATLAS_PRIVATE_KEY=" + atlassim.DefaultPrivateKey}

// lockDirEnv points the provider at a lock directory of the test's own,
// so that runs never meet each other's records or the user's.
func lockDirEnv(t *testing.T) string {
	return "MONGODB_ATLAS_LOCK_DIR=" + filepath.Join(t.TempDir(), "locks")
}

// workdir is a terraform working directory, initialised against the built
// provider.
type workdir struct {
	t        *testing.T
	tf, path string
	env      []string
}

// newWorkdir writes cfg into a new working directory and runs terraform
// init there; env is added to terraform's environment.
func newWorkdir(t *testing.T, name, cfg string, env ...string) *workdir {
	t.Helper()
	w := &workdir{t: t, tf: terraformBinary(t), path: filepath.Join(t.TempDir(), name)}
	if err := os.MkdirAll(w.path, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(w.path, "main.tf"), cfg)
	rc := filepath.Join(w.path, "terraform.rc")
	write(t, rc, fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.terraform.io/atlas-community/atlas\"]\n  }\n}\n", providerMirror(t)))
	// Later entries win over the developer's own environment.
	w.env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1",
		"MONGODB_ATLAS_CLIENT_ID=", "MONGODB_ATLAS_CLIENT_SECRET=", "MONGODB_ATLAS_ACCESS_TOKEN=")
	w.env = append(w.env, env...)
	if out, err := w.run("init", "-no-color"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, tail(out, 4000))
	}
	return w
}

// terraformRun is terraform running in a working directory.
type terraformRun struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	cancel context.CancelFunc
}

// start starts terraform with args.
func (w *workdir) start(args ...string) *terraformRun {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	r := &terraformRun{cmd: exec.CommandContext(ctx, w.tf, args...), cancel: cancel}
	r.cmd.Dir, r.cmd.Env = w.path, w.env
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		cancel()
		w.t.Fatalf("starting terraform %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// wait waits for terraform to exit and returns its output.
func (r *terraformRun) wait() (string, error) {
	defer r.cancel()
	err := r.cmd.Wait()
	return r.out.String(), err
}

func (w *workdir) run(args ...string) (string, error) {
	w.t.Helper()
	return w.start(args...).wait()
}

// stateResource is one resource instance in terraform show -json.
type stateResource struct {
	Address string                 `json:"address"`
	Values  map[string]interface{} `json:"values"`
}

// state is the resources in the working directory's state.
func (w *workdir) state() []stateResource {
	w.t.Helper()
	out, err := w.run("show", "-json")
	if err != nil {
		w.t.Fatalf("terraform show: %v\n%s", err, tail(out, 4000))
	}
	var state struct {
		Values struct {
			RootModule struct {
				Resources []stateResource `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(out), &state); err != nil {
		w.t.Fatal(err)
	}
	return state.Values.RootModule.Resources
}

// jobCount is how the jobs the simulator holds are spread over resources.
type jobCount struct {
	jobs int
	// shared names the resources whose job another resource holds too,
	// with that job; orphans the jobs no resource holds.
	shared  []string
	orphans []string
}

// countJobs matches the simulator's jobs of the default snapshot with the
// resources of one or more states.
func countJobs(jobs []atlassim.Job, resources ...[]stateResource) jobCount {
	holders := map[string][]string{}
	for _, rs := range resources {
		for _, r := range rs {
			id, _ := r.Values["id"].(string)
			holders[id] = append(holders[id], r.Address)
		}
	}
	var c jobCount
	for id, addrs := range holders {
		if len(addrs) > 1 {
			for _, a := range addrs {
				c.shared = append(c.shared, a+" ("+id+")")
			}
		}
	}
	for _, j := range jobs {
		if j.SnapshotID != atlassim.DefaultSnapshotID {
			continue
		}
		c.jobs++
		if len(holders[j.ID]) == 0 {
			c.orphans = append(c.orphans, j.ID)
		}
	}
	slices.Sort(c.shared)
	return c
}

// assertOneJobEach fails the test unless every resource holds a job of its
// own and every job is held.
func assertOneJobEach(t *testing.T, c jobCount) {
	t.Helper()
	if len(c.shared) > 0 {
		t.Errorf("%d resources hold a job that another resource holds too: %s", len(c.shared), strings.Join(c.shared, ", "))
	}
	if len(c.orphans) > 0 {
		t.Errorf("%d of the simulator's %d jobs belong to no resource (orphans): %s",
			len(c.orphans), c.jobs, strings.Join(c.orphans, ", "))
	}
}

// The provider is built once per test binary, into a filesystem mirror
// that TestMain removes.
var mirror struct {
	once      sync.Once
	root, dir string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if mirror.root != "" {
		os.RemoveAll(mirror.root)
	}
	os.Exit(code)
}

// providerMirror builds the provider into a filesystem mirror and returns
// the mirror's root. LOADTEST_PROVIDER_SOURCE names another checkout to
// build it from, to measure an older provider against the same load.
func providerMirror(t *testing.T) string {
	t.Helper()
	mirror.once.Do(func() {
		const version = "0.1.0"
		src := os.Getenv("LOADTEST_PROVIDER_SOURCE")
		if src == "" {
			src = filepath.Join("..", "..")
		}
		if mirror.root, mirror.err = os.MkdirTemp("", "loadtest-mirror-"); mirror.err != nil {
			return
		}
		mirror.dir = filepath.Join(mirror.root, "mirror")
		plugin := filepath.Join(mirror.dir, "registry.terraform.io", "atlas-community", "atlas", version, runtime.GOOS+"_"+runtime.GOARCH)
		cmd := exec.Command("go", "build", "-o", filepath.Join(plugin, "terraform-provider-atlas_v"+version), ".")
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			mirror.err = fmt.Errorf("building the provider: %v\n%s", err, out)
		}
	})
	if mirror.err != nil {
		t.Fatal(mirror.err)
	}
	return mirror.dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
