// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

var needsQuery = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)}

// lateString checks against a value known only once an earlier step ran.
type lateString struct{ want *string }

func (c lateString) CheckValue(v any) error {
	if s, ok := v.(string); !ok || s != *c.want {
		return fmt.Errorf("value %v, want %q", v, *c.want)
	}
	return nil
}

func (c lateString) String() string { return *c.want }

// TestAccListResource_tenantDownloads lists a cluster's download jobs, all
// of them and only those with a live link, each with the identity that
// terraform query -generate-config-out puts into an import block; then
// imports one by that identity.
func TestAccListResource_tenantDownloads(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	jobs := env.providerBlock() + fmt.Sprintf(`
resource "atlas_tenant_snapshot_download" "live" {
  project_id   = %[1]q
  cluster_name = %[2]q
  snapshot_id  = %[3]q
}

resource "atlas_tenant_snapshot_download" "failed" {
  project_id   = %[1]q
  cluster_name = %[2]q
  snapshot_id  = %[4]q
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, atlassim.DefaultOlderSnapshotID)
	var liveID, failedID string
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsQuery,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: jobs,
				Check: func(s *terraform.State) error {
					liveID = s.RootModule().Resources["atlas_tenant_snapshot_download.live"].Primary.ID
					failedID = s.RootModule().Resources["atlas_tenant_snapshot_download.failed"].Primary.ID
					return nil
				},
			},
			{
				PreConfig: func() {
					if err := env.sim.SetJobStatus(atlassim.DefaultProjectID, atlassim.DefaultClusterName, failedID, "FAILED"); err != nil {
						t.Fatal(err)
					}
				},
				// The query's file sits beside the first step's, which
				// configures the provider.
				Query: true,
				Config: fmt.Sprintf(`
list "atlas_tenant_snapshot_download" "all" {
  provider         = atlas
  include_resource = true
  config {
    project_id   = %[1]q
    cluster_name = %[2]q
  }
}

list "atlas_tenant_snapshot_download" "live" {
  provider = atlas
  config {
    project_id      = %[1]q
    cluster_name    = %[2]q
    only_live_links = true
  }
}

list "atlas_tenant_snapshot_download" "other_cluster" {
  provider = atlas
  config {
    project_id   = %[1]q
    cluster_name = %[3]q
  }
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSecondClusterName),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("atlas_tenant_snapshot_download.all", 2),
					querycheck.ExpectLength("atlas_tenant_snapshot_download.live", 1),
					querycheck.ExpectLength("atlas_tenant_snapshot_download.other_cluster", 0),
					querycheck.ExpectIdentity("atlas_tenant_snapshot_download.live", map[string]knownvalue.Check{
						"project_id":   knownvalue.StringExact(atlassim.DefaultProjectID),
						"cluster_name": knownvalue.StringExact(atlassim.DefaultClusterName),
						"job_id":       lateString{&liveID},
					}),
				},
			},
		},
	})

	// What -generate-config-out writes: an import block with the identity.
	imported := env.providerBlock() + fmt.Sprintf(`
import {
  to = atlas_tenant_snapshot_download.imported
  identity = {
    project_id   = %[1]q
    cluster_name = %[2]q
    job_id       = %[3]q
  }
}

resource "atlas_tenant_snapshot_download" "imported" {
  project_id   = %[1]q
  cluster_name = %[2]q
  snapshot_id  = %[4]q
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName, liveID, atlassim.DefaultSnapshotID)
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   needsQuery,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: imported,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("atlas_tenant_snapshot_download.imported", plancheck.ResourceActionNoop)},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("atlas_tenant_snapshot_download.imported", tfjsonpath.New("id"), lateString{&liveID}),
				statecheck.ExpectIdentity("atlas_tenant_snapshot_download.imported", map[string]knownvalue.Check{
					"project_id":   knownvalue.StringExact(atlassim.DefaultProjectID),
					"cluster_name": knownvalue.StringExact(atlassim.DefaultClusterName),
					"job_id":       lateString{&liveID},
				}),
			},
		}},
	})
	if n := len(env.sim.Jobs()); n != 2 {
		t.Errorf("the simulator holds %d jobs, want the 2 created (the import requested none)", n)
	}
}

func TestAccListResource_flexDownloads(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute})
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsQuery,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.providerBlock() + fmt.Sprintf(`
resource "atlas_flex_snapshot_download" "test" {
  project_id  = %q
  name        = %q
  snapshot_id = %q
}
`, atlassim.DefaultProjectID, atlassim.DefaultFlexClusterName, atlassim.DefaultFlexSnapshotID),
			},
			{
				Query: true,
				Config: fmt.Sprintf(`
list "atlas_flex_snapshot_download" "all" {
  provider = atlas
  config {
    project_id      = %q
    name            = %q
    only_live_links = true
  }
}
`, atlassim.DefaultProjectID, atlassim.DefaultFlexClusterName),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("atlas_flex_snapshot_download.all", 1),
					querycheck.ExpectIdentity("atlas_flex_snapshot_download.all", map[string]knownvalue.Check{
						"project_id": knownvalue.StringExact(atlassim.DefaultProjectID),
						"name":       knownvalue.StringExact(atlassim.DefaultFlexClusterName),
						"job_id":     knownvalue.StringRegexp(idRegexp),
					}),
				},
			},
		},
	})
}

// TestAccListResource_generateConfigOut runs terraform query
// -generate-config-out itself (terraform-plugin-testing does not), and
// plans the import blocks it writes: each imports a job by its identity,
// and none holds the link.
func TestAccListResource_generateConfigOut(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	dir, run := env.terraformCLI(t)
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if v := run("version"); !atLeast114(v) {
		t.Skipf("terraform query needs Terraform 1.14 or later; this is %.40s", v)
	}
	write("main.tf", env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, ""))
	run("init", "-no-color", "-input=false")
	run("apply", "-no-color", "-input=false", "-auto-approve")
	job := env.onlyJob()
	// Only the provider block stays, so that the import is the only change.
	write("main.tf", env.providerBlock())
	if err := os.Remove(filepath.Join(dir, "terraform.tfstate")); err != nil {
		t.Fatal(err)
	}
	write("jobs.tfquery.hcl", fmt.Sprintf(`
list "atlas_tenant_snapshot_download" "all" {
  provider = atlas
  config {
    project_id   = %q
    cluster_name = %q
  }
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName))
	query := run("query", "-no-color", "-generate-config-out=generated.tf")
	generated, err := os.ReadFile(filepath.Join(dir, "generated.tf"))
	if err != nil {
		t.Fatalf("%v\nterraform query printed:\n%s", err, query)
	}
	for _, want := range []string{"import {", "identity = {", `job_id`, job.ID, `resource "atlas_tenant_snapshot_download"`, job.SnapshotID} {
		if !strings.Contains(string(generated), want) {
			t.Errorf("generated.tf has no %q:\n%s", want, generated)
		}
	}
	plan := run("plan", "-no-color", "-input=false")
	if !strings.Contains(plan, "1 to import") {
		t.Errorf("the plan of the generated configuration imports nothing:\n%s", plan)
	}
	for name, out := range map[string]string{"query": query, "generated.tf": string(generated), "plan": plan} {
		for _, leak := range env.secretsIn(out) {
			t.Errorf("%s holds %s", name, leak)
		}
	}
	if n := len(env.sim.Jobs()); n != 1 {
		t.Errorf("the simulator holds %d jobs, want the one created", n)
	}
}

// atLeast114 reads `terraform version` output.
func atLeast114(version string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(version, "Terraform v%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 1 || (major == 1 && minor >= 14)
}

// liveLinks fails unless the simulator holds at least min download jobs,
// every one COMPLETED with a link that has not expired: the jobs a list
// must not show the links of.
func (e *testEnv) liveLinks(min int) error {
	jobs := e.sim.Jobs()
	if len(jobs) < min {
		return fmt.Errorf("the simulator holds %d jobs, want at least %d", len(jobs), min)
	}
	for _, j := range jobs {
		if j.Status != "COMPLETED" || j.SnapshotURL == "" || !j.ExpirationDate.After(e.clock.Now()) {
			return fmt.Errorf("job %s is %s with link %t expiring %s: not live", j.ID, j.Status, j.SnapshotURL != "", j.ExpirationDate)
		}
	}
	return nil
}

// everyResult checks attr of the resource object of every result of a list
// block, of which there must be at least min.
type everyResult struct {
	address string
	min     int
	attr    string
	check   knownvalue.Check
}

func (c everyResult) CheckQuery(_ context.Context, req querycheck.CheckQueryRequest, resp *querycheck.CheckQueryResponse) {
	n := 0
	for _, res := range req.Query {
		if strings.TrimPrefix(res.Address, "list.") != c.address {
			continue
		}
		n++
		if res.ResourceObject == nil {
			resp.Error = fmt.Errorf("%s: %q has no resource object", c.address, res.DisplayName)
			return
		}
		if err := c.check.CheckValue(res.ResourceObject[c.attr]); err != nil {
			resp.Error = fmt.Errorf("%s: %q, %s: %w", c.address, res.DisplayName, c.attr, err)
			return
		}
	}
	if n < c.min {
		resp.Error = fmt.Errorf("%s: %d results, want at least %d", c.address, n, c.min)
	}
}

// linkFamilies are the two endpoint families, as the list tests write them.
var linkFamilies = []struct{ family, clusterAttr, cluster, snapshot string }{
	{"tenant", "cluster_name", atlassim.DefaultClusterName, atlassim.DefaultSnapshotID},
	{"flex", "name", atlassim.DefaultFlexClusterName, atlassim.DefaultFlexSnapshotID},
}

// jobsWithLiveLinks is a download resource and an ephemeral download of
// one family: after an apply, Atlas holds at least two jobs with live
// links, one of which is in no state.
func (e *testEnv) jobsWithLiveLinks(family, clusterAttr, cluster, snapshot string) string {
	return e.providerBlock() + fmt.Sprintf(`
resource "atlas_%[1]s_snapshot_download" "kept" {
  project_id  = %[2]q
  %[3]s = %[4]q
  snapshot_id = %[5]q
}
ephemeral "atlas_%[1]s_snapshot_download" "link" {
  project_id  = %[2]q
  %[3]s = %[4]q
  snapshot_id = %[5]q
}
`, family, atlassim.DefaultProjectID, clusterAttr, cluster, snapshot)
}

// TestAccListResource_noLinkInResults lists, with include_resource = true,
// jobs whose links are live, one requested by a download resource and
// others by an ephemeral download: every result is the COMPLETED job, and
// none holds its link, for either family.
func TestAccListResource_noLinkInResults(t *testing.T) {
	for _, tt := range linkFamilies {
		t.Run(tt.family, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			addr := "atlas_" + tt.family + "_snapshot_download.all"
			resource.ParallelTest(t, resource.TestCase{
				TerraformVersionChecks:   needsQuery,
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{
					{
						Config: env.jobsWithLiveLinks(tt.family, tt.clusterAttr, tt.cluster, tt.snapshot),
						Check:  func(*terraform.State) error { return env.liveLinks(2) },
					},
					{
						Query: true,
						Config: fmt.Sprintf(`
list "atlas_%[1]s_snapshot_download" "all" {
  provider         = atlas
  include_resource = true
  config {
    project_id      = %[2]q
    %[3]s = %[4]q
    only_live_links = true
  }
}
`, tt.family, atlassim.DefaultProjectID, tt.clusterAttr, tt.cluster),
						QueryResultChecks: []querycheck.QueryResultCheck{
							everyResult{address: addr, min: 2, attr: "status", check: knownvalue.StringExact("COMPLETED")},
							everyResult{address: addr, min: 2, attr: "snapshot_url", check: knownvalue.Null()},
						},
					},
				},
			})
		})
	}
}

// TestAccListResource_queryJSONHoldsNoLink runs terraform query -json with
// include_resource = true, as a person would, and searches what it prints
// for the links of the jobs it lists, which are live.
func TestAccListResource_queryJSONHoldsNoLink(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	dir, run := env.terraformCLI(t)
	if v := run("version"); !atLeast114(v) {
		t.Skipf("terraform query needs Terraform 1.14 or later; this is %.40s", v)
	}
	tt := linkFamilies[0]
	files := map[string]string{
		"main.tf": env.jobsWithLiveLinks(tt.family, tt.clusterAttr, tt.cluster, tt.snapshot),
		"jobs.tfquery.hcl": fmt.Sprintf(`
list "atlas_tenant_snapshot_download" "all" {
  provider         = atlas
  include_resource = true
  config {
    project_id   = %q
    cluster_name = %q
  }
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run("init", "-no-color", "-input=false")
	run("apply", "-no-color", "-input=false", "-auto-approve")
	if err := env.liveLinks(2); err != nil {
		t.Fatal(err)
	}
	out := run("query", "-json", "-no-color")
	// The output must hold the resource objects, or the search proves
	// nothing.
	if n := strings.Count(out, `"resource_object":`); n < 2 {
		t.Errorf("terraform query -json printed %d resource objects, want at least 2:\n%s", n, out)
	}
	for _, leak := range env.secretsIn(out) {
		t.Errorf("terraform query -json printed %s", leak)
	}
}

// TestAccListResource_liveLinksWithoutExpirationDate: where Atlas lists a
// job without its expirationDate, its link counts as expired four hours
// after the request, as the download resource counts it.
func TestAccListResource_liveLinksWithoutExpirationDate(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	old := env.outsideJob(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID)
	env.clock.Advance(4*time.Hour + time.Minute)
	fresh := env.outsideJob(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID)
	env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/restores") {
			return false
		}
		rec := httptest.NewRecorder()
		env.sim.ServeHTTP(rec, r)
		var page map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Errorf("simulator list is not JSON: %v", err)
		}
		results, _ := page["results"].([]any)
		for _, res := range results {
			delete(res.(map[string]any), "expirationDate")
		}
		body, _ := json.Marshal(page)
		rec.Body.Reset()
		rec.Body.Write(body)
		rec.Header().Del("Content-Length")
		copyAnswer(w, rec)
		return true
	})
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsQuery,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: env.providerBlock()},
			{
				Query: true,
				Config: fmt.Sprintf(`
list "atlas_tenant_snapshot_download" "live" {
  provider = atlas
  config {
    project_id      = %q
    cluster_name    = %q
    only_live_links = true
  }
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("atlas_tenant_snapshot_download.live", 1),
					querycheck.ExpectIdentity("atlas_tenant_snapshot_download.live", map[string]knownvalue.Check{
						"project_id":   knownvalue.StringExact(atlassim.DefaultProjectID),
						"cluster_name": knownvalue.StringExact(atlassim.DefaultClusterName),
						"job_id":       knownvalue.StringExact(fresh.ID),
					}),
				},
			},
		},
	})
	if old.ID == fresh.ID || len(env.sim.Jobs()) != 2 {
		t.Errorf("the simulator holds %d jobs, want the 2 made", len(env.sim.Jobs()))
	}
}
