// SPDX-License-Identifier: MPL-2.0

// Package loadtest applies many download resources at once through the
// real terraform CLI and the built provider, against a simulator that
// rate limits, fails, drops connections, expires nonces and refuses
// downloads beyond a per-project limit, and checks that every resource
// ends with exactly one job of its own.
//
// It runs once with the API key and once with a service account. make test
// runs it small (LOADTEST_N=20); make loadtest runs the full
// size (200 resources, -parallelism=50) and prints the counts.
// LOADTEST_DOWNLOAD_LIMIT sets the per-project download limit (default a
// third of the parallelism).
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
	"strconv"
	"strings"
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
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run the load test (make test does)")
	}
	auth := map[string][]string{
		"api key": {"MONGODB_ATLAS_PUBLIC_KEY=" + atlassim.DefaultPublicKey, "MONGODB_ATLAS_PRIVATE_KEY=" + atlassim.DefaultPrivateKey},
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
	tf := terraformBinary(t)

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

	dir := t.TempDir()
	mirror := buildProviderMirror(t, dir)
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
terraform {
  required_providers {
    atlas = { source = "atlas-community/atlas" }
  }
}
provider "atlas" {
  base_url = %q
}
resource "atlas_tenant_snapshot_download" "load" {
  count        = %d
  project_id   = %q
  cluster_name = %q
  snapshot_id  = %q
}
`, srv.URL, n, atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID)
	write(t, filepath.Join(work, "main.tf"), cfg)
	rc := filepath.Join(dir, "terraform.rc")
	write(t, rc, fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.terraform.io/atlas-community/atlas\"]\n  }\n}\n", mirror))

	// Later entries win over the developer's own environment.
	env := append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1",
		"MONGODB_ATLAS_CLIENT_ID=", "MONGODB_ATLAS_CLIENT_SECRET=", "MONGODB_ATLAS_ACCESS_TOKEN=")
	env = append(env, credentials...)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, tf, args...)
		cmd.Dir, cmd.Env = work, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, tail(out.String(), 4000))
		}
		return out.String()
	}
	run("init", "-no-color")
	start := time.Now()
	applyOut := run("apply", "-auto-approve", "-no-color", "-parallelism="+strconv.Itoa(parallelism))
	elapsed := time.Since(start)
	for _, bad := range []string{"Warning:", "Error:"} {
		if strings.Contains(applyOut, bad) {
			t.Errorf("apply showed a diagnostic (%s):\n%s", bad, tail(applyOut, 4000))
		}
	}

	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string                 `json:"address"`
					Values  map[string]interface{} `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(run("show", "-json")), &state); err != nil {
		t.Fatal(err)
	}
	resources := state.Values.RootModule.Resources
	if len(resources) != n {
		t.Fatalf("state holds %d resources, want %d", len(resources), n)
	}
	ids := map[string]string{}
	for _, r := range resources {
		if r.Values["status"] != "COMPLETED" || r.Values["snapshot_url"] == nil {
			t.Errorf("%s ended %v with url set = %v", r.Address, r.Values["status"], r.Values["snapshot_url"] != nil)
		}
		id, _ := r.Values["id"].(string)
		if other, dup := ids[id]; dup {
			t.Errorf("%s and %s share job %s", r.Address, other, id)
		}
		ids[id] = r.Address
	}
	jobs := sim.Jobs()
	if len(jobs) != n {
		t.Errorf("simulator holds %d jobs for %d resources", len(jobs), n)
	}
	for _, j := range jobs {
		if _, ok := ids[j.ID]; !ok {
			t.Errorf("job %s belongs to no resource (an orphan)", j.ID)
		}
	}
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

// buildProviderMirror builds the provider into a filesystem mirror and
// returns the mirror's root.
func buildProviderMirror(t *testing.T, dir string) string {
	t.Helper()
	const version = "0.1.0"
	mirror := filepath.Join(dir, "mirror")
	plugin := filepath.Join(mirror, "registry.terraform.io", "atlas-community", "atlas", version, runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(plugin, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(plugin, "terraform-provider-atlas_v"+version), ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	return mirror
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
