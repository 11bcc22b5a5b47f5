// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// The tests in this file try to break the lifecycle's promises with the
// sequences users run: plans applied later, settings known only at apply,
// interrupted waits, imports of unfinished or failed jobs, and answers
// that are not Atlas's.

// advanceClock is a plan check that moves the test's clock on between plan
// and apply, as a plan saved (or approved) now and applied later sees it.
type advanceClock struct {
	clock *fakeClock
	by    time.Duration
}

func (a advanceClock) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	a.clock.Advance(a.by)
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

// A FAILED snapshot is not "still being taken".
func TestAccLifecycle_failedSnapshotIsToldApart(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	const failed = "6568a1b2c3d4e5f6000000af"
	if err := env.sim.AddSnapshot(atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.SeedSnapshot{
		ID: failed, Status: "FAILED", ScheduledTime: "2026-11-28T11:00:00Z",
	}); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:      env.tenantConfig(atlassim.DefaultClusterName, failed, ""),
				ExpectError: wrapped(`(?s)Snapshot Not Ready for Download.*CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT.*is FAILED, so Atlas will never download it`),
			},
			{
				Config:      env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultRunningSnapshotID, ""),
				ExpectError: wrapped(`(?s)Snapshot Not Ready for Download.*The snapshot is RUNNING: Atlas is still taking it`),
			},
		},
	})
}

// When a download's answer is lost and the look-up for the job it made
// fails too, the error says that a job may exist and how to keep it.
func TestAccLifecycle_unconfirmedDownloadSaysHowToFindIt(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/download"):
			rec := httptest.NewRecorder()
			env.sim.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				copyAnswer(w, rec)
				return true
			}
			// Atlas acted; the answer never arrives.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return true
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/restores"):
			w.Header().Set("Date", env.clock.Now().UTC().Format(http.TimeFormat))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"detail":"Unexpected error.","error":500,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Internal Server Error"}`))
			return true
		}
		return false
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, ""),
			ExpectError: wrapped(`(?s)Atlas May Have Created a Download Job.*UNEXPECTED_ERROR.*scheduled at or after 2026-11-28T12:(29:59|30:00)Z.*` +
				`atlas_tenant_restore_jobs.*terraform import <resource address> ` + atlassim.DefaultProjectID + `/` + atlassim.DefaultClusterName + `/<job id>`),
		}},
	})
	if n := len(env.sim.Jobs()); n != 1 {
		t.Errorf("simulator holds %d jobs, want 1 (made by the lost request)", n)
	}
}

func copyAnswer(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// An untrusted certificate is not retried: the first attempt fails, and
// the error names base_url.
func TestAccLifecycle_untrustedCertificateFailsAtOnce(t *testing.T) {
	sim, err := atlassim.New(atlassim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(sim)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	env := newTestEnv(t, atlassim.Config{})
	env.url = srv.URL // https on loopback, signed by a CA the provider does not trust
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, ""),
			ExpectError: wrapped(`(?s)Cannot Reach Atlas.*certificate is not trusted.*did not retry.*base_url`),
		}},
	})
	if n := conns.Load(); n != 1 {
		t.Errorf("the provider opened %d connections, want 1 (no retries)", n)
	}
}
