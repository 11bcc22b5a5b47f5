// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

func TestAccTenantDownload_lifecycle(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionCreate),
						plancheck.ExpectUnknownValue(tenantAddr, tfjsonpath.New("snapshot_url")),
						plancheck.ExpectSensitiveValue(tenantAddr, tfjsonpath.New("snapshot_url")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("id", knownvalue.StringRegexp(idRegexp)),
					stateValue("project_id", knownvalue.StringExact(atlassim.DefaultProjectID)),
					stateValue("cluster_name", knownvalue.StringExact(atlassim.DefaultClusterName)),
					stateValue("snapshot_id", knownvalue.StringExact(atlassim.DefaultSnapshotID)),
					stateValue("status", knownvalue.StringExact("COMPLETED")),
					stateValue("delivery_type", knownvalue.StringExact("DOWNLOAD")),
					stateValue("snapshot_url", knownvalue.StringRegexp(regexp.MustCompile(
						`^http://127\.0\.0\.1:\d+/backup/restore/[a-f0-9]{24}/restore-`+atlassim.DefaultSnapshotID+`\.tar\.gz\?token=[a-f0-9]+&expires=\d+$`))),
					stateValue("expiration_date", knownvalue.StringExact("2026-11-28T16:30:00Z")),
					stateValue("restore_scheduled_date", knownvalue.StringExact("2026-11-28T12:30:00Z")),
					stateValue("restore_finished_date", knownvalue.StringExact("2026-11-28T12:30:00Z")),
					stateValue("snapshot_finished_date", knownvalue.StringExact("2026-11-28T12:03:00Z")),
					stateValue("target_project_id", knownvalue.StringExact(atlassim.DefaultProjectID)),
					stateValue("target_deployment_item_name", knownvalue.StringExact(atlassim.DefaultClusterName)),
					stateValue("wait_for_completion", knownvalue.Bool(true)),
					stateValue("renew_before", knownvalue.Null()),
				},
			},
			{
				// Nothing changed: the plan is empty.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
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
				// A new snapshot id replaces the download.
				Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultOlderSnapshotID, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("snapshot_id", knownvalue.StringExact(atlassim.DefaultOlderSnapshotID)),
					stateValue("status", knownvalue.StringExact("COMPLETED")),
				},
			},
		},
	})
	if n := len(env.sim.Jobs()); n != 2 {
		t.Errorf("simulator holds %d jobs, want 2 (one per snapshot)", n)
	}
}

func TestAccTenantDownload_refreshSeesAtlasChanges(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Hour, RunningFor: time.Hour})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "  wait_for_completion = false")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("QUEUED")),
					stateValue("snapshot_url", knownvalue.Null()),
				},
			},
			{
				PreConfig: func() { env.clock.Advance(90 * time.Minute) },
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("RUNNING")),
				},
			},
			{
				PreConfig: func() { env.clock.Advance(time.Hour) },
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("COMPLETED")),
					stateValue("snapshot_url", knownvalue.NotNull()),
				},
			},
			{
				PreConfig: func() {
					job := env.onlyJob()
					if err := env.sim.SetJobStatus(job.ProjectID, job.ClusterName, job.ID, "FAILED"); err != nil {
						t.Fatal(err)
					}
				},
				// The refresh sees FAILED: the plan replaces the job with a new
				// download (which, with wait_for_completion = false, is QUEUED).
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("QUEUED")),
				},
			},
		},
	})
	if n := len(env.sim.Jobs()); n != 2 {
		t.Errorf("simulator holds %d jobs, want 2 (the failed one and its replacement)", n)
	}
}

func TestAccTenantDownload_waitsForCompletion(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: 2 * time.Minute, RunningFor: 3 * time.Minute})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("status", knownvalue.StringExact("COMPLETED")),
				stateValue("snapshot_url", knownvalue.NotNull()),
				stateValue("restore_finished_date", knownvalue.StringExact("2026-11-28T12:35:00Z")),
			},
		}},
	})
	sleeps := env.clock.Sleeps()
	if len(sleeps) < 2 {
		t.Fatalf("waited %d times, want polling with backoff", len(sleeps))
	}
	for i := 1; i < len(sleeps); i++ {
		if sleeps[i] < sleeps[i-1] {
			t.Errorf("poll delays shrank: %v", sleeps)
		}
	}
}

func TestAccTenantDownload_vanishedJobIsRecreated(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
	var first string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					job := env.onlyJob()
					first = job.ID
					if err := env.sim.DeleteJob(job.ProjectID, job.ClusterName, job.ID); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("COMPLETED")),
				},
			},
		},
	})
	if job := env.onlyJob(); job.ID == first {
		t.Errorf("the job was not requested again")
	}
}

func TestAccTenantDownload_atlasErrors(t *testing.T) {
	tests := []struct {
		name, project, cluster, snapshot string
		privateKey                       string
		want                             string
	}{
		{"unknown cluster", atlassim.DefaultProjectID, "Nope", atlassim.DefaultSnapshotID, "",
			`(?s)Atlas Cluster Not Found.*HTTP 404 CLUSTER_NOT_FOUND: No cluster named Nope exists`},
		{"unknown snapshot", atlassim.DefaultProjectID, atlassim.DefaultClusterName, "0000000000000000000000aa", "",
			`(?s)Atlas Snapshot Not Found.*HTTP 404 TENANT_SNAPSHOT_NOT_FOUND`},
		{"snapshot not complete", atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultRunningSnapshotID, "",
			`(?s)Snapshot Not Ready for Download.*HTTP 409 CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT`},
		{"unknown project", "0000000000000000000000bb", atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "",
			`(?s)Atlas Project Not Found.*HTTP 404 GROUP_NOT_FOUND`},
		{"wrong private key", atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "not-the-key",
			`(?s)Atlas Rejected the API Key.*HTTP 401 USER_UNAUTHORIZED`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			key := atlassim.DefaultPrivateKey
			if tt.privateKey != "" {
				key = tt.privateKey
			}
			cfg := fmt.Sprintf(`
provider "atlas" {
  base_url    = %q
  public_key  = %q
  private_key = %q
}
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %q
  cluster_name = %q
  snapshot_id  = %q
}
`, env.url, atlassim.DefaultPublicKey, key, tt.project, tt.cluster, tt.snapshot)
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config:      cfg,
					ExpectError: wrapped(tt.want),
				}},
			})
			if n := len(env.sim.Jobs()); n != 0 {
				t.Errorf("a failed request left %d jobs", n)
			}
		})
	}
}

func TestAccTenantDownload_badInputAtPlanTime(t *testing.T) {
	tests := []struct {
		name, project, cluster, snapshot, extra, want string
	}{
		{"short project id", "6568a1b2", "Cluster0", atlassim.DefaultSnapshotID, "", `(?s)project_id.*is not 24 lowercase hexadecimal digits`},
		{"upper-case project id", "6568A1B2C3D4E5F601234567", "Cluster0", atlassim.DefaultSnapshotID, "", `(?s)project_id.*has upper-case letters`},
		{"empty cluster name", atlassim.DefaultProjectID, "", atlassim.DefaultSnapshotID, "", `(?s)cluster_name is empty`},
		{"cluster name with a slash", atlassim.DefaultProjectID, "../Cluster0", atlassim.DefaultSnapshotID, "", `(?s)cluster_name.*may only hold ASCII letters`},
		{"cluster name too long", atlassim.DefaultProjectID, strings.Repeat("c", 67), atlassim.DefaultSnapshotID, "", `(?s)cluster_name is 67 characters long`},
		{"snapshot id with white space", atlassim.DefaultProjectID, "Cluster0", " " + atlassim.DefaultSnapshotID, "", `(?s)snapshot_id.*leading or trailing white space`},
		{"renew_before not a duration", atlassim.DefaultProjectID, "Cluster0", atlassim.DefaultSnapshotID, `  renew_before = "soon"`, `(?s)renew_before.*is not a duration`},
		{"renew_before too long", atlassim.DefaultProjectID, "Cluster0", atlassim.DefaultSnapshotID, `  renew_before = "5h"`, `(?s)renew_before.*longer than 3h0m0s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config:      env.tenantConfigFor(tt.project, tt.cluster, tt.snapshot, tt.extra),
					PlanOnly:    true,
					ExpectError: wrapped(tt.want),
				}},
			})
			if st := env.sim.Stats(); st.TotalRequests != 0 {
				t.Errorf("invalid input reached Atlas: %d requests", st.TotalRequests)
			}
		})
	}
}

func (e *testEnv) tenantConfigFor(project, cluster, snapshot, extra string) string {
	return e.providerBlock() + tenantResource(project, cluster, snapshot, extra)
}

func TestAccTenantDownload_badImportID(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	for _, id := range []string{
		"justonepart",
		atlassim.DefaultProjectID + "/Cluster0",
		atlassim.DefaultProjectID + "/Cluster0/abc",
		"XYZ/Cluster0/" + atlassim.DefaultSnapshotID,
		atlassim.DefaultProjectID + "/bad name/" + atlassim.DefaultSnapshotID,
	} {
		t.Run(id, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config:        env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, ""),
					ResourceName:  tenantAddr,
					ImportState:   true,
					ImportStateId: id,
					ExpectError:   regexp.MustCompile(`(?s)Invalid Import ID.*PROJECT_ID/CLUSTER_NAME/JOB_ID`),
				}},
			})
		})
	}
}

func TestAccTenantDownload_renewal(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, `  renew_before = "1h"`)
	var first string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// 2h30m later the link has 1h30m left: more than renew_before.
				PreConfig: func() { env.clock.Advance(150 * time.Minute); first = env.onlyJob().ID },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// 31 minutes more: within the window, so the plan renews.
				PreConfig: func() { env.clock.Advance(31 * time.Minute) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectUnknownValue(tenantAddr, tfjsonpath.New("expiration_date")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("expiration_date", knownvalue.StringExact("2026-11-28T19:31:00Z")),
				},
			},
		},
	})
	jobs := env.sim.Jobs()
	if len(jobs) != 2 || jobs[0].ID != first {
		t.Errorf("want the first job and one renewal, got %d jobs", len(jobs))
	}
}

func TestAccTenantDownload_expiredLinkIsRenewed(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() { env.clock.Advance(3*time.Hour + 59*time.Minute) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				PreConfig: func() { env.clock.Advance(time.Minute) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("expiration_date", knownvalue.StringExact("2026-11-28T20:30:00Z")),
				},
			},
		},
	})
}

func TestAccTenantDownload_triggers(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	withTrigger := func(v string) string {
		return env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID,
			fmt.Sprintf("  triggers = { rotation = %q }", v))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: withTrigger("a")},
			{
				Config: withTrigger("a"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config: withTrigger("b"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
			},
		},
	})
	if n := len(env.sim.Jobs()); n != 2 {
		t.Errorf("simulator holds %d jobs, want 2", n)
	}
}

func TestAccTenantDownload_settingsUpdateInPlace(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "  wait_for_completion = false"),
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("QUEUED")),
				},
			},
			{
				// Turning waiting on waits for the job that exists.
				Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, `  renew_before = "10m"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("COMPLETED")),
					stateValue("renew_before", knownvalue.StringExact("10m")),
				},
			},
		},
	})
	if n := len(env.sim.Jobs()); n != 1 {
		t.Errorf("simulator holds %d jobs, want 1", n)
	}
}

func TestAccTenantDownload_timeoutLeavesTaintedJob(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: 20 * time.Minute})
	withTimeout := func(d string) string {
		return env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, fmt.Sprintf(`
  timeouts {
    create = %q
  }`, d))
	}
	var first string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:      withTimeout("10m"),
				ExpectError: wrapped(`(?s)Timed Out Waiting for the Download Link.*still QUEUED when the 10m0s timeout ran out`),
			},
			{
				// The job is in the state, tainted: the next apply replaces it.
				PreConfig: func() { first = env.onlyJob().ID },
				Config:    withTimeout("1h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{stateValue("status", knownvalue.StringExact("COMPLETED"))},
			},
		},
	})
	if jobs := env.sim.Jobs(); len(jobs) != 2 || jobs[0].ID != first {
		t.Errorf("want the timed-out job and its replacement, got %d jobs", len(jobs))
	}
}

func TestAccTenantDownload_interruptedWaitLeavesTaintedJob(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: 20 * time.Minute})
	env.clock.OnSleep(func(n int) error {
		if n == 3 {
			return context.Canceled
		}
		return nil
	})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Waiting for the Download Link Was Interrupted`),
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
			},
		},
	})
	if n := len(env.sim.Jobs()); n != 2 {
		t.Errorf("want the interrupted job and its replacement, got %d jobs", n)
	}
}

func TestAccTenantDownload_failedJob(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Hour})
	env.clock.OnSleep(func(n int) error {
		if n == 1 {
			job := env.onlyJob()
			return env.sim.SetJobStatus(job.ProjectID, job.ClusterName, job.ID, "FAILED")
		}
		return nil
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, ""),
			ExpectError: regexp.MustCompile(`(?s)Download Job Failed.*FAILED`),
		}},
	})
}

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

// withoutExpiry answers reads of one job as Atlas might for a failed one:
// without expirationDate.
func (e *testEnv) withoutExpiry(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/restores/") {
		return false
	}
	rec := httptest.NewRecorder()
	e.sim.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		copyAnswer(w, rec)
		return true
	}
	var job map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &job); err != nil {
		e.t.Errorf("simulator answer is not JSON: %v", err)
		copyAnswer(w, rec)
		return true
	}
	delete(job, "expirationDate")
	body, _ := json.Marshal(job)
	rec.Body.Reset()
	rec.Body.Write(body)
	rec.Header().Del("Content-Length")
	copyAnswer(w, rec)
	return true
}

// A FAILED job is replaced whether or not Atlas sends its expirationDate.
func TestAccLifecycle_failedJobWithoutExpiryIsReplaced(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					job := env.onlyJob()
					if err := env.sim.SetJobStatus(job.ProjectID, job.ClusterName, job.ID, "FAILED"); err != nil {
						t.Fatal(err)
					}
					env.setFront(env.withoutExpiry)
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{stateValue("status", knownvalue.StringExact("COMPLETED"))},
			},
		},
	})
	if n := len(env.sim.Jobs()); n != 2 {
		t.Errorf("simulator holds %d jobs, want 2 (the failed one and its replacement)", n)
	}
}

// advanceClock is a plan check that moves the test's clock on between plan
// and apply, as a plan saved (or approved) now and applied later sees it.
type advanceClock struct {
	clock *fakeClock
	by    time.Duration
}

func (a advanceClock) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	a.clock.Advance(a.by)
}

func importID(cluster, jobID string) string {
	return atlassim.DefaultProjectID + "/" + cluster + "/" + jobID
}

// A plan approved while the link is fresh and applied after the link
// entered its renewal window applies as approved: the renewal decision does
// not flip between plan and apply.
func TestAccLifecycle_savedPlanAppliesAfterRenewalWindowOpens(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	cfg := func(renew string) string {
		return env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, fmt.Sprintf("  renew_before = %q", renew))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg("1h")},
			{
				// An in-place update planned at a fresh link, applied 3h30m
				// later, when the link expires within the new window.
				Config: cfg("2h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionUpdate),
						advanceClock{env.clock, 3*time.Hour + 30*time.Minute},
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{stateValue("renew_before", knownvalue.StringExact("2h"))},
				// The refresh after this apply finds the link due.
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					if n := len(env.sim.Jobs()); n != 1 {
						t.Errorf("after the late apply the simulator holds %d jobs, want 1", n)
					}
				},
				Config: cfg("2h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{stateValue("expiration_date", knownvalue.StringExact("2026-11-28T20:00:00Z"))},
			},
		},
	})
	if n := len(env.sim.Jobs()); n != 2 {
		t.Errorf("simulator holds %d jobs, want 2 (the first link and its renewal)", n)
	}
}

// terraformData feeds a value that is known only at apply time.
func terraformData(name, value string) string {
	return fmt.Sprintf(`
resource "terraform_data" %q {
  input = %s
}
`, name, value)
}

// wait_for_completion known only at apply plans as what it may become: an
// update that waits.
func TestAccLifecycle_waitForCompletionUnknownAtPlan(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: 10 * time.Minute})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_4_0)}, // terraform_data
		Steps: []resource.TestStep{
			{
				Config:            env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "  wait_for_completion = false"),
				ConfigStateChecks: []statecheck.StateCheck{stateValue("status", knownvalue.StringExact("QUEUED"))},
			},
			{
				Config: terraformData("wait", "true") +
					env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "  wait_for_completion = terraform_data.wait.output"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(tenantAddr, tfjsonpath.New("status")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("COMPLETED")),
					stateValue("snapshot_url", knownvalue.NotNull()),
				},
			},
		},
	})
}

// renew_before known only at apply cannot flip the plan either: renewal is
// decided at refresh from the state's renew_before, and the new value
// counts from the next refresh.
func TestAccLifecycle_renewBeforeUnknownAtPlan(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	withRenew := terraformData("renew", `"1h"`) +
		env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "  renew_before = terraform_data.renew.output")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_4_0)},
		Steps: []resource.TestStep{
			{Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")},
			{
				PreConfig: func() { env.clock.Advance(3*time.Hour + 30*time.Minute) },
				Config:    withRenew,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks:  []statecheck.StateCheck{stateValue("renew_before", knownvalue.StringExact("1h"))},
				ExpectNonEmptyPlan: true,
			},
			{
				Config: withRenew,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
			},
		},
	})
}

// Expiry is judged by Atlas's clock (learnt from its Date headers), not by
// a local clock that is hours off.
func TestAccLifecycle_renewalUsesAtlasClock(t *testing.T) {
	env := newSkewedTestEnv(t, atlassim.Config{}, 2*time.Hour)
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, `  renew_before = "2h"`)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// Atlas's clock: 1h30m of the link left, inside the 2h window.
				// The local clock (2h behind) would see 3h30m left.
				PreConfig: func() { env.clock.Advance(2*time.Hour + 30*time.Minute) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
			},
		},
	})
}

// A wait that timed out on the update path is not forgotten: the error says
// what happens, and every plan shows an update until the link is there.
func TestAccLifecycle_timedOutWaitIsPlannedAgain(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Hour})
	waiting := func(timeout string) string {
		return env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID,
			fmt.Sprintf("  wait_for_completion = true\n  timeouts {\n    update = %q\n  }", timeout))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "  wait_for_completion = false")},
			{
				Config:      waiting("1m"),
				ExpectError: wrapped(`(?s)Timed Out Waiting for the Download Link.*stays in the state.*every plan shows this resource as an update`),
			},
			{
				// Nothing in the configuration changed, yet the job has no link.
				Config:             waiting("1m"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: waiting("2h"),
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("COMPLETED")),
					stateValue("snapshot_url", knownvalue.NotNull()),
				},
			},
		},
	})
	if n := len(env.sim.Jobs()); n != 1 {
		t.Errorf("simulator holds %d jobs, want 1: waiting again must not request another download", n)
	}
}

// An imported job is carried on by the next apply: one that has no link yet
// is waited for, a FAILED one is replaced.
func TestAccLifecycle_importedJobsAreCarriedOn(t *testing.T) {
	tests := []struct {
		name     string
		status   string // pinned in the simulator; "" follows the schedule
		action   plancheck.ResourceActionType
		sameJob  bool
		wantJobs int
	}{
		{"unfinished job is waited for", "", plancheck.ResourceActionUpdate, true, 1},
		{"failed job is replaced", "FAILED", plancheck.ResourceActionDestroyBeforeCreate, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{QueuedFor: 10 * time.Minute})
			job := env.outsideJob(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID)
			if tt.status != "" {
				if err := env.sim.SetJobStatus(atlassim.DefaultProjectID, atlassim.DefaultClusterName, job.ID, tt.status); err != nil {
					t.Fatal(err)
				}
			}
			cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
			checks := []statecheck.StateCheck{
				stateValue("status", knownvalue.StringExact("COMPLETED")),
				stateValue("snapshot_url", knownvalue.NotNull()),
			}
			if tt.sameJob {
				checks = append(checks, stateValue("id", knownvalue.StringExact(job.ID)))
			}
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{
					{
						Config:             cfg,
						ResourceName:       tenantAddr,
						ImportState:        true,
						ImportStateId:      importID(atlassim.DefaultClusterName, job.ID),
						ImportStatePersist: true,
					},
					{
						Config: cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, tt.action)},
						},
						ConfigStateChecks: checks,
					},
				},
			})
			if n := len(env.sim.Jobs()); n != tt.wantJobs {
				t.Errorf("simulator holds %d jobs, want %d", n, tt.wantJobs)
			}
		})
	}
}

// A 404 that is not Atlas's "no such job" does not quietly drop the
// resource and plan a new download: the refresh fails and says why.
func TestAccLifecycle_refreshDoesNotHideForeign404s(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	sunset := newTestEnv(t, atlassim.Config{TenantSunset: true})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
	proxy404 := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/restores/") {
			return false
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html><body>404 Not Found</body></html>"))
		return true
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig:   func() { env.setFront(proxy404) },
				Config:      cfg,
				PlanOnly:    true,
				ExpectError: wrapped(`(?s)Atlas Object Not Found.*HTTP 404.*base_url`),
			},
			{
				// The same job asked of Atlas after the tenant endpoints' sunset.
				PreConfig:   func() { env.setFront(nil) },
				Config:      strings.Replace(cfg, env.url, sunset.url, 1),
				PlanOnly:    true,
				ExpectError: wrapped(`(?s)Atlas Tenant Backup Endpoints Retired.*atlas_flex_snapshot_download with name =`),
			},
			{
				// Atlas's own "no such job" still removes it, and plans a new one.
				PreConfig: func() {
					job := env.onlyJob()
					if err := env.sim.DeleteJob(job.ProjectID, job.ClusterName, job.ID); err != nil {
						t.Fatal(err)
					}
				},
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// Importing a job under a wrong project or cluster says which is wrong.
func TestAccLifecycle_importNamesWhatIsMissing(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	job := env.outsideJob(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID)
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
	step := func(id, want string) resource.TestStep {
		return resource.TestStep{Config: cfg, ResourceName: tenantAddr, ImportState: true, ImportStateId: id, ExpectError: wrapped(want)}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			step("0123456789abcdef01234567/"+atlassim.DefaultClusterName+"/"+job.ID, `(?s)Atlas Project Not Found.*GROUP_NOT_FOUND`),
			step(importID("Nope", job.ID), `(?s)Atlas Cluster Not Found.*CLUSTER_NOT_FOUND.*Check cluster_name`),
			step(importID(atlassim.DefaultSecondClusterName, job.ID), `(?s)Atlas Download Job Not Found.*TENANT_RESTORE_NOT_FOUND`),
		},
	})
}

// TestAccBadInput_completedWithoutLinkNotWaiting: without waiting, the job
// is stored as Atlas described it, with no link (null), not an empty one.
func TestAccBadInput_completedWithoutLinkNotWaiting(t *testing.T) {
	env := newTestEnvWrapped(t, atlassim.Config{}, blankSnapshotURL)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "  wait_for_completion = false"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("status", knownvalue.StringExact("COMPLETED")),
				stateValue("snapshot_url", knownvalue.Null()),
			},
		}},
	})
}

// countingState records every state a resource stores.
type countingState struct{ stored []tenantDownloadModel }

func (s *countingState) Set(_ context.Context, val any) diag.Diagnostics {
	s.stored = append(s.stored, *val.(*tenantDownloadModel))
	return nil
}

// TestWaitAndStore_storesOnceUnlessItWaits checks how often a download is
// written to the state: once when Atlas's first answer is final, and once
// before waiting as well when it is not, so that an interrupted wait still
// leaves the job in the state.
func TestWaitAndStore_storesOnceUnlessItWaits(t *testing.T) {
	r := &downloadResource[tenantDownloadModel, *tenantDownloadModel]{kind: tenantDownload}
	cl := atlas.Cluster{Family: atlas.TenantV1, ProjectID: "6568a1b2c3d4e5f601234567", Name: "Cluster0"}
	// A client whose waits end at once with the context's error; it never
	// gets as far as a request.
	client, err := atlas.New(atlas.Config{
		BaseURL: "http://127.0.0.1:1", PublicKey: "pub", PrivateKey: "priv",
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	for _, tc := range []struct {
		name       string
		ctx        context.Context
		job        atlas.RestoreJob
		wantStores int
		wantError  string // summary of the one error expected, "" for none
	}{
		{"completed at once", context.Background(),
			atlas.RestoreJob{ID: "j1", Status: atlas.StatusCompleted, SnapshotURL: "https://example.invalid/s"}, 1, ""},
		{"failed at once", context.Background(),
			atlas.RestoreJob{ID: "j2", Status: atlas.StatusFailed}, 1, "Download Job Failed"},
		{"queued, wait interrupted", canceled,
			atlas.RestoreJob{ID: "j3", Status: "QUEUED"}, 2, "Waiting for the Download Link Was Interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m tenantDownloadModel
			state := &countingState{}
			var diags diag.Diagnostics
			job := tc.job
			r.waitAndStore(tc.ctx, client, cl, &m, &job, time.Now().Add(time.Minute), time.Minute, state, &diags, "The job is kept.")

			if len(state.stored) != tc.wantStores {
				t.Errorf("state stored %d times, want %d", len(state.stored), tc.wantStores)
			}
			for i, s := range state.stored {
				if s.ID.ValueString() != tc.job.ID || s.Status.ValueString() != tc.job.Status {
					t.Errorf("store %d holds job %s (%s), want %s (%s)", i+1, s.ID, s.Status, tc.job.ID, tc.job.Status)
				}
			}
			var summaries []string
			for _, d := range diags.Errors() {
				summaries = append(summaries, d.Summary())
			}
			if got := strings.Join(summaries, "; "); got != tc.wantError {
				t.Errorf("errors %q, want %q", got, tc.wantError)
			}
		})
	}
}

// TestParseImportIDBadInput: each bad import id is refused with a message
// that says which part is wrong and shows the expected form.
func TestParseImportIDBadInput(t *testing.T) {
	const p, j = "6568a1b2c3d4e5f601234567", "6568a1b2c3d4e5f6000000b1"
	tests := []struct{ id, want string }{
		{"", "does not have the form"},
		{p + "/Cluster0", "does not have the form"},
		{p + "/Cluster0/" + j + "/", "does not have the form"},
		{p + "/a/b/" + j, "does not have the form"},
		{"/Cluster0/" + j, "project id in import ID"},
		{strings.ToUpper(p) + "/Cluster0/" + j, "has upper-case letters"},
		{"６５６８a1b2c3d4e5f601234567/Cluster0/" + j, `character 1 is U+FF16`},
		{p + "/Clusterа0/" + j, `character 8 is U+0430`},
		{p + "/../" + j, `cluster name in import ID`},
		{p + "/Cluster0?x=1/" + j, `character 9 is U+003F`},
		{p + "/Cluster 0/" + j, `character 8 is U+0020`},
		{p + "/Cluster0/" + j[:23] + "\x00", `character 24 is U+0000`},
		{p + "/Cluster0/ " + j, "leading or trailing white space"},
		{p + "/Cluster0/" + j + "0", "it is 25 characters long"},
	}
	for _, tt := range tests {
		_, _, _, err := parseImportID(tt.id, "cluster_name")
		if err == nil {
			t.Errorf("%q accepted", tt.id)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.want) || !strings.Contains(msg, "PROJECT_ID/CLUSTER_NAME/JOB_ID") {
			t.Errorf("%q: error %q, want it to say %q and show the form", tt.id, msg, tt.want)
		}
	}
	if _, _, _, err := parseImportID(p+"/Cluster-0/"+j, "cluster_name"); err != nil {
		t.Errorf("a good id was refused: %v", err)
	}
}

func FuzzParseImportID(f *testing.F) {
	f.Fuzz(func(t *testing.T, id string) {
		project, cluster, job, err := parseImportID(id, "cluster_name")
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, "PROJECT_ID/CLUSTER_NAME/JOB_ID") {
				t.Fatalf("error does not show the expected form: %q", msg)
			}
			if project != "" || cluster != "" || job != "" {
				t.Fatal("parts returned with an error")
			}
			return
		}
		if !idPattern.MatchString(project) || !idPattern.MatchString(job) {
			t.Fatalf("accepted ids %q, %q", project, job)
		}
		if !clusterPattern.MatchString(cluster) || utf8.RuneCountInString(cluster) > maxClusterName {
			t.Fatalf("accepted cluster name %q", cluster)
		}
		if back := project + "/" + cluster + "/" + job; back != id {
			t.Fatalf("%q parsed to parts that join to %q", id, back)
		}
	})
}

func TestRenewalDue(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	job := func(expires, scheduled, renew string) *downloadJob {
		j := &downloadJob{RenewBefore: types.StringNull()}
		j.ID = types.StringValue("6568a1b2c3d4e5f6000000b1")
		j.ExpirationDate = optionalString(expires)
		j.RestoreScheduledDate = optionalString(scheduled)
		if renew != "" {
			j.RenewBefore = types.StringValue(renew)
		}
		return j
	}
	tests := []struct {
		name string
		job  *downloadJob
		want string // a part of the reason, "" for none
	}{
		{"fresh link, no window", job("2026-11-28T18:00:00Z", "", ""), ""},
		{"fresh link outside the window", job("2026-11-28T18:00:00Z", "", "2h"), ""},
		{"inside the window", job("2026-11-28T16:00:00Z", "", "2h"), "within renew_before (2h)"},
		{"exactly at the window's edge", job("2026-11-28T17:00:00Z", "", "2h"), "within renew_before"},
		{"expired", job("2026-11-28T14:59:59Z", "", ""), "expired at 2026-11-28T14:59:59Z"},
		{"expiry from the request time when Atlas sent none", job("", "2026-11-28T10:30:00Z", ""), "expired at 2026-11-28T14:30:00Z"},
		{"nothing to go by", job("", "", "1h"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renewalDue(tt.job, now)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("renewalDue = %q, want one containing %q", got, tt.want)
			}
		})
	}
}
