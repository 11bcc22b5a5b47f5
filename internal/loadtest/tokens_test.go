// SPDX-License-Identifier: MPL-2.0

package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// The service-account cases: terraform plans whose provider processes each
// read Atlas with a service account, against a simulator that limits the
// token endpoint and the live tokens as Atlas does.

// planRig is a working directory whose configuration reads one data source
// through the built provider, and a simulator it talks to.
type planRig struct {
	t    *testing.T
	sim  *atlassim.Server
	tf   string
	dir  string
	env  []string
	once sync.Once
}

func newPlanRig(t *testing.T, cfg atlassim.Config, extraEnv ...string) *planRig {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run the load test (make test does)")
	}
	sim, err := atlassim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	r := &planRig{t: t, sim: sim, tf: terraformBinary(t), dir: t.TempDir()}
	mirror := providerMirror(t)
	rc := filepath.Join(r.dir, "terraform.rc")
	write(t, rc, fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.terraform.io/atlas-community/atlas\"]\n  }\n}\n", mirror))
	r.env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1",
		"MONGODB_ATLAS_PUBLIC_KEY=", "MONGODB_ATLAS_PRIVATE_KEY=", "MONGODB_ATLAS_ACCESS_TOKEN=",
		"MONGODB_ATLAS_TOKEN_CACHE_DIR=",
		"MONGODB_ATLAS_CLIENT_ID="+atlassim.DefaultClientID, "MONGODB_ATLAS_CLIENT_SECRET="+atlassim.DefaultClientSecret,
		"MONGODB_ATLAS_BASE_URL="+srv.URL)
	r.env = append(r.env, extraEnv...)
	return r
}

// workdir makes the i-th working directory (parallel plans each need
// their own) and runs terraform init in it once the plugin cache is warm.
func (r *planRig) workdir(i int) string {
	r.t.Helper()
	work := filepath.Join(r.dir, fmt.Sprintf("work%d", i))
	if err := os.MkdirAll(work, 0o755); err != nil {
		r.t.Fatal(err)
	}
	write(r.t, filepath.Join(work, "main.tf"), fmt.Sprintf(`
terraform {
  required_providers {
    atlas = { source = "atlas-community/atlas" }
  }
}
provider "atlas" {}
data "atlas_tenant_snapshots" "all" {
  project_id   = %q
  cluster_name = %q
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName))
	if _, err := r.run(work, "init", "-no-color"); err != nil {
		r.t.Fatal(err)
	}
	return work
}

// run runs terraform in work and returns its output, and an error that
// holds the output's tail when it fails.
func (r *planRig) run(work string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.tf, args...)
	cmd.Dir, cmd.Env = work, r.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("terraform %s: %v\n%s", strings.Join(args, " "), err, tail(out.String(), 4000))
	}
	return out.String(), nil
}

func (r *planRig) plan(work string) error {
	_, err := r.run(work, "plan", "-no-color", "-input=false")
	return err
}

// Sequential plans without a token cache: each process revokes the
// tokens it took as it exits, so none is left live, and a run of plans
// stays far from Atlas's 100 live tokens (the simulator is given a
// lower limit to make a leak fail fast).
func TestSequentialPlansRevokeTheirTokens(t *testing.T) {
	plans := envInt(t, "LOADTEST_PLANS", 5)
	r := newPlanRig(t, atlassim.Config{MaxLiveTokens: plans})
	work := r.workdir(0)
	for i := range plans {
		if err := r.plan(work); err != nil {
			t.Fatalf("plan %d: %v", i+1, err)
		}
	}
	st := r.sim.Stats()
	t.Logf("%d sequential plans: %d token requests, %d live tokens, %d revoked", plans, st.TokenRequests, st.LiveTokens, st.RevokedTokens)
	if st.TokenRequests < int64(plans) {
		t.Errorf("%d token requests for %d plans: the plans did not use the service account", st.TokenRequests, plans)
	}
	if st.LiveTokens != 0 || st.RevokedTokens != st.TokenRequests {
		t.Errorf("after %d plans: %d live tokens, %d revoked of %d taken; want none live, all revoked",
			plans, st.LiveTokens, st.RevokedTokens, st.TokenRequests)
	}
}

// parallelPlans runs n plans at once, each in its own working directory,
// and returns the first failure.
func (r *planRig) parallelPlans(n int) error {
	works := make([]string, n)
	for i := range works {
		works[i] = r.workdir(i)
	}
	errs := make(chan error, n)
	for _, w := range works {
		go func() { errs <- r.plan(w) }()
	}
	var first error
	for range works {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// With a token cache, parallel plans take one token between them, well
// inside the token endpoint's limit (set low here so that a process that
// bypassed the cache would meet it), and sequential plans go on using it.
func TestParallelPlansShareCachedToken(t *testing.T) {
	plans := envInt(t, "LOADTEST_PARALLEL_PLANS", 12)
	cache := filepath.Join(t.TempDir(), "tokens")
	r := newPlanRig(t, atlassim.Config{TokenRateLimit: 2}, "MONGODB_ATLAS_TOKEN_CACHE_DIR="+cache)
	if err := r.parallelPlans(plans); err != nil {
		t.Fatal(err)
	}
	st := r.sim.Stats()
	t.Logf("%d parallel plans with the cache: %d token requests, %d live tokens, %d revoked", plans, st.TokenRequests, st.LiveTokens, st.RevokedTokens)
	if st.TokenRequests < 1 || st.TokenRequests > 2 {
		t.Errorf("%d token requests for %d parallel plans with the cache, want 1 or 2", st.TokenRequests, plans)
	}
	if st.LiveTokens != st.TokenRequests {
		t.Errorf("%d live tokens of %d taken; a cached token was revoked", st.LiveTokens, st.TokenRequests)
	}
	work := r.workdir(0)
	for range 3 {
		if err := r.plan(work); err != nil {
			t.Fatal(err)
		}
	}
	if after := r.sim.Stats().TokenRequests; after != st.TokenRequests {
		t.Errorf("sequential plans after them took %d more tokens, want none", after-st.TokenRequests)
	}
}

// Without a cache, parallel plans that exceed the token endpoint's limit
// wait it out and all succeed. The limit's window is Atlas's minute, so
// this case takes about one.
func TestParallelPlansWaitOutTokenLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a minute of the token endpoint's limit")
	}
	const limit = 2
	r := newPlanRig(t, atlassim.Config{TokenRateLimit: limit})
	if err := r.parallelPlans(limit + 1); err != nil {
		t.Fatal(err)
	}
	st := r.sim.Stats()
	t.Logf("%d parallel plans under a limit of %d token requests a minute: %d token requests, %d refused",
		limit+1, limit, st.TokenRequests, st.Faults.RateLimited)
	if st.Faults.RateLimited == 0 {
		t.Errorf("the token endpoint's limit never refused a request; it was not tested")
	}
}
