// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// digestAnswer is what the response of a digest Authorization looks like.
var digestAnswer = regexp.MustCompile(`(?i)response=\\?"?[0-9a-f]{32}`)

// secretsIn lists the secrets of env found in text, by description.
func (e *testEnv) secretsIn(text string) []string {
	e.t.Helper()
	var found []string
	// Pieces count too: a secret cut short or split is still a leak.
	for _, piece := range strings.Split(atlassim.DefaultPrivateKey, "-") {
		if len(piece) >= 8 && strings.Contains(text, piece) {
			found = append(found, "a piece of the private key ("+piece[:3]+"…)")
		}
	}
	if m := digestAnswer.FindString(text); m != "" {
		found = append(found, "a digest response ("+m+")")
	}
	for _, tok := range e.linkTokens() {
		if strings.Contains(text, tok[:12]) || strings.Contains(text, tok[len(tok)-12:]) {
			found = append(found, "(a piece of) the snapshot URL token "+tok[:4]+"…")
		}
	}
	return found
}

// linkTokens are the token= values of every download link the simulator
// has made; the test fails if there are none, so that a search for them
// cannot pass vacuously.
func (e *testEnv) linkTokens() []string {
	e.t.Helper()
	var tokens []string
	for _, j := range e.sim.Jobs() {
		if j.SnapshotURL == "" {
			continue
		}
		u, err := url.Parse(j.SnapshotURL)
		if err != nil {
			e.t.Fatalf("simulator link does not parse: %v", err)
		}
		if tok := u.Query().Get("token"); len(tok) >= 16 {
			tokens = append(tokens, tok)
		}
	}
	if len(tokens) == 0 {
		e.t.Fatal("the simulator made no download link with a token: nothing to look for")
	}
	return tokens
}

// TestAccSecrets_neverLogged runs the whole lifecycle with every log at
// TRACE, the provider's in-process log and Terraform's in one file, and
// searches that file for the secrets.
func TestAccSecrets_neverLogged(t *testing.T) {
	logDir := t.TempDir()
	t.Setenv("TF_LOG", "TRACE")     // the in-process provider's log sink
	t.Setenv("TF_ACC_LOG", "TRACE") // Terraform CLI
	t.Setenv("TF_LOG_PROVIDER_ATLAS_HTTP", "TRACE")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
	unsetAtlasEnv(t)

	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{RefreshState: true},
			{
				ResourceName:      tenantAddr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					rs := s.RootModule().Resources[tenantAddr]
					return fmt.Sprintf("%s/%s/%s", rs.Primary.Attributes["project_id"],
						rs.Primary.Attributes["cluster_name"], rs.Primary.ID), nil
				},
			},
			{
				// The link has expired: the plan renews it.
				PreConfig: func() { env.clock.Advance(4*time.Hour + time.Minute) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
			},
		},
	})

	data, err := os.ReadFile(filepath.Join(logDir, t.Name()+".log"))
	if err != nil {
		t.Fatal(err)
	}
	log := withoutHarnessConfig(t, string(data))
	if n := len(env.linkTokens()); n < 2 {
		t.Errorf("want two links (the first and its renewal), got %d", n)
	}
	// The log must hold what it is searched for, or the search proves
	// nothing: Terraform's own lines, the wire log with statuses, the digest
	// probe, and the redacted Authorization header.
	lines := strings.Split(log, "\n")
	for _, want := range [][]string{
		{"[TRACE]", "terraform"},
		{".atlas_http: Atlas HTTP exchange:", "method=POST", "status=200", "/backup/tenant/download"},
		{".atlas_http: Atlas HTTP exchange:", "method=GET", "status=200", "/backup/tenant/restores/"},
		{".atlas_http: Atlas HTTP exchange:", "status=401", `nonce=\"[redacted]\"`, "error_excerpt="},
		{".atlas_http: Atlas HTTP exchange:", `request_header_authorization="Digest username=\"` + atlassim.DefaultPublicKey + `\", [redacted]"`},
	} {
		if !anyLineHasAll(lines, want) {
			t.Errorf("the log (%d lines) has no line with all of %q", len(lines), want)
		}
	}
	for _, leak := range env.secretsIn(log) {
		for _, line := range strings.Split(log, "\n") {
			if len(env.secretsIn(line)) > 0 {
				t.Logf("leaking line: %.300s", line)
				break
			}
		}
		t.Errorf("the log holds %s", leak)
	}
}

func anyLineHasAll(lines, subs []string) bool {
	for _, l := range lines {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			return true
		}
	}
	return false
}

// logEntryStart begins each hclog entry; other lines continue the entry
// before them.
var logEntryStart = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d`)

// withoutHarnessConfig drops the entries in which terraform-plugin-testing
// echoes the test's own configuration (which holds the key, as the test
// wrote it there); every line Terraform and the provider wrote stays.
func withoutHarnessConfig(t *testing.T, log string) string {
	t.Helper()
	var out strings.Builder
	skipping, skipped := false, 0
	for _, line := range strings.SplitAfter(log, "\n") {
		if logEntryStart.MatchString(line) {
			skipping = strings.Contains(line, "sdk.helper_resource: Setting Terraform configuration:")
			if skipping {
				skipped++
			}
		}
		if !skipping {
			out.WriteString(line)
		}
	}
	if skipped == 0 {
		t.Log("no harness configuration entries to drop")
	}
	return out.String()
}

// TestAccSecrets_notInCLIOutput runs terraform itself against the provider
// served from this process, and searches what plan, apply, show and output
// print for the secrets.
func TestAccSecrets_notInCLIOutput(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute})
	dir, run := env.terraformCLI(t)
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "") + `
output "link" {
  value     = atlas_tenant_snapshot_download.test.snapshot_url
  sensitive = true
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{}
	run("init", "-no-color", "-input=false")
	outputs["plan"] = run("plan", "-no-color", "-input=false")
	outputs["apply"] = run("apply", "-no-color", "-input=false", "-auto-approve")
	outputs["show"] = run("show", "-no-color")
	outputs["state show"] = run("state", "show", "-no-color", tenantAddr)
	outputs["output"] = run("output", "-no-color")
	env.clock.Advance(4*time.Hour + time.Minute)
	outputs["renewal plan"] = run("plan", "-no-color", "-input=false")

	// Each output must be what it claims, or the search proves nothing.
	for name, want := range map[string]string{
		"plan":         "snapshot_url                = (sensitive value)",
		"apply":        "Apply complete! Resources: 1 added",
		"show":         "snapshot_url                = (sensitive value)",
		"state show":   "snapshot_url                = (sensitive value)",
		"output":       "link = <sensitive>",
		"renewal plan": "Download Link Will Be Renewed",
	} {
		if !strings.Contains(outputs[name], want) {
			t.Errorf("terraform %s printed no %q:\n%s", name, want, outputs[name])
		}
	}
	for name, out := range outputs {
		for _, leak := range env.secretsIn(out) {
			t.Errorf("terraform %s printed %s", name, leak)
		}
	}
}

// serveForCLI serves the provider from this process the way
// terraform-plugin-testing does, and returns the TF_REATTACH_PROVIDERS
// value that points terraform at it.
func (e *testEnv) serveForCLI(t *testing.T) string {
	t.Helper()
	server := providerserver.NewProtocol6(New("test",
		WithClock(e.clock.Now, e.clock.Sleep),
		WithClientConfig(func(c *atlas.Config) { c.Jitter = func() float64 { return 0.5 } }),
	)())
	ctx, cancel := context.WithCancel(context.Background())
	configCh := make(chan *plugin.ReattachConfig, 1)
	closeCh := make(chan struct{})
	serveErr := make(chan error, 1)
	go func() {
		serveErr <- tf6server.Serve(reattachAddress(),
			server,
			tf6server.WithDebug(ctx, configCh, closeCh),
			tf6server.WithLoggingSink(t),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()),
			tf6server.WithoutLogStderrOverride(),
		)
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-configCh:
	case err := <-serveErr:
		cancel()
		t.Fatalf("serving the provider: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		<-closeCh
	})
	type addr struct{ Network, String string }
	type reattach struct {
		Protocol        string
		ProtocolVersion int
		Pid             int
		Test            bool
		Addr            addr
	}
	b, err := json.Marshal(map[string]reattach{reattachAddress(): {
		Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion, Pid: rc.Pid, Test: true,
		Addr: addr{Network: rc.Addr.Network(), String: rc.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// reattachAddress is the provider address the configurations imply, on the
// registry host the CLI under test uses (TF_ACC_PROVIDER_HOST, as the
// testing framework reads it: registry.opentofu.org for OpenTofu).
func reattachAddress() string {
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	return host + "/hashicorp/atlas"
}

// TestEveryLockDirProblemIsWorded: each problem OpenLockDir reports has a
// phrase here; a kind added to internal/atlas without one fails this test.
func TestEveryLockDirProblemIsWorded(t *testing.T) {
	for p := atlas.LockDirUnresolvable; p <= atlas.LockFileUnopenable; p++ {
		if lockDirProblems[p] == "" {
			t.Errorf("lock directory problem %d has no wording", p)
		}
	}
}

// stall makes every request to the simulator hang until the client gives
// up: an endpoint that accepts connections and never answers.
func (e *testEnv) stall() {
	e.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	})
}

// TestAccStalledEndpoint_readsEndAtTimeoutsRead: against an endpoint that
// never answers, a data source read and a resource's refresh end after
// timeouts.read, with an error that says how long and names base_url.
func TestAccStalledEndpoint_readsEndAtTimeoutsRead(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	want := wrapped(`(?s)Timed Out Reading from Atlas.*within 2s \(timeouts.read\).*base_url \(` + env.url + `\)`)
	t.Run("data source", func(t *testing.T) {
		env.stall()
		defer env.setFront(nil)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			Steps: []resource.TestStep{{
				Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_tenant_restore_jobs" "all" {
  project_id   = %q
  cluster_name = %q
  timeouts     = { read = "2s" }
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName),
				ExpectError: want,
			}},
		})
	})
	t.Run("resource refresh", func(t *testing.T) {
		cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, `timeouts { read = "2s" }`)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			Steps: []resource.TestStep{
				{Config: cfg},
				{
					PreConfig:   env.stall,
					Config:      cfg,
					PlanOnly:    true,
					ExpectError: want,
				},
				{PreConfig: func() { env.setFront(nil) }, Config: cfg, PlanOnly: true},
			},
		})
	})
}

// TestAccUnsafeDirectories_refused: a lock directory or token cache
// directory that others could write, or a link, is refused with the
// reason, on the attribute; nothing reaches Atlas.
func TestAccUnsafeDirectories_refused(t *testing.T) {
	root := t.TempDir()
	open := filepath.Join(root, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	credentials := map[string]string{
		"lock_dir":        fmt.Sprintf("public_key = %q\n  private_key = %q", atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey),
		"token_cache_dir": fmt.Sprintf("client_id = %q\n  client_secret = %q", atlassim.DefaultClientID, atlassim.DefaultClientSecret),
	}
	summary := map[string]string{"lock_dir": "Unusable Lock Directory", "token_cache_dir": "Unusable Token Cache Directory"}
	for _, attr := range []string{"lock_dir", "token_cache_dir"} {
		for _, tt := range []struct{ name, dir, want string }{
			{"writable by others", open, "can be written by other users"},
			{"a symbolic link", link, "is a symbolic link"},
		} {
			t.Run(attr+" "+tt.name, func(t *testing.T) {
				env := newTestEnv(t, atlassim.Config{})
				cfg := fmt.Sprintf(`
provider "atlas" {
  base_url = %q
  %s
  %s = %q
}
data "atlas_tenant_restore_jobs" "all" {
  project_id   = %q
  cluster_name = %q
}
`, env.url, credentials[attr], attr, tt.dir, atlassim.DefaultProjectID, atlassim.DefaultClusterName)
				resource.Test(t, resource.TestCase{
					ProtoV6ProviderFactories: env.factories(),
					Steps: []resource.TestStep{{Config: cfg,
						ExpectError: wrapped(`(?s)` + summary[attr] + `.*` + tt.dir + `.*` + tt.want)}},
				})
				if n := env.sim.Stats().TotalRequests; n != 0 {
					t.Errorf("%d requests reached Atlas", n)
				}
			})
		}
	}
}
