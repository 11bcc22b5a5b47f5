// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

const (
	restoreAddr = "atlas_flex_snapshot_restore.test"
	// stagingName is the Flex cluster restoreSeed adds as a target.
	stagingName = "Staging0"
	// seededDownloadID is a DOWNLOAD job of Flex0 in restoreSeed.
	seededDownloadID = "6568a1b2c3d4e5f6000000d1"
)

// restoreSeed is the default seed with a target Flex cluster and a
// download job of the source.
func restoreSeed() *atlassim.Seed {
	seed := atlassim.DefaultSeed()
	p := &seed.Projects[0]
	p.FlexClusters = append(p.FlexClusters, atlassim.SeedCluster{Name: stagingName, Snapshots: []atlassim.SeedSnapshot{}})
	for i := range p.FlexClusters {
		if p.FlexClusters[i].Name == atlassim.DefaultFlexClusterName {
			p.FlexClusters[i].RestoreJobs = []atlassim.SeedRestoreJob{{ID: seededDownloadID, SnapshotID: atlassim.DefaultFlexSnapshotID,
				Status: "COMPLETED", DeliveryType: "DOWNLOAD", RestoreScheduledDate: "2026-11-28T11:00:00Z"}}
		}
	}
	return seed
}

func newRestoreEnv(t *testing.T, cfg atlassim.Config) *testEnv {
	cfg.Seed = restoreSeed()
	return newTestEnv(t, cfg)
}

// restoreConfig restores the newest Flex0 snapshot onto target; extra goes
// inside the resource block.
func (e *testEnv) restoreConfig(target, extra string) string {
	return e.providerBlock() + fmt.Sprintf(`
resource "atlas_flex_snapshot_restore" "test" {
  project_id  = %q
  name        = %q
  snapshot_id = %q
  target_name = %q
%s
}
`, atlassim.DefaultProjectID, atlassim.DefaultFlexClusterName, atlassim.DefaultFlexSnapshotID, target, extra)
}

func restoreValue(attr string, check knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(restoreAddr, tfjsonpath.New(attr), check)
}

// restores counts the simulator's RESTORE jobs.
func (e *testEnv) restores() int {
	n := 0
	for _, j := range e.sim.Jobs() {
		if j.DeliveryType == "RESTORE" {
			n++
		}
	}
	return n
}

// A restore runs once: not again at refresh, nor when its expirationDate
// is long past; again when triggers change; import carries it; destroy
// calls nothing in Atlas.
func TestAccFlexRestore_lifecycle(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{})
	cfg := env.restoreConfig(stagingName, "")
	var writes atomic.Int32
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(restoreAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(restoreAddr, tfjsonpath.New("target_project_id"), knownvalue.StringExact(atlassim.DefaultProjectID)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					restoreValue("id", knownvalue.StringRegexp(idRegexp)),
					restoreValue("status", knownvalue.StringExact("COMPLETED")),
					restoreValue("delivery_type", knownvalue.StringExact("RESTORE")),
					restoreValue("target_project_id", knownvalue.StringExact(atlassim.DefaultProjectID)),
					restoreValue("restore_scheduled_date", knownvalue.StringExact("2026-11-28T12:30:00Z")),
					restoreValue("expiration_date", knownvalue.StringExact("2026-11-28T18:30:00Z")),
					restoreValue("restore_finished_date", knownvalue.NotNull()),
					restoreValue("snapshot_finished_date", knownvalue.NotNull()),
					restoreValue("wait_for_completion", knownvalue.Bool(true)),
				},
			},
			{
				// A refresh changes nothing.
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// The job's expirationDate is long past: still nothing.
				PreConfig:        func() { env.clock.Advance(30 * time.Hour) },
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:      restoreAddr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					rs := s.RootModule().Resources[restoreAddr]
					return fmt.Sprintf("%s/%s/%s", atlassim.DefaultProjectID, atlassim.DefaultFlexClusterName, rs.Primary.ID), nil
				},
			},
			{
				// A trigger restores again.
				Config: env.restoreConfig(stagingName, `  triggers = { day = "2" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(restoreAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{restoreValue("status", knownvalue.StringExact("COMPLETED"))},
				Check: func(*terraform.State) error {
					// From here on, only reads may reach Atlas: destroy calls nothing.
					env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
						if r.Method != http.MethodGet {
							writes.Add(1)
						}
						return false
					})
					return nil
				},
			},
		},
	})
	if n := env.restores(); n != 2 {
		t.Errorf("simulator holds %d restores, want 2 (create and trigger)", n)
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("destroy sent %d requests other than reads", n)
	}
}

// Terraform 1.12 and later keep the restore's identity, and an import
// block naming it takes the job over without restoring again.
func TestAccFlexRestore_identity(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{})
	cfg := env.restoreConfig(stagingName, "")
	var id string
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources[restoreAddr].Primary.ID
					return nil
				},
			},
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectIdentity(restoreAddr, map[string]knownvalue.Check{
					"project_id": knownvalue.StringExact(atlassim.DefaultProjectID),
					"name":       knownvalue.StringExact(atlassim.DefaultFlexClusterName),
					"job_id":     lateString{&id},
				})},
			},
			{
				// A fresh state, the configuration and an import block with
				// the identity: a no-op plan with the same identity.
				Config:          cfg,
				ResourceName:    restoreAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
		},
	})
	if n := env.restores(); n != 1 {
		t.Errorf("simulator holds %d restores, want 1 (the import restored nothing)", n)
	}
}

// A job Atlas no longer knows stays in the state, and no restore is planned.
func TestAccFlexRestore_laterNotFoundKeepsState(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{})
	cfg := env.restoreConfig(stagingName, "")
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					j := env.sim.Jobs()[1] // [0] is the seeded download
					id = j.ID
					if err := env.sim.DeleteJob(j.ProjectID, j.ClusterName, j.ID); err != nil {
						t.Fatal(err)
					}
				},
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources[restoreAddr].Primary.ID; got != id {
						return fmt.Errorf("state holds job %q, want the deleted job %q kept", got, id)
					}
					return nil
				},
			},
		},
	})
	if n := env.restores(); n != 0 {
		t.Errorf("simulator holds %d restores, want 0 (the one made was deleted, none made again)", n)
	}
}

// Without waiting the job is stored PENDING; a configuration that then
// waits plans an update that waits, and never restores again. A wait cut
// short by its timeout keeps the job untainted.
func TestAccFlexRestore_waiting(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{RestoreDuration: time.Hour})
	withTimeout := func(d string) string {
		return env.restoreConfig(stagingName, fmt.Sprintf("  timeouts {\n    update = %q\n  }", d))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:            env.restoreConfig(stagingName, "  wait_for_completion = false"),
				ConfigStateChecks: []statecheck.StateCheck{restoreValue("status", knownvalue.StringExact("PENDING"))},
			},
			{
				// The wait runs out: a warning, the job kept, an update planned again.
				Config: withTimeout("5m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(restoreAddr, plancheck.ResourceActionUpdate),
				}},
				ExpectNonEmptyPlan: true,
				ConfigStateChecks:  []statecheck.StateCheck{restoreValue("status", knownvalue.StringRegexp(regexp.MustCompile(`^(PENDING|RUNNING)$`)))},
			},
			{
				Config:             withTimeout("5m"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:            withTimeout("2h"),
				ConfigStateChecks: []statecheck.StateCheck{restoreValue("status", knownvalue.StringExact("COMPLETED"))},
			},
			{
				Config:           withTimeout("2h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
	if n := env.restores(); n != 1 {
		t.Errorf("simulator holds %d restores, want 1", n)
	}
}

// A FAILED restore is an error that says what to do.
func TestAccFlexRestore_failed(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{Faults: atlassim.Faults{FailSnapshotIDs: []string{atlassim.DefaultFlexSnapshotID}}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.restoreConfig(stagingName, ""),
			ExpectError: wrapped(`(?s)Restore Failed.*FAILED.*terraform untaint`),
		}},
	})
}

// A wrong or missing target is refused: its form at plan time, its absence
// by Atlas, named on target_name.
func TestAccFlexRestore_badTarget(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:      env.restoreConfig("no/slash", ""),
				PlanOnly:    true,
				ExpectError: wrapped(`(?s)target_name.*is not a name Atlas accepts`),
			},
			{
				Config: env.providerBlock() + fmt.Sprintf(`
resource "atlas_flex_snapshot_restore" "test" {
  project_id  = %q
  name        = %q
  snapshot_id = %q
}`, atlassim.DefaultProjectID, atlassim.DefaultFlexClusterName, atlassim.DefaultFlexSnapshotID),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`"target_name" is required`),
			},
			{
				Config:      env.restoreConfig("Nowhere0", ""),
				ExpectError: wrapped(`(?s)Restore Target Not Found.*FLEX_CLUSTER_NOT_FOUND.*no Flex cluster Nowhere0`),
			},
		},
	})
	if n := env.restores(); n != 0 {
		t.Errorf("simulator holds %d restores, want 0", n)
	}
}

// A restore whose answer is lost is found, not made twice.
func TestAccFlexRestore_lostAnswer(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{})
	var lost atomic.Int32
	env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/restoreJobs") || lost.Load() > 0 {
			return false
		}
		rec := httptest.NewRecorder()
		env.sim.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			copyAnswer(w, rec)
			return true
		}
		lost.Add(1)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return true
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:            env.restoreConfig(stagingName, ""),
			ConfigStateChecks: []statecheck.StateCheck{restoreValue("status", knownvalue.StringExact("COMPLETED"))},
		}},
	})
	if lost.Load() != 1 {
		t.Fatalf("%d answers lost, want 1", lost.Load())
	}
	if n := env.restores(); n != 1 {
		t.Errorf("simulator holds %d restores, want 1", n)
	}
}

// Import refuses a download job.
func TestAccFlexRestore_importRefusesDownload(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:        env.restoreConfig(stagingName, ""),
			ResourceName:  restoreAddr,
			ImportState:   true,
			ImportStateId: atlassim.DefaultProjectID + "/" + atlassim.DefaultFlexClusterName + "/" + seededDownloadID,
			ExpectError:   wrapped(`(?s)Not a Restore Job.*DOWNLOAD job.*atlas_flex_snapshot_download`),
		}},
	})
}

// Through the terraform CLI: a restore onto its own source warns at plan
// time, and a plan saved after the restore and applied once the job's
// expirationDate is long past restores nothing.
func TestAccFlexRestore_selfTargetWarnsAndSavedPlanDoesNotRestore(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{})
	dir, run := env.terraformCLI(t)
	write := func(cfg string) {
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(env.restoreConfig(atlassim.DefaultFlexClusterName, ""))
	run("init", "-no-color", "-input=false")
	if out := run("plan", "-no-color", "-input=false"); !strings.Contains(out, "Restore Onto the Source Cluster") {
		t.Errorf("plan of a restore onto its source does not warn:\n%s", out)
	}
	write(env.restoreConfig(stagingName, ""))
	run("apply", "-no-color", "-input=false", "-auto-approve")
	if out := run("plan", "-no-color", "-input=false"); strings.Contains(out, "Restore Onto the Source Cluster") {
		t.Errorf("plan of a restore onto another cluster warns:\n%s", out)
	}
	run("plan", "-no-color", "-input=false", "-out=saved.tfplan")
	env.clock.Advance(48 * time.Hour)
	run("apply", "-no-color", "-input=false", "saved.tfplan")
	run("apply", "-no-color", "-input=false", "-auto-approve")
	if n := env.restores(); n != 1 {
		t.Errorf("simulator holds %d restores, want 1", n)
	}
}

// An interrupted wait on create keeps the job untainted: the next apply
// waits for it, and no second restore is started.
func TestAccFlexRestore_interruptedWaitIsWaitedForAgain(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{RestoreDuration: 20 * time.Minute})
	env.clock.OnSleep(func(n int) error {
		if n == 2 {
			return context.Canceled
		}
		return nil
	})
	cfg := env.restoreConfig(stagingName, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg, ExpectNonEmptyPlan: true},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(restoreAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{restoreValue("status", knownvalue.StringExact("COMPLETED"))},
			},
		},
	})
	if n := env.restores(); n != 1 {
		t.Errorf("simulator holds %d restores, want 1", n)
	}
}

// When a restore's answer is lost and the look-up fails too, the error
// says that Atlas may be restoring and how to keep the job.
func TestAccFlexRestore_unconfirmedSaysHowToFindIt(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{})
	env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/restoreJobs") {
			return false
		}
		if r.Method == http.MethodPost {
			rec := httptest.NewRecorder()
			env.sim.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				copyAnswer(w, rec)
				return true
			}
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
			return true
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"detail":"Unexpected error.","error":500,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Internal Server Error"}`))
		return true
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.restoreConfig(stagingName, ""),
			ExpectError: wrapped(`(?s)Atlas May Be Restoring.*RESTORE job of snapshot ` + atlassim.DefaultFlexSnapshotID +
				` onto Staging0.*atlas_flex_restore_jobs.*terraform import <resource address> ` + atlassim.DefaultProjectID + `/` + atlassim.DefaultFlexClusterName + `/<job id>`),
		}},
	})
	if n := env.restores(); n != 1 {
		t.Errorf("simulator holds %d restores, want 1 (made by the lost request)", n)
	}
}

// The role a restore needs is named when Atlas refuses the key.
func TestAddRestoreErrorNamesTheRole(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		var d diag.Diagnostics
		addRestoreError(&d, "restore", &atlas.Error{StatusCode: status, ErrorCode: "UNAUTHORIZED"})
		if len(d) != 1 || !strings.Contains(d[0].Detail(), "Project Backup Recovery Operator") {
			t.Errorf("HTTP %d: diagnostics %v do not name the Project Backup Recovery Operator role", status, d)
		}
	}
}

// The warning of a restore onto its source, for the resource and the
// action: a null target project is the source's, and an unknown value
// warns of nothing.
func TestSameClusterWarning(t *testing.T) {
	p, other := types.StringValue(atlassim.DefaultProjectID), types.StringValue(atlassim.DefaultSecondProjectID)
	src, stage := types.StringValue(atlassim.DefaultFlexClusterName), types.StringValue(stagingName)
	for _, tt := range []struct {
		name                  string
		targetProject, target types.String
		warn                  bool
	}{
		{"the source, its project left out", types.StringNull(), src, true},
		{"the source, its project given", p, src, true},
		{"a namesake in another project", other, src, false},
		{"another cluster", types.StringNull(), stage, false},
		{"a target known only at apply", types.StringNull(), types.StringUnknown(), false},
		{"a target project known only at apply", types.StringUnknown(), src, false},
	} {
		var diags diag.Diagnostics
		sameClusterWarning(&diags, p, src, tt.targetProject, tt.target)
		if got := diags.WarningsCount() == 1; got != tt.warn || diags.HasError() {
			t.Errorf("%s: %v, want a warning: %v", tt.name, diags, tt.warn)
		}
	}
}
