// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// atlas_flex_snapshot_restore: a restore of a Flex snapshot onto a Flex
// cluster. A restore replaces the target's data, so it runs only on create
// and when what it restores changes (snapshot, target, triggers): never
// because of time, a refresh, or Atlas forgetting the job.

var (
	_ resource.ResourceWithConfigure      = (*restoreResource)(nil)
	_ resource.ResourceWithValidateConfig = (*restoreResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*restoreResource)(nil)
	_ resource.ResourceWithImportState    = (*restoreResource)(nil)
	_ resource.ResourceWithIdentity       = (*restoreResource)(nil)
)

func newFlexSnapshotRestoreResource() resource.Resource { return &restoreResource{} }

type restoreResource struct{ data *providerData }

type restoreModel struct {
	ProjectID         types.String   `tfsdk:"project_id"`
	Name              types.String   `tfsdk:"name"`
	SnapshotID        types.String   `tfsdk:"snapshot_id"`
	TargetName        types.String   `tfsdk:"target_name"`
	TargetProjectID   types.String   `tfsdk:"target_project_id"`
	WaitForCompletion types.Bool     `tfsdk:"wait_for_completion"`
	Triggers          types.Map      `tfsdk:"triggers"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`

	ID                   types.String `tfsdk:"id"`
	Status               types.String `tfsdk:"status"`
	DeliveryType         types.String `tfsdk:"delivery_type"`
	RestoreScheduledDate types.String `tfsdk:"restore_scheduled_date"`
	RestoreFinishedDate  types.String `tfsdk:"restore_finished_date"`
	ExpirationDate       types.String `tfsdk:"expiration_date"`
	SnapshotFinishedDate types.String `tfsdk:"snapshot_finished_date"`
}

func (m *restoreModel) cluster() atlas.Cluster {
	return atlas.Cluster{Family: atlas.Flex, ProjectID: m.ProjectID.ValueString(), Name: m.Name.ValueString()}
}

// identify records the job's identity where Terraform keeps one.
func (m *restoreModel) identify(ctx context.Context, id *tfsdk.ResourceIdentity) diag.Diagnostics {
	return setIdentity(ctx, id, flexRestore, m.ProjectID.ValueString(), m.Name.ValueString(), m.ID.ValueString())
}

func (m *restoreModel) restore() atlas.Restore {
	return atlas.Restore{SnapshotID: m.SnapshotID.ValueString(), TargetName: m.TargetName.ValueString(),
		TargetProjectID: m.TargetProjectID.ValueString()}
}

// fill copies Atlas's answer into the computed attributes.
func (m *restoreModel) fill(j *atlas.RestoreJob) {
	m.ID = types.StringValue(j.ID)
	m.Status = optionalString(j.Status)
	m.DeliveryType = optionalString(j.DeliveryType)
	m.RestoreScheduledDate = optionalString(j.RestoreScheduledDate)
	m.RestoreFinishedDate = optionalString(j.RestoreFinishedDate)
	m.ExpirationDate = optionalString(j.ExpirationDate)
	m.SnapshotFinishedDate = optionalString(j.SnapshotFinishedDate)
}

// unknown marks what a wait changes as known only after apply.
func (m *restoreModel) unknown() {
	m.Status, m.RestoreFinishedDate = types.StringUnknown(), types.StringUnknown()
}

func (m *restoreModel) job() *atlas.RestoreJob {
	return &atlas.RestoreJob{ID: m.ID.ValueString(), Status: m.Status.ValueString(), DeliveryType: "RESTORE",
		SnapshotID: m.SnapshotID.ValueString(), TargetDeploymentItemName: m.TargetName.ValueString(),
		TargetProjectID: m.TargetProjectID.ValueString(), RestoreScheduledDate: m.RestoreScheduledDate.ValueString()}
}

func (r *restoreResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flex_snapshot_restore"
}

func (r *restoreResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (r *restoreResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	const again = " Changing it restores again."
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc, PlanModifiers: keep}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Restores a backup snapshot of an Atlas Flex cluster onto a Flex cluster, such as " +
			"staging from production's newest backup, and waits until Atlas has finished.\n\n" +
			"!> A restore replaces **all data** on the target cluster.\n\n" +
			"The restore runs when the resource is created, and again only when `snapshot_id`, the target " +
			"(`target_name`, `target_project_id`) or `triggers` change. Nothing else restores again: not the " +
			"passing of the job's `expiration_date`, not a refresh, not a saved plan applied later, and not " +
			"Atlas forgetting the job (a refresh then keeps the state and warns). Destroying the resource " +
			"calls nothing in Atlas: a restore cannot be undone.\n\n" +
			"A `FAILED` restore is an error, and Terraform marks the resource tainted, so the next apply restores " +
			"again (`terraform untaint` keeps the failed job instead). A wait cut short by its timeout or by an " +
			"interrupt is only a warning: the job stays in the state, untainted, and the next apply waits for it " +
			"rather than start a second restore over one still running.\n\n" +
			"Flex clusters keep their last 8 daily snapshots and restore only onto Flex clusters (replica " +
			"sets). The API key needs the Project Owner or Project Backup Recovery Operator role.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: restoreProjectDesc + again,
				Validators:          []validator.String{idValidator()},
				PlanModifiers:       replace,
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: restoreNameDesc + again,
				Validators:          clusterNameValidators(),
				PlanModifiers:       replace,
			},
			"snapshot_id": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Id of the `COMPLETED` snapshot to restore: 24 lowercase hexadecimal digits (the " +
					"`atlas_flex_snapshots` data source's `latest_completed_id` names the newest). Changing it restores again.",
				Validators:    []validator.String{idValidator()},
				PlanModifiers: replace,
			},
			"target_name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: restoreTargetNameDesc + again,
				Validators:          []validator.String{targetNameValidator()},
				PlanModifiers:       replace,
			},
			"target_project_id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: restoreTargetProjectDesc + again,
				Validators:          []validator.String{idValidator()},
				PlanModifiers:       []planmodifier.String{defaultToProject{}, stringplanmodifier.RequiresReplace()},
			},
			"wait_for_completion": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Whether `terraform apply` waits until the restore has `COMPLETED`. While it is " +
					"`true` and the job has not finished (after a timeout, an interrupted apply, switching it from " +
					"`false`, or an import), every plan shows an update that waits for it; the wait never restores " +
					"again. Defaults to `true`.",
			},
			"triggers": schema.MapAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Arbitrary strings that, when any of them changes, restore again (for example " +
					"a date, to refresh staging on demand with the same snapshot).",
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"id":                     computed("Id of the restore job."),
			"status":                 computed("Phase of the job: `PENDING`, `QUEUED`, `RUNNING`, `FAILED` or `COMPLETED`."),
			"delivery_type":          computed("`RESTORE`."),
			"restore_scheduled_date": computed("When Atlas scheduled the restore (RFC 3339, UTC)."),
			"restore_finished_date":  computed("When Atlas finished the restore (RFC 3339, UTC); set once `COMPLETED`."),
			"expiration_date": computed("When Atlas lets the job expire (RFC 3339, UTC), six hours after it was " +
				"scheduled. Its passing changes nothing here: the restored data stays, and no new restore is planned."),
			"snapshot_finished_date": computed("When Atlas finished taking the snapshot (RFC 3339, UTC)."),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true}),
		},
	}
}

// IdentitySchema: a restore's identity is its import ID in parts.
func (r *restoreResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = jobIdentitySchema(flexRestore, "restore job")
}

// defaultToProject plans target_project_id as project_id when the
// configuration leaves it out, before RequiresReplace compares it with the
// state.
type defaultToProject struct{}

func (defaultToProject) Description(context.Context) string { return "defaults to project_id" }
func (d defaultToProject) MarkdownDescription(ctx context.Context) string {
	return d.Description(ctx)
}

func (defaultToProject) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if !req.ConfigValue.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var project types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("project_id"), &project)...)
	resp.PlanValue = project
}

// ValidateConfig warns of a restore onto its own source and refuses
// timeouts that end an operation before it starts.
func (r *restoreResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	checkTimeouts(ctx, req.Config, &resp.Diagnostics)
	var m restoreModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	sameClusterWarning(&resp.Diagnostics, m.ProjectID, m.Name, m.TargetProjectID, m.TargetName)
}

func (r *restoreResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx = r.data.logContext(ctx)
	var m restoreModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client, diags := r.data.Client()
	resp.Diagnostics.Append(diags...)
	timeout, diags := m.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, deadline := bound(ctx, client, timeout)
	defer cancel()
	job := requestRestore(ctx, client, m.cluster(), m.restore(), &resp.Diagnostics)
	if job == nil {
		return
	}
	m.fill(job)
	// The job exists from here on: record it before waiting, so that an
	// interrupted apply never loses it.
	resp.Diagnostics.Append(m.identify(ctx, resp.Identity)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	if resp.Diagnostics.HasError() || !m.WaitForCompletion.ValueBool() {
		return
	}
	r.wait(ctx, client, &m, job, deadline, timeout, &resp.State, &resp.Diagnostics,
		"Terraform marks the resource tainted, so the next apply restores again; to keep this job instead, run terraform untaint.")
}

// wait waits for the job to finish and stores each answer. A timeout or
// an interrupt is a warning: the job stays in the state untainted, and the
// next plan shows an update that waits again, where an error would taint
// the resource and restore a second time over a restore still running.
func (r *restoreResource) wait(ctx context.Context, client *atlas.Client, m *restoreModel, job *atlas.RestoreJob,
	deadline time.Time, timeout time.Duration, state stateSetter, diags *diag.Diagnostics, failedKept string) {
	job, err := client.WaitForJob(ctx, m.cluster(), job, deadline)
	m.fill(job)
	diags.Append(state.Set(ctx, m)...)
	kept := "The job stays in the state, and the next plan shows an update that waits for it (without restoring again)."
	if job.Status == atlas.StatusFailed {
		kept = failedKept
	}
	addRestoreWaitError(diags, job, err, timeout, kept, true)
}

// Read refreshes the job. It never plans a restore: a job Atlas no longer
// knows keeps its state, with a warning, for the restored data stays.
func (r *restoreResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	ctx = r.data.logContext(ctx)
	var m restoreModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// A state from before identities, or from Terraform before 1.12,
	// gains one here.
	resp.Diagnostics.Append(m.identify(ctx, resp.Identity)...)
	client, diags := r.data.Client()
	resp.Diagnostics.Append(diags...)
	timeout, diags := m.Timeouts.Read(ctx, defaultReadTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	readCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id := m.ID.ValueString()
	job, err := client.GetRestoreJob(readCtx, m.cluster(), id)
	if atlas.IsJobNotFound(err) {
		resp.Diagnostics.AddWarning("Restore Job No Longer in Atlas", fmt.Sprintf("Atlas no longer knows restore job %s "+
			"(it removes old jobs). The restore's data stays on %s, so the resource keeps its last known state and "+
			"plans no new restore. Change triggers or snapshot_id to restore again.", id, m.TargetName.ValueString()))
		return
	}
	if err != nil {
		addReadError(readCtx, &resp.Diagnostics, client, flexRestore, "read restore job "+id, err, timeout)
		return
	}
	m.fill(job)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update changes only the provider-side settings; a configuration that
// waits for an unfinished job waits for it here (see ModifyPlan).
func (r *restoreResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	ctx = r.data.logContext(ctx)
	var m, prior restoreModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	wait, tos, triggers := m.WaitForCompletion, m.Timeouts, m.Triggers
	m = prior
	m.WaitForCompletion, m.Timeouts, m.Triggers = wait, tos, triggers
	resp.Diagnostics.Append(m.identify(ctx, resp.Identity)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	if resp.Diagnostics.HasError() || !m.WaitForCompletion.ValueBool() || m.job().Finished() {
		return
	}
	client, diags := r.data.Client()
	resp.Diagnostics.Append(diags...)
	timeout, diags := m.Timeouts.Update(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, deadline := bound(ctx, client, timeout)
	defer cancel()
	latest, err := client.GetRestoreJob(ctx, m.cluster(), m.ID.ValueString())
	if atlas.IsJobNotFound(err) {
		resp.Diagnostics.AddWarning("Restore Job No Longer in Atlas", fmt.Sprintf("Atlas no longer knows restore job %s, "+
			"so the provider cannot wait for it; the state keeps its last known status.", m.ID.ValueString()))
		return
	}
	if err != nil {
		addRestoreError(&resp.Diagnostics, "read restore job "+m.ID.ValueString(), err)
		return
	}
	r.wait(ctx, client, &m, latest, deadline, timeout, &resp.State, &resp.Diagnostics,
		"The job stays in the state; change triggers (or run terraform apply -replace) to restore again.")
}

// Delete calls nothing: Atlas has no call to undo a restore.
func (r *restoreResource) Delete(ctx context.Context, req resource.DeleteRequest, _ *resource.DeleteResponse) {
	var id types.String
	req.State.GetAttribute(ctx, path.Root("id"), &id)
	tflog.Debug(r.data.logContext(ctx), "forgetting restore job; a restore cannot be undone", map[string]any{"job_id": id.ValueString()})
}

// ModifyPlan plans an update that waits while a configuration that waits
// meets an unfinished job. It decides from the state alone, so a plan made
// again at apply time is the one approved; nothing here restores again.
func (r *restoreResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var plan, state restoreModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !plan.ID.Equal(state.ID) {
		return // a replacement: the new job's values are unknown already
	}
	wait := plan.WaitForCompletion
	if (wait.IsUnknown() || wait.ValueBool()) && !state.job().Finished() {
		plan.unknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	}
}

// ImportState takes PROJECT_ID/NAME/JOB_ID of a RESTORE job, or an import
// block's identity.
func (r *restoreResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ctx = r.data.logContext(ctx)
	project, name, jobID, err := importTarget(ctx, req, flexRestore.clusterAttr)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", err.Error())
		return
	}
	client, diags := r.data.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	m := restoreModel{ProjectID: types.StringValue(project), Name: types.StringValue(name)}
	readCtx, cancel := context.WithTimeout(ctx, defaultReadTimeout)
	defer cancel()
	job, err := client.GetRestoreJob(readCtx, m.cluster(), jobID)
	if err != nil {
		addReadError(readCtx, &resp.Diagnostics, client, flexRestore, fmt.Sprintf("import restore job %s of %s in project %s", jobID, name, project), err, defaultReadTimeout)
		return
	}
	if job.DeliveryType != "RESTORE" {
		resp.Diagnostics.AddError("Not a Restore Job", fmt.Sprintf("Job %s of %s is a %s job, not a restore onto a "+
			"cluster. Import download jobs into atlas_flex_snapshot_download instead.", jobID, name, job.DeliveryType))
		return
	}
	m.fill(job)
	m.SnapshotID = types.StringValue(job.SnapshotID)
	m.TargetName = types.StringValue(job.TargetDeploymentItemName)
	m.TargetProjectID = types.StringValue(job.TargetProjectID)
	m.WaitForCompletion = types.BoolValue(true)
	m.Triggers = types.MapNull(types.StringType)
	m.Timeouts = timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "read": types.StringType, "update": types.StringType,
	})}
	resp.Diagnostics.Append(m.identify(ctx, resp.Identity)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
