// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	atlasprovider "github.com/atlas-community/terraform-provider-atlas/internal/provider"
)

// TestFloor_sameSchemaAndKnownAfterCreate checks the two things the
// benchmark relies on: the floor's resource has the real resource's
// attributes, and its Create leaves nothing unknown (Terraform would
// refuse the apply otherwise).
func TestFloor_sameSchemaAndKnownAfterCreate(t *testing.T) {
	ctx := context.Background()
	actual := atlasprovider.New("test")()
	full, err := resourceSchema(ctx, actual, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"project_id", "cluster_name", "snapshot_id", "id", "status", "snapshot_url",
		"expiration_date", "wait_for_completion", "renew_before", "triggers"} {
		if _, ok := full.Attributes[name]; !ok {
			t.Errorf("floor schema lacks %s", name)
		}
	}
	if _, ok := full.Blocks["timeouts"]; !ok {
		t.Error("floor schema lacks the timeouts block")
	}
	minimal, err := resourceSchema(ctx, actual, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(minimal.Attributes) != 4 {
		t.Errorf("minimal schema has %d attributes, want 4", len(minimal.Attributes))
	}

	typ := full.Type().TerraformType(ctx).(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		switch name {
		case "project_id", "cluster_name", "snapshot_id":
			vals[name] = tftypes.NewValue(at, "x")
		case "triggers", "renew_before", "timeouts":
			vals[name] = tftypes.NewValue(at, nil)
		case "wait_for_completion":
			vals[name] = tftypes.NewValue(at, true)
		default:
			vals[name] = tftypes.NewValue(at, tftypes.UnknownValue)
		}
	}
	plan := tfsdk.Plan{Schema: full, Raw: tftypes.NewValue(typ, vals)}
	resp := resource.CreateResponse{State: tfsdk.State{Schema: full}}
	(&download{schema: full}).Create(ctx, resource.CreateRequest{Plan: plan}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	if !resp.State.Raw.IsFullyKnown() {
		t.Errorf("state after Create has unknown values: %s", resp.State.Raw)
	}
	var status string
	if diags := resp.State.GetAttribute(ctx, path.Root("status"), &status); diags.HasError() || status != "COMPLETED" {
		t.Errorf("status %q (%v), want COMPLETED", status, diags)
	}
}

// TestRawServer_plansAndAppliesACreate checks the raw variant's create: the
// plan applies wait_for_completion's default and leaves the other computed
// attributes unknown, as the framework does, and the apply leaves nothing
// unknown.
func TestRawServer_plansAndAppliesACreate(t *testing.T) {
	ctx := context.Background()
	rs, err := resourceSchema(ctx, atlasprovider.New("test")(), false)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := newRawServer(ctx, nil, rs, 0)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]tftypes.Value{}
	for name, at := range raw.typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	for _, name := range []string{"project_id", "cluster_name", "snapshot_id"} {
		vals[name] = tftypes.NewValue(tftypes.String, "x")
	}
	dv := func(v tftypes.Value) *tfprotov6.DynamicValue {
		d, err := tfprotov6.NewDynamicValue(raw.typ, v)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	planResp, err := raw.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName:         resourceType,
		PriorState:       dv(tftypes.NewValue(raw.typ, nil)),
		ProposedNewState: dv(tftypes.NewValue(raw.typ, vals)),
	})
	if err != nil {
		t.Fatal(err)
	}
	planned, err := planResp.PlannedState.Unmarshal(raw.typ)
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	if err := planned.As(&attrs); err != nil {
		t.Fatal(err)
	}
	if want := tftypes.NewValue(tftypes.Bool, true); !attrs["wait_for_completion"].Equal(want) {
		t.Errorf("planned wait_for_completion %s, want true", attrs["wait_for_completion"])
	}
	for _, name := range []string{"id", "status", "snapshot_url"} {
		if attrs[name].IsKnown() {
			t.Errorf("planned %s is known (%s), want unknown", name, attrs[name])
		}
	}
	applyResp, err := raw.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{
		TypeName: resourceType, PlannedState: planResp.PlannedState,
	})
	if err != nil {
		t.Fatal(err)
	}
	state, err := applyResp.NewState.Unmarshal(raw.typ)
	if err != nil {
		t.Fatal(err)
	}
	if !state.IsFullyKnown() {
		t.Errorf("state after apply has unknown values: %s", state)
	}
}
