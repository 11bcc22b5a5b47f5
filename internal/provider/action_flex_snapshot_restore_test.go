// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// invokeRestore invokes the restore action onto stagingName through the
// provider's protocol server and returns its progress lines and final
// diagnostics.
func (e *testEnv) invokeRestore(ctx context.Context) (progress []string, diags []*tfprotov6.Diagnostic) {
	t := e.t
	t.Helper()
	server := providerserver.NewProtocol6(New("test", WithClock(e.clock.Now, e.clock.Sleep))())()
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	cfg, err := server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: dynamicValue(t, schemas.Provider, map[string]tftypes.Value{
		"base_url": str(e.url), "public_key": str(atlassim.DefaultPublicKey), "private_key": str(atlassim.DefaultPrivateKey),
	})})
	if err != nil || len(cfg.Diagnostics) > 0 {
		t.Fatalf("configuring the provider: %v %v", err, cfg.Diagnostics)
	}
	stream, err := server.(tfprotov6.ActionServer).InvokeAction(ctx, &tfprotov6.InvokeActionRequest{
		ActionType: "atlas_flex_snapshot_restore",
		Config: dynamicValue(t, schemas.ActionSchemas["atlas_flex_snapshot_restore"].Schema, map[string]tftypes.Value{
			"project_id": str(atlassim.DefaultProjectID), "name": str(atlassim.DefaultFlexClusterName),
			"snapshot_id": str(atlassim.DefaultFlexSnapshotID), "target_name": str(stagingName),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for ev := range stream.Events {
		switch ev := ev.Type.(type) {
		case tfprotov6.ProgressInvokeActionEventType:
			progress = append(progress, ev.Message)
		case tfprotov6.CompletedInvokeActionEventType:
			diags = ev.Diagnostics
		}
	}
	return progress, diags
}

// TestRestoreActionProgress: the action reports the job at each status,
// with the time since the request, and ends without error once COMPLETED.
func TestRestoreActionProgress(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{RestoreDuration: 3 * time.Minute})
	progress, diags := env.invokeRestore(context.Background())
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %+v", diags[0])
	}
	var statuses []string
	for _, line := range progress {
		m := regexp.MustCompile(`^Restore job [a-f0-9]{24} onto Staging0: ([A-Z]+) after (\S+)\.$`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("progress line %q has not the expected form", line)
		}
		statuses = append(statuses, m[1]+" "+m[2])
	}
	if len(statuses) < 2 || !strings.HasPrefix(statuses[0], "PENDING 0s") || !strings.HasPrefix(statuses[len(statuses)-1], "COMPLETED ") ||
		statuses[len(statuses)-1] == "COMPLETED 0s" {
		t.Errorf("statuses %v, want PENDING at 0s first and COMPLETED after some time last", statuses)
	}
	if n := env.restores(); n != 1 {
		t.Errorf("simulator holds %d restores, want 1", n)
	}
}

// TestRestoreActionFailed: a FAILED restore fails the action.
func TestRestoreActionFailed(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{Faults: atlassim.Faults{FailSnapshotIDs: []string{atlassim.DefaultFlexSnapshotID}}})
	_, diags := env.invokeRestore(context.Background())
	if len(diags) != 1 || diags[0].Severity != tfprotov6.DiagnosticSeverityError || diags[0].Summary != "Restore Failed" {
		t.Fatalf("diagnostics %+v, want one error Restore Failed", diags)
	}
}

// TestAccRestoreAction_trigger: an action_trigger restores once.
func TestAccRestoreAction_trigger(t *testing.T) {
	env := newRestoreEnv(t, atlassim.Config{})
	cfg := env.providerBlock() + fmt.Sprintf(`
resource "terraform_data" "trigger" {
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.atlas_flex_snapshot_restore.test]
    }
  }
}

action "atlas_flex_snapshot_restore" "test" {
  config {
    project_id  = %q
    name        = %q
    snapshot_id = %q
    target_name = %q
  }
}
`, atlassim.DefaultProjectID, atlassim.DefaultFlexClusterName, atlassim.DefaultFlexSnapshotID, stagingName)
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(*terraform.State) error {
				for _, j := range env.sim.Jobs() {
					if j.DeliveryType == "RESTORE" && j.Status == "COMPLETED" && j.TargetDeploymentItemName == stagingName {
						return nil
					}
				}
				return fmt.Errorf("no COMPLETED restore onto %s: %+v", stagingName, env.sim.Jobs())
			},
		}},
	})
	if n := env.restores(); n != 1 {
		t.Errorf("simulator holds %d restores, want 1", n)
	}
}
