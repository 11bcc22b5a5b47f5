// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// testStart is the simulated "now" every test begins at: half an hour after
// the default seed's newest snapshot.
var testStart = time.Date(2026, 11, 28, 12, 30, 0, 0, time.UTC)

// fakeClock is the one clock of a test: the simulator, the provider's
// expiry decisions and its waits all read it, and a wait moves it forward
// instead of sleeping.
type fakeClock = fakeclock.Clock

// testEnv is a simulator on loopback and a provider wired to it.
type testEnv struct {
	t     *testing.T
	clock *fakeClock
	sim   *atlassim.Server
	url   string
	// front, when set, answers a request before the simulator does (a
	// proxy, a fault); it returns false to let the simulator answer.
	front atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
}

func newTestEnv(t *testing.T, cfg atlassim.Config) *testEnv {
	return newSkewedTestEnv(t, cfg, 0)
}

// newSkewedTestEnv is newTestEnv with the simulator's clock ahead of the
// provider's by ahead (behind when negative).
func newSkewedTestEnv(t *testing.T, cfg atlassim.Config, ahead time.Duration) *testEnv {
	t.Helper()
	clock := fakeclock.New(testStart)
	cfg.Now = func() time.Time { return clock.Now().Add(ahead) }
	sim, err := atlassim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, clock: clock, sim: sim}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := e.front.Load(); f != nil && (*f)(w, r) {
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// setFront puts f in front of the simulator; nil takes it away.
func (e *testEnv) setFront(f func(w http.ResponseWriter, r *http.Request) bool) {
	if f == nil {
		e.front.Store(nil)
		return
	}
	e.front.Store(&f)
}

// factories serves the provider in-process, on the test's clock, with fast
// retries.
func (e *testEnv) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"atlas": providerserver.NewProtocol6WithError(New("test",
			WithClock(e.clock.Now, e.clock.Sleep),
			WithClientConfig(func(c *atlas.Config) {
				c.Jitter = func() float64 { return 0.5 }
			}),
		)()),
	}
}

// providerBlock configures the provider for the simulator with its keys.
func (e *testEnv) providerBlock() string {
	return fmt.Sprintf(`
provider "atlas" {
  base_url    = %q
  public_key  = %q
  private_key = %q
}
`, e.url, atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey)
}

// onlyJob returns the single job the simulator holds, failing otherwise.
func (e *testEnv) onlyJob() atlassim.Job {
	e.t.Helper()
	jobs := e.sim.Jobs()
	if len(jobs) != 1 {
		e.t.Fatalf("simulator holds %d jobs, want 1", len(jobs))
	}
	return jobs[0]
}

// unsetAtlasEnv keeps the developer's own Atlas variables out of a test.
func unsetAtlasEnv(t *testing.T) {
	for _, names := range [][]string{envPublicKey, envPrivateKey, envBaseURL} {
		for _, n := range names {
			t.Setenv(n, "")
		}
	}
}

// terraformCLI runs the terraform binary of the tests (TF_ACC_TERRAFORM_PATH,
// else terraform on PATH) in a fresh directory against the provider served
// in-process for this env, skipping the test where there is none. It
// returns the directory and a runner that fails the test on an error exit.
func (e *testEnv) terraformCLI(t *testing.T) (dir string, run func(args ...string) string) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 to run terraform")
	}
	tfPath := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tfPath == "" {
		var err error
		if tfPath, err = exec.LookPath("terraform"); err != nil {
			t.Skip("no terraform on PATH")
		}
	}
	unsetAtlasEnv(t)
	reattach := e.serveForCLI(t)
	dir = t.TempDir()
	cliConfig := filepath.Join(dir, "cli.tfrc")
	if err := os.WriteFile(cliConfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	run = func(args ...string) string {
		t.Helper()
		cmd := exec.Command(tfPath, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_REATTACH_PROVIDERS="+reattach, "CHECKPOINT_DISABLE=1",
			"TF_IN_AUTOMATION=1", "TF_CLI_CONFIG_FILE="+cliConfig, "TF_LOG=", "TF_LOG_PATH=")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	return dir, run
}

const tenantAddr = "atlas_tenant_snapshot_download.test"

var idRegexp = regexp.MustCompile(`^[a-f0-9]{24}$`)

// wrapped compiles a pattern whose spaces also match the line breaks
// Terraform puts into long diagnostics.
func wrapped(pattern string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(pattern, " ", `\s+`))
}

// tenantConfig is the provider block and one download resource; extra is
// added inside the resource block.
func (e *testEnv) tenantConfig(cluster, snapshot, extra string) string {
	return e.providerBlock() + tenantResource(atlassim.DefaultProjectID, cluster, snapshot, extra)
}

// tenantResource is the download resource block alone, for tests that
// write their own provider block.
func tenantResource(project, cluster, snapshot, extra string) string {
	return fmt.Sprintf(`
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %q
  cluster_name = %q
  snapshot_id  = %q
%s
}
`, project, cluster, snapshot, extra)
}

// defaultTenantResource downloads the default seed's newest snapshot.
var defaultTenantResource = tenantResource(atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")

func stateValue(attr string, check knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(tenantAddr, tfjsonpath.New(attr), check)
}

// outsideJob makes a download job the way another tool would, outside
// Terraform, and returns it.
func (e *testEnv) outsideJob(cluster, snapshotID string) *atlas.RestoreJob {
	e.t.Helper()
	c, err := atlas.New(atlas.Config{
		BaseURL: e.url, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		Now: e.clock.Now, Sleep: e.clock.Sleep,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	job, err := c.RequestDownload(context.Background(), atlas.Cluster{Family: atlas.TenantV1, ProjectID: atlassim.DefaultProjectID, Name: cluster}, snapshotID)
	if err != nil {
		e.t.Fatal(err)
	}
	return job
}

func copyAnswer(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// newTestEnvWrapped is newTestEnv with the simulator behind wrap.
func newTestEnvWrapped(t *testing.T, cfg atlassim.Config, wrap func(http.Handler) http.Handler) *testEnv {
	t.Helper()
	clock := fakeclock.New(testStart)
	cfg.Now = clock.Now
	sim, err := atlassim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(wrap(sim))
	t.Cleanup(srv.Close)
	return &testEnv{t: t, clock: clock, sim: sim, url: srv.URL}
}
