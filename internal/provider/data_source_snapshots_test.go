// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

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

// TestAccSnapshotsDataSource_emptyWindowFailsThePlan checks that a window
// no snapshot can fall into is an error on until, at plan time, naming
// both times, rather than an empty list.
func TestAccSnapshotsDataSource_emptyWindowFailsThePlan(t *testing.T) {
	for _, tt := range []struct{ name, typ, clusterAttr, cluster, since, until string }{
		{"tenant, since after until", "atlas_tenant_snapshots", "cluster_name", atlassim.DefaultClusterName,
			"2026-12-01T00:00:00Z", "2026-11-01T00:00:00Z"},
		{"flex, since after until", "atlas_flex_snapshots", "name", atlassim.DefaultFlexClusterName,
			"2026-11-28T12:00:00Z", "2026-11-28T11:59:59+00:00"},
		{"flex, since equal to until", "atlas_flex_snapshots", "name", atlassim.DefaultFlexClusterName,
			"2026-11-28T12:00:00Z", "2026-11-28T13:00:00+01:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config: env.providerBlock() + fmt.Sprintf(`
data %q "window" {
  project_id = %q
  %s = %q
  since = %q
  until = %q
}
`, tt.typ, atlassim.DefaultProjectID, tt.clusterAttr, tt.cluster, tt.since, tt.until),
					PlanOnly: true,
					// The snippet Terraform quotes is the until line: the
					// error is on the attribute.
					ExpectError: wrapped(`(?s)Empty Snapshot Time Window.*until = ` + quoted(tt.until) +
						`.*until \(` + quoted(tt.until) + `\) must be later than since \(` + quoted(tt.since) + `\)`),
				}},
			})
			if n := env.sim.Stats().TotalRequests; n != 0 {
				t.Errorf("the simulator saw %d requests: the window should be refused before any call", n)
			}
		})
	}
}
