// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// The action atlas_flex_snapshot_restore: a restore run once per
// invocation, with no state to remember it, for runs that restore on
// demand (terraform apply -invoke) or after another resource changes.

var (
	_ action.ActionWithConfigure      = (*restoreAction)(nil)
	_ action.ActionWithValidateConfig = (*restoreAction)(nil)
)

// defaultRestoreTimeout bounds an invocation without a timeouts block.
const defaultRestoreTimeout = time.Hour

func newFlexSnapshotRestoreAction() action.Action { return &restoreAction{} }

type restoreAction struct{ data *providerData }

type restoreActionModel struct {
	ProjectID         types.String   `tfsdk:"project_id"`
	Name              types.String   `tfsdk:"name"`
	SnapshotID        types.String   `tfsdk:"snapshot_id"`
	TargetName        types.String   `tfsdk:"target_name"`
	TargetProjectID   types.String   `tfsdk:"target_project_id"`
	WaitForCompletion types.Bool     `tfsdk:"wait_for_completion"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

// targetProject is target_project_id, or project_id where it is not set.
func (m *restoreActionModel) targetProject() types.String {
	if m.TargetProjectID.IsNull() {
		return m.ProjectID
	}
	return m.TargetProjectID
}

func (a *restoreAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flex_snapshot_restore"
}

func (a *restoreAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (a *restoreAction) Schema(ctx context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Restores a backup snapshot of an Atlas Flex cluster onto a Flex cluster each time it " +
			"is invoked, and reports each change of the job's status with the time since the request. A " +
			"`FAILED` restore fails the action.\n\n" +
			"!> A restore replaces **all data** on the target cluster.\n\n" +
			"Unlike the resource of the same name, the action keeps nothing in the state: every invocation " +
			"restores. Trigger it from a resource's `lifecycle { action_trigger { ... } }`, or run it with " +
			"`terraform apply -invoke=action.atlas_flex_snapshot_restore.<name>`. Needs Terraform 1.14 or later.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: restoreProjectDesc,
				Validators:          []validator.String{idValidator()},
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: restoreNameDesc,
				Validators:          clusterNameValidators(),
			},
			"snapshot_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Id of the `COMPLETED` snapshot to restore: 24 lowercase hexadecimal digits.",
				Validators:          []validator.String{idValidator()},
			},
			"target_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: restoreTargetNameDesc,
				Validators:          []validator.String{targetNameValidator()},
			},
			"target_project_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: restoreTargetProjectDesc,
				Validators:          []validator.String{idValidator()},
			},
			"wait_for_completion": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Whether the action waits until the restore has `COMPLETED`. When `false`, it " +
					"ends once Atlas accepts the request. Defaults to `true`.",
			},
		},
		Blocks: map[string]schema.Block{"timeouts": timeouts.Block(ctx)},
	}
}

func (a *restoreAction) ValidateConfig(ctx context.Context, req action.ValidateConfigRequest, resp *action.ValidateConfigResponse) {
	checkTimeouts(ctx, req.Config, &resp.Diagnostics)
	var m restoreActionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	sameClusterWarning(&resp.Diagnostics, m.ProjectID, m.Name, m.TargetProjectID, m.TargetName)
}

func (a *restoreAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	ctx = a.data.logContext(ctx)
	var m restoreActionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client, diags := a.data.Client()
	resp.Diagnostics.Append(diags...)
	timeout, diags := m.Timeouts.Invoke(ctx, defaultRestoreTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, deadline := bound(ctx, client, timeout)
	defer cancel()
	start := client.Now()
	send := func(j *atlas.RestoreJob) {
		sendProgress(resp.SendProgress, ctx.Done(), fmt.Sprintf("Restore job %s onto %s: %s after %s.",
			j.ID, j.TargetDeploymentItemName, j.Status, client.Now().Sub(start).Round(time.Second)))
	}
	cl := atlas.Cluster{Family: atlas.Flex, ProjectID: m.ProjectID.ValueString(), Name: m.Name.ValueString()}
	job := requestRestore(ctx, client, cl, atlas.Restore{SnapshotID: m.SnapshotID.ValueString(),
		TargetName: m.TargetName.ValueString(), TargetProjectID: m.targetProject().ValueString()}, &resp.Diagnostics)
	if job == nil {
		return
	}
	send(job)
	if !m.WaitForCompletion.IsNull() && !m.WaitForCompletion.ValueBool() {
		return
	}
	job, err := client.WatchJob(ctx, cl, job, deadline, send)
	addRestoreWaitError(&resp.Diagnostics, job, err, timeout, "Atlas has no call to cancel a restore; "+
		"check the target cluster in the Atlas UI before invoking the action again.", false)
}
