// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

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

func TestAccTenantDownload_missingCredentials(t *testing.T) {
	unsetAtlasEnv(t)
	env := newTestEnv(t, atlassim.Config{})
	cfg := fmt.Sprintf(`
provider "atlas" {
  base_url = %q
}
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %q
  cluster_name = "Cluster0"
  snapshot_id  = %q
}
`, env.url, atlassim.DefaultProjectID, atlassim.DefaultSnapshotID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				// Planning a new resource needs no call to Atlas, so no keys.
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Missing Atlas API Key.*public key and the private key are missing.*MONGODB_ATLAS_PUBLIC_KEY`),
			},
		},
	})
}

func TestAccTenantDownload_keysFromEnvironment(t *testing.T) {
	unsetAtlasEnv(t)
	env := newTestEnv(t, atlassim.Config{})
	t.Setenv("MONGODB_ATLAS_PUBLIC_API_KEY", atlassim.DefaultPublicKey)
	t.Setenv("MONGODB_ATLAS_PRIVATE_KEY", atlassim.DefaultPrivateKey)
	t.Setenv("MONGODB_ATLAS_BASE_URL", env.url)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "atlas" {}
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %q
  cluster_name = "Cluster0"
  snapshot_id  = %q
}
`, atlassim.DefaultProjectID, atlassim.DefaultSnapshotID),
			ConfigStateChecks: []statecheck.StateCheck{stateValue("status", knownvalue.StringExact("COMPLETED"))},
		}},
	})
}

func TestAccProvider_badBaseURL(t *testing.T) {
	unsetAtlasEnv(t)
	for _, tt := range []struct{ url, want string }{
		{"http://cloud.mongodb.com", `(?s)Invalid Atlas Base URL.*plain http`},
		{"not a url", `(?s)Invalid Atlas Base URL.*must start with https://`},
		{"https://cloud.mongodb.com/api/atlas", `(?s)Invalid Atlas Base URL.*host only`},
	} {
		t.Run(tt.url, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
provider "atlas" {
  base_url = %q
}
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %q
  cluster_name = "Cluster0"
  snapshot_id  = %q
}
`, tt.url, atlassim.DefaultProjectID, atlassim.DefaultSnapshotID),
					PlanOnly:    true,
					ExpectError: wrapped(tt.want),
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
