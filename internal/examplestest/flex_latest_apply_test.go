// SPDX-License-Identifier: MPL-2.0

package examplestest

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// flexLatest is a copy of examples/ (so that the module resolves by its
// relative path) ready to run examples/flex-latest with the provider built
// from this checkout.
type flexLatest struct {
	tf, dir, rc string
}

func newFlexLatest(t *testing.T) *flexLatest {
	t.Helper()
	tf := findTerraform(t)
	root := moduleRoot(t)
	tmp := t.TempDir()
	copyTree(t, filepath.Join(root, "examples"), filepath.Join(tmp, "examples"))
	mirror := filepath.Join(tmp, "mirror")
	buildProvider(t, root, mirror)
	rc := filepath.Join(tmp, "cli.tfrc")
	writeCLIConfig(t, rc, mirror)
	f := &flexLatest{tf: tf, dir: filepath.Join(tmp, "examples", "flex-latest"), rc: rc}
	if out, err := f.run(nil, "init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	return f
}

// run runs terraform in the example with env added to a clean environment.
func (f *flexLatest) run(env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.tf, args...)
	cmd.Dir = f.dir
	cmd.Env = append(append(cleanEnv(), "TF_CLI_CONFIG_FILE="+f.rc, "TF_IN_AUTOMATION=1", "TF_INPUT=0",
		"CHECKPOINT_DISABLE=1"), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// simulator serves seed (nil: the default seed) on loopback and returns
// the environment that points the example at it.
func simulator(t *testing.T, seed *atlassim.Seed) []string {
	t.Helper()
	sim, err := atlassim.New(atlassim.Config{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return []string{"TF_VAR_base_url=" + srv.URL,
		"MONGODB_ATLAS_PUBLIC_KEY=" + atlassim.DefaultPublicKey, "MONGODB_ATLAS_PRIVATE_KEY=" + atlassim.DefaultPrivateKey}
}

// TestFlexLatest_noCompletedSnapshot applies examples/flex-latest against
// a Flex0 whose only snapshots are unfinished or failed, and expects the
// module's precondition to say so, naming the cluster.
func TestFlexLatest_noCompletedSnapshot(t *testing.T) {
	f := newFlexLatest(t)
	seed := atlassim.DefaultSeed()
	for i := range seed.Projects[0].FlexClusters {
		fc := &seed.Projects[0].FlexClusters[i]
		if fc.Name != atlassim.DefaultFlexClusterName {
			continue
		}
		fc.Snapshots = []atlassim.SeedSnapshot{
			{ID: "6568a1b2c3d4e5f6000000f4", Status: "RUNNING", ScheduledTime: "2026-11-28T10:00:00Z"},
			{ID: "6568a1b2c3d4e5f6000000f5", Status: "FAILED", ScheduledTime: "2026-11-27T10:00:00Z"},
		}
	}
	env := simulator(t, seed)
	out, err := f.run(env, "apply", "-auto-approve", "-input=false", "-no-color")
	if err == nil {
		t.Fatalf("apply succeeded without a completed snapshot:\n%s", out)
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"Resource precondition failed",
		`Flex cluster "` + atlassim.DefaultFlexClusterName + `" in project ` + atlassim.DefaultProjectID +
			" has no COMPLETED snapshot, so there is nothing to download yet.",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("apply's output has no %q:\n%s", want, out)
		}
	}
}

// TestFlexLatest_wireLogThroughTerraform applies examples/flex-latest with
// the provider as Terraform runs it, a plugin process whose log lines
// Terraform filters and writes to TF_LOG_PATH: with TF_LOG=DEBUG, as the
// README says, the wire log is there, each line with the request id and
// type of the resource or data source that made it; TF_LOG_PROVIDER=DEBUG
// shows it without Terraform's own lines. With TF_LOG=INFO no provider
// variable brings it back, which the README says too.
func TestFlexLatest_wireLogThroughTerraform(t *testing.T) {
	f := newFlexLatest(t)
	env := simulator(t, nil)
	logs := t.TempDir()

	debugLog := filepath.Join(logs, "debug.log")
	if out, err := f.run(append(env, "TF_LOG=DEBUG", "TF_LOG_PATH="+debugLog),
		"apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	lines := readLines(t, debugLog)
	wire := withAll(lines, "Atlas HTTP exchange", "@module=atlas.atlas_http")
	if len(wire) == 0 {
		t.Fatalf("no wire log line among %d lines of the TF_LOG=DEBUG log", len(lines))
	}
	for _, l := range wire {
		if !strings.Contains(l, "tf_req_id=") || !strings.Contains(l, "tf_rpc=") {
			t.Errorf("wire line without tf_req_id or tf_rpc: %.300s", l)
		}
		if strings.Contains(l, atlassim.DefaultPrivateKey[:8]) || strings.Contains(l, "token=") && !strings.Contains(l, "token=[redacted]") {
			t.Errorf("wire line with a secret: %.300s", l)
		}
	}
	for _, want := range [][]string{
		{"method=POST", "status=200", "/flexClusters/Flex0/backup/download", "tf_resource_type=atlas_flex_snapshot_download", "tf_rpc=ApplyResourceChange"},
		{"method=GET", "status=200", "/flexClusters/Flex0/backup/snapshots", "tf_data_source_type=atlas_flex_snapshots", "tf_rpc=ReadDataSource"},
	} {
		if len(withAll(wire, want...)) == 0 {
			t.Errorf("no wire line with all of %q", want)
		}
	}

	providerLog := filepath.Join(logs, "provider.log")
	if out, err := f.run(append(env, "TF_LOG_PROVIDER=DEBUG", "TF_LOG_PATH="+providerLog),
		"plan", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform plan: %v\n%s", err, out)
	}
	lines = readLines(t, providerLog)
	if len(withAll(lines, "Atlas HTTP exchange", "@module=atlas.atlas_http", "tf_req_id=")) == 0 {
		t.Errorf("no wire log line among %d lines of the TF_LOG_PROVIDER=DEBUG log", len(lines))
	}
	if core := withAll(lines, "[INFO]  Terraform version"); len(core) > 0 {
		t.Errorf("the TF_LOG_PROVIDER=DEBUG log has Terraform's own lines: %.300s", core[0])
	}

	infoLog := filepath.Join(logs, "info.log")
	if out, err := f.run(append(env, "TF_LOG=INFO", "TF_LOG_PROVIDER_ATLAS_HTTP=TRACE", "TF_LOG_PATH="+infoLog),
		"plan", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform plan: %v\n%s", err, out)
	}
	lines = readLines(t, infoLog)
	if len(withAll(lines, "[INFO]")) == 0 {
		t.Fatalf("the TF_LOG=INFO log has no INFO line (%d lines): it proves nothing", len(lines))
	}
	if wire := withAll(lines, "Atlas HTTP exchange"); len(wire) > 0 {
		t.Errorf("Terraform passed on %d wire lines at TF_LOG=INFO; the README says it does not: %.300s", len(wire), wire[0])
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n")
}

// withAll returns the lines that contain every one of subs.
func withAll(lines []string, subs ...string) []string {
	var out []string
	for _, l := range lines {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}
