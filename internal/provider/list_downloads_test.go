// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
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
