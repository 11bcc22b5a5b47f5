// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

const flexAddr = "atlas_flex_snapshot_download.test"

func (e *testEnv) flexConfig(name, snapshot string) string {
	return e.providerBlock() + fmt.Sprintf(`
resource "atlas_flex_snapshot_download" "test" {
  project_id  = %q
  name        = %q
  snapshot_id = %q
}
`, atlassim.DefaultProjectID, name, snapshot)
}

func TestAccFlexDownload_lifecycle(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.flexConfig(atlassim.DefaultFlexClusterName, atlassim.DefaultFlexSnapshotID),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(flexAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(idRegexp)),
					statecheck.ExpectKnownValue(flexAddr, tfjsonpath.New("status"), knownvalue.StringExact("COMPLETED")),
					statecheck.ExpectKnownValue(flexAddr, tfjsonpath.New("name"), knownvalue.StringExact(atlassim.DefaultFlexClusterName)),
					statecheck.ExpectKnownValue(flexAddr, tfjsonpath.New("expiration_date"), knownvalue.StringExact("2026-11-28T16:30:00Z")),
					statecheck.ExpectKnownValue(flexAddr, tfjsonpath.New("snapshot_url"), knownvalue.StringRegexp(
						regexp.MustCompile(`restore-`+atlassim.DefaultFlexSnapshotID+`\.tar\.gz\?token=`))),
					statecheck.ExpectSensitiveValue(flexAddr, tfjsonpath.New("snapshot_url")),
				},
			},
			{
				ResourceName:      flexAddr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					rs := s.RootModule().Resources[flexAddr]
					return fmt.Sprintf("%s/%s/%s", rs.Primary.Attributes["project_id"], rs.Primary.Attributes["name"], rs.Primary.ID), nil
				},
			},
		},
	})
	if st := env.sim.Stats(); st.Routes["POST /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/download"]["200"] != 1 {
		t.Errorf("the Flex download endpoint was not called once: %v", st.Routes)
	}
}

func TestAccDownload_wrongFamilyNamesTheRightResource(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"flex cluster on the tenant resource", "tenant", `(?s)Cluster Is a Flex Cluster.*CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API.*use atlas_flex_snapshot_download with name =`},
		{"tenant cluster on the flex resource", "flex", `(?s)Cluster Is Not a Flex Cluster.*CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API.*use atlas_tenant_snapshot_download with cluster_name =`},
		{"tenant endpoints after the sunset", "sunset", `(?s)Atlas Tenant Backup Endpoints Retired.*Use atlas_flex_snapshot_download`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{TenantSunset: tt.config == "sunset"})
			cfg := env.tenantConfig(atlassim.DefaultFlexClusterName, atlassim.DefaultFlexSnapshotID, "")
			switch tt.config {
			case "flex":
				cfg = env.flexConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID)
			case "sunset":
				cfg = env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
			}
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps:                    []resource.TestStep{{Config: cfg, ExpectError: wrapped(tt.want)}},
			})
		})
	}
}

func TestAccTenantSnapshotsDataSource(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	// Enough snapshots for two pages of 500.
	for i := range 510 {
		at := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		err := env.sim.AddSnapshot(atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.SeedSnapshot{
			ID: fmt.Sprintf("6568a1b2c3d4e5f60001%04x", i), Status: "COMPLETED", MongoDBVersion: "7.0.14",
			ScheduledTime: at.Format(time.RFC3339), StartTime: at.Format(time.RFC3339),
			FinishTime: at.Add(time.Minute).Format(time.RFC3339), Expiration: at.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	all := "data.atlas_tenant_snapshots.all"
	running := "data.atlas_tenant_snapshots.running"
	window := "data.atlas_tenant_snapshots.window"
	one := "data.atlas_tenant_snapshot.one"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_tenant_snapshots" "all" {
  project_id   = %[1]q
  cluster_name = "Cluster0"
}
data "atlas_tenant_snapshots" "running" {
  project_id   = %[1]q
  cluster_name = "Cluster0"
  status       = "RUNNING"
}
data "atlas_tenant_snapshots" "window" {
  project_id   = %[1]q
  cluster_name = "Cluster0"
  since        = "2026-11-26T00:00:00Z"
  until        = "2026-11-28T00:00:00Z"
}
data "atlas_tenant_snapshot" "one" {
  project_id   = %[1]q
  cluster_name = "Cluster0"
  snapshot_id  = %[2]q
}
`, atlassim.DefaultProjectID, atlassim.DefaultSnapshotID),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(all, tfjsonpath.New("snapshots"), knownvalue.ListSizeExact(513)),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("snapshots").AtSliceIndex(0).AtMapKey("id"), knownvalue.StringExact(atlassim.DefaultSnapshotID)),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("snapshots").AtSliceIndex(1).AtMapKey("id"), knownvalue.StringExact(atlassim.DefaultOlderSnapshotID)),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("latest_completed_id"), knownvalue.StringExact(atlassim.DefaultSnapshotID)),
				statecheck.ExpectKnownValue(running, tfjsonpath.New("snapshots"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"id":     knownvalue.StringExact(atlassim.DefaultRunningSnapshotID),
						"status": knownvalue.StringExact("RUNNING"),
					}),
				})),
				statecheck.ExpectKnownValue(running, tfjsonpath.New("latest_completed_id"), knownvalue.Null()),
				statecheck.ExpectKnownValue(window, tfjsonpath.New("snapshots"), knownvalue.ListSizeExact(2)),
				statecheck.ExpectKnownValue(window, tfjsonpath.New("latest_completed_id"), knownvalue.StringExact(atlassim.DefaultOlderSnapshotID)),
				statecheck.ExpectKnownValue(one, tfjsonpath.New("status"), knownvalue.StringExact("COMPLETED")),
				statecheck.ExpectKnownValue(one, tfjsonpath.New("mongodb_version"), knownvalue.StringExact("7.0.14")),
				statecheck.ExpectKnownValue(one, tfjsonpath.New("finish_time"), knownvalue.StringExact("2026-11-28T12:03:00Z")),
			},
		}},
	})
}

func TestAccDownloadTheLatestBackup(t *testing.T) {
	// The three-line module: find the newest completed snapshot, download it,
	// and read the job back through the restore job data sources.
	env := newTestEnv(t, atlassim.Config{})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_flex_snapshots" "this" {
  project_id = %[1]q
  name       = %[2]q
}
resource "atlas_flex_snapshot_download" "latest" {
  project_id  = %[1]q
  name        = %[2]q
  snapshot_id = data.atlas_flex_snapshots.this.latest_completed_id
}
data "atlas_flex_restore_jobs" "downloads" {
  project_id    = %[1]q
  name          = %[2]q
  delivery_type = "DOWNLOAD"
  depends_on    = [atlas_flex_snapshot_download.latest]
}
data "atlas_flex_restore_job" "latest" {
  project_id = %[1]q
  name       = %[2]q
  job_id     = atlas_flex_snapshot_download.latest.id
}
`, atlassim.DefaultProjectID, atlassim.DefaultFlexClusterName),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("atlas_flex_snapshot_download.latest", tfjsonpath.New("snapshot_id"), knownvalue.StringExact(atlassim.DefaultFlexSnapshotID)),
				statecheck.ExpectKnownValue("data.atlas_flex_restore_jobs.downloads", tfjsonpath.New("restore_jobs"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"snapshot_id":   knownvalue.StringExact(atlassim.DefaultFlexSnapshotID),
						"delivery_type": knownvalue.StringExact("DOWNLOAD"),
						"status":        knownvalue.StringExact("COMPLETED"),
						// Without include_links the list holds no link.
						"snapshot_url": knownvalue.Null(),
					}),
				})),
				statecheck.ExpectSensitiveValue("data.atlas_flex_restore_jobs.downloads", tfjsonpath.New("restore_jobs").AtSliceIndex(0).AtMapKey("snapshot_url")),
				statecheck.CompareValuePairs("data.atlas_flex_restore_job.latest", tfjsonpath.New("snapshot_url"),
					"atlas_flex_snapshot_download.latest", tfjsonpath.New("snapshot_url"), compareEqual{}),
				statecheck.ExpectSensitiveValue("data.atlas_flex_restore_job.latest", tfjsonpath.New("snapshot_url")),
			},
		}},
	})
}

// compareEqual reports whether two state values are the same.
type compareEqual struct{}

func (compareEqual) CompareValues(values ...any) error {
	if len(values) != 2 || fmt.Sprint(values[0]) != fmt.Sprint(values[1]) || values[0] == nil {
		return fmt.Errorf("values differ or are missing")
	}
	return nil
}

func TestAccDataSources_errors(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_tenant_snapshots" "x" {
  project_id   = %q
  cluster_name = "Nope"
}`, atlassim.DefaultProjectID),
				ExpectError: wrapped(`(?s)Atlas Cluster Not Found.*CLUSTER_NOT_FOUND.*atlas_flex_snapshots with name =`),
			},
			{
				Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_tenant_snapshots" "x" {
  project_id   = %q
  cluster_name = "Cluster0"
  since        = "yesterday"
}`, atlassim.DefaultProjectID),
				ExpectError: wrapped(`(?s)since.*is not an RFC 3339 time`),
			},
			{
				Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_tenant_restore_job" "x" {
  project_id   = %q
  cluster_name = "Cluster0"
  job_id       = "0000000000000000000000cc"
}`, atlassim.DefaultProjectID),
				ExpectError: wrapped(`(?s)Atlas Download Job Not Found.*TENANT_RESTORE_NOT_FOUND`),
			},
		},
	})
}

func TestAccEphemeralDownload(t *testing.T) {
	for _, tt := range []struct{ typ, cluster, clusterAttr, snapshot string }{
		{"atlas_tenant_snapshot_download", atlassim.DefaultClusterName, "cluster_name", atlassim.DefaultSnapshotID},
		{"atlas_flex_snapshot_download", atlassim.DefaultFlexClusterName, "name", atlassim.DefaultFlexSnapshotID},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute})
			factories := env.factories()
			factories["echo"] = echoprovider.NewProviderServer()
			resource.ParallelTest(t, resource.TestCase{
				TerraformVersionChecks: []tfversion.TerraformVersionCheck{ephemeralResourcesTestable()},
				ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
					"atlas": factories["atlas"], "echo": factories["echo"],
				},
				Steps: []resource.TestStep{{
					Config: env.providerBlock() + fmt.Sprintf(`
ephemeral %q "link" {
  project_id  = %q
  %s = %q
  snapshot_id = %q
}
provider "echo" {
  data = ephemeral.%[1]s.link
}
resource "echo" "test" {}
`, tt.typ, atlassim.DefaultProjectID, tt.clusterAttr, tt.cluster, tt.snapshot),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("status"), knownvalue.StringExact("COMPLETED")),
						statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("snapshot_url"), knownvalue.StringRegexp(regexp.MustCompile(`\?token=`))),
						statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("expiration_date"), knownvalue.NotNull()),
						statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("id"), knownvalue.StringRegexp(idRegexp)),
					},
				}},
			})
			if len(env.sim.Jobs()) == 0 {
				t.Error("the ephemeral resource requested no download")
			}
		})
	}
}
