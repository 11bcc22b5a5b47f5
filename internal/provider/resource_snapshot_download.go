// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"encoding/json"
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
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// The download resources, atlas_tenant_snapshot_download and
// atlas_flex_snapshot_download: one implementation over the two families
// (family.go).

var (
	_ resource.ResourceWithConfigure      = (*downloadResource[tenantDownloadModel, *tenantDownloadModel])(nil)
	_ resource.ResourceWithValidateConfig = (*downloadResource[tenantDownloadModel, *tenantDownloadModel])(nil)
	_ resource.ResourceWithModifyPlan     = (*downloadResource[tenantDownloadModel, *tenantDownloadModel])(nil)
	_ resource.ResourceWithImportState    = (*downloadResource[tenantDownloadModel, *tenantDownloadModel])(nil)
	_ resource.ResourceWithIdentity       = (*downloadResource[tenantDownloadModel, *tenantDownloadModel])(nil)
)

func newTenantSnapshotDownloadResource() resource.Resource {
	return &downloadResource[tenantDownloadModel, *tenantDownloadModel]{kind: tenantDownload}
}

func newFlexSnapshotDownloadResource() resource.Resource {
	return &downloadResource[flexDownloadModel, *flexDownloadModel]{kind: flexDownload}
}

// tenantDownloadModel is atlas_tenant_snapshot_download.
type tenantDownloadModel struct {
	ProjectID   types.String `tfsdk:"project_id"`
	ClusterName types.String `tfsdk:"cluster_name"`
	downloadJob
}

func (m *tenantDownloadModel) job() *downloadJob { return &m.downloadJob }

func (m *tenantDownloadModel) target() (string, string) {
	return m.ProjectID.ValueString(), m.ClusterName.ValueString()
}

func (m *tenantDownloadModel) setTarget(projectID, cluster string) {
	m.ProjectID, m.ClusterName = types.StringValue(projectID), types.StringValue(cluster)
}

// flexDownloadModel is atlas_flex_snapshot_download.
type flexDownloadModel struct {
	ProjectID types.String `tfsdk:"project_id"`
	Name      types.String `tfsdk:"name"`
	downloadJob
}

func (m *flexDownloadModel) job() *downloadJob { return &m.downloadJob }

func (m *flexDownloadModel) target() (string, string) {
	return m.ProjectID.ValueString(), m.Name.ValueString()
}

func (m *flexDownloadModel) setTarget(projectID, cluster string) {
	m.ProjectID, m.Name = types.StringValue(projectID), types.StringValue(cluster)
}

// downloadModel is a download resource's whole model: the shared part and
// the cluster it addresses.
type downloadModel interface {
	job() *downloadJob
	target() (projectID, cluster string)
	setTarget(projectID, cluster string)
}

// downloadJob holds the attributes every download resource shares: the
// snapshot, how to wait and renew, and the job Atlas made.
type downloadJob struct {
	SnapshotID        types.String   `tfsdk:"snapshot_id"`
	WaitForCompletion types.Bool     `tfsdk:"wait_for_completion"`
	RenewBefore       types.String   `tfsdk:"renew_before"`
	Triggers          types.Map      `tfsdk:"triggers"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`

	jobAttrs
}

// fill copies Atlas's answer into the job's attributes.
func (m *downloadJob) fill(j *atlas.RestoreJob) {
	m.jobAttrs.fill(j)
	if j.SnapshotID != "" {
		m.SnapshotID = types.StringValue(j.SnapshotID)
	}
}

// imported fills the job from Atlas's answer, with the settings an import
// leaves (those of a configuration that sets none but waits): list results
// carry the same, so that an import of one plans no change.
func (m *downloadJob) imported(j *atlas.RestoreJob) {
	m.fill(j)
	m.WaitForCompletion = types.BoolValue(true)
	m.RenewBefore = types.StringNull()
	m.Triggers = types.MapNull(types.StringType)
	m.Timeouts = timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "read": types.StringType, "update": types.StringType,
	})}
}

// downloadResource is the lifecycle of a download job, for any model M
// whose pointer P is a downloadModel.
type downloadResource[M any, P interface {
	*M
	downloadModel
}] struct {
	kind downloadKind
	data *providerData
}

func (r *downloadResource[M, P]) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + r.kind.typeSuffix
}

func (r *downloadResource[M, P]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// maxRenewBefore leaves a new link at least an hour of plans before a
// renewal; closer to four hours every plan would renew it.
const maxRenewBefore = 3 * time.Hour

func (r *downloadResource[M, P]) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	attrs := map[string]schema.Attribute{
		"project_id": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Id of the Atlas project (group) that holds the cluster: 24 lowercase hexadecimal digits. Changing it requests a new download.",
			Validators:          []validator.String{idValidator()},
			PlanModifiers:       replace,
		},
		r.kind.clusterAttr: schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Name of the " + r.kind.clusterNoun + " whose snapshot to download. Changing it requests a new download.",
			Validators:          clusterNameValidators(),
			PlanModifiers:       replace,
		},
		"snapshot_id": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "Id of the backup snapshot to download: 24 lowercase hexadecimal digits. The snapshot must be `COMPLETED`. Changing it requests a new download.",
			Validators:          []validator.String{idValidator()},
			PlanModifiers:       replace,
		},
		"wait_for_completion": schema.BoolAttribute{
			Optional: true,
			Computed: true,
			Default:  booldefault.StaticBool(true),
			MarkdownDescription: "Whether `terraform apply` waits until Atlas has prepared the download link " +
				"(`status` `COMPLETED`). When `false`, the resource is created as soon as Atlas accepts the " +
				"request, and `snapshot_url` may be empty until a later refresh. While it is `true` (or not known " +
				"until apply) and the job has no link yet, for example after an interrupted wait, after switching " +
				"it from `false`, or after importing an unfinished job, every plan shows an update that waits for " +
				"the link. Defaults to `true`.",
		},
		"renew_before": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "A duration such as `30m` or `1h30m`, at most `3h`. When a refresh finds that " +
				"the link expires within this window (by Atlas's clock), the plan replaces the resource to request " +
				"a fresh link, so a pipeline never receives a link that dies mid-download. Without it, the link " +
				"is renewed once it has expired. The decision is made at refresh from the value in the state, so " +
				"a saved plan applies as approved however late, and a change to `renew_before` takes effect " +
				"from the plan after the apply that stores it.",
			Validators: []validator.String{durationValidator{max: maxRenewBefore, why: "a new link lives four hours, " +
				"so a longer window would renew a link that is minutes old at nearly every plan. Use at most 3h."}},
		},
		"triggers": schema.MapAttribute{
			ElementType: types.StringType,
			Optional:    true,
			MarkdownDescription: "Arbitrary strings that, when any of them changes, request a new download " +
				"(for example the `id` of a `time_rotating` resource, or a snapshot id read from a data source).",
			PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
		},
	}
	resourceJobAttributes(attrs)
	attrs["snapshot_url"] = schema.StringAttribute{
		Computed:  true,
		Sensitive: true,
		MarkdownDescription: "Address from which the compressed snapshot can be downloaded, valid for four " +
			"hours after the request. Anyone holding it can read the data. It is stored in the state and " +
			"in saved plans, marked sensitive, so protect both (or use the ephemeral resource of the same " +
			"name, which never stores it).",
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: r.kind.description,
		Attributes:          attrs,
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true}),
		},
	}
}

// IdentitySchema: a download's identity is its import ID in parts. A list
// result carries it, and terraform query -generate-config-out writes it
// into an import block.
func (r *downloadResource[M, P]) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = jobIdentitySchema(r.kind, "download job")
}

// ValidateConfig refuses timeouts that would end an operation before it
// starts.
func (r *downloadResource[M, P]) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	checkTimeouts(ctx, req.Config, &resp.Diagnostics)
}

// cluster is the Atlas address of the model's cluster.
func (r *downloadResource[M, P]) cluster(m P) atlas.Cluster {
	project, name := m.target()
	return atlas.Cluster{Family: r.kind.family, ProjectID: project, Name: name}
}

func (r *downloadResource[M, P]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx = r.data.logContext(ctx)
	var m M
	p := P(&m)
	resp.Diagnostics.Append(req.Plan.Get(ctx, p)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client, diags := r.data.Client()
	resp.Diagnostics.Append(diags...)
	timeout, diags := p.job().Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, deadline := bound(ctx, client, timeout)
	defer cancel()

	cl := r.cluster(p)
	job := requestDownload(ctx, client, r.kind, cl, p.job().SnapshotID.ValueString(), &resp.Diagnostics)
	if job == nil {
		return
	}
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, r.kind, cl.ProjectID, cl.Name, job.ID)...)
	if !p.job().WaitForCompletion.ValueBool() {
		p.job().fill(job)
		resp.Diagnostics.Append(resp.State.Set(ctx, p)...)
		return
	}
	r.waitAndStore(ctx, client, cl, p, job, deadline, timeout, &resp.State, &resp.Diagnostics,
		"The job is kept in the state and Terraform marks the resource tainted, so the next apply requests a new download.")
}

// waitAndStore waits for job's link (see waitForLink) and stores the last
// answer, failed or unfinished as it may be; kept says what becomes of the
// job then.
func (r *downloadResource[M, P]) waitAndStore(ctx context.Context, client *atlas.Client, cl atlas.Cluster, p P,
	job *atlas.RestoreJob, deadline time.Time, timeout time.Duration, state stateSetter, diags *diag.Diagnostics, kept string) {
	p.job().fill(job)
	job = waitForLink(ctx, client, r.kind, cl, job, deadline, timeout, kept, skipWaitAdvice, diags, func(*atlas.RestoreJob) bool {
		// The job exists in Atlas from here on: record it before waiting, so
		// an interrupted apply never loses it. (A job finished at once is
		// stored only once, below.)
		diags.Append(state.Set(ctx, p)...)
		return !diags.HasError()
	})
	if job == nil {
		return
	}
	p.job().fill(job)
	diags.Append(state.Set(ctx, p)...)
}

type stateSetter interface {
	Set(ctx context.Context, val any) diag.Diagnostics
}

func (r *downloadResource[M, P]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	ctx = r.data.logContext(ctx)
	var m M
	p := P(&m)
	resp.Diagnostics.Append(req.State.Get(ctx, p)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client, diags := r.data.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := p.job().Timeouts.Read(ctx, defaultReadTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	readCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id := p.job().ID.ValueString()
	// Even a removed resource answers with its identity.
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, r.kind, r.cluster(p).ProjectID, r.cluster(p).Name, id)...)
	job, err := client.GetRestoreJob(readCtx, r.cluster(p), id)
	if atlas.IsJobNotFound(err) {
		// Only Atlas's own "no such job" removes the resource: a retired
		// endpoint, a proxy's 404 or a wrong host must not quietly plan a
		// new download.
		tflog.Warn(ctx, "download job no longer exists in Atlas; removing it from the state", map[string]any{"job_id": id})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addReadError(readCtx, &resp.Diagnostics, client, r.kind, "read download job "+id, err, timeout)
		return
	}
	p.job().fill(job)
	resp.Diagnostics.Append(resp.State.Set(ctx, p)...)
	resp.Diagnostics.Append(setRenewal(ctx, resp.Private, renewalDue(p.job(), client.ServerNow()))...)
}

// Update changes only the provider-side settings (waiting, renewal window,
// timeouts); the job stays. A configuration that waits for an unfinished
// job waits for it here (ModifyPlan plans this update until the job has
// its link or has failed).
func (r *downloadResource[M, P]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	ctx = r.data.logContext(ctx)
	var m, prior M
	p, pp := P(&m), P(&prior)
	resp.Diagnostics.Append(req.Plan.Get(ctx, p)...)
	resp.Diagnostics.Append(req.State.Get(ctx, pp)...)
	if resp.Diagnostics.HasError() {
		return
	}
	settings := *p.job()
	*p.job() = *pp.job()
	p.job().WaitForCompletion = settings.WaitForCompletion
	p.job().RenewBefore = settings.RenewBefore
	p.job().Triggers = settings.Triggers
	p.job().Timeouts = settings.Timeouts
	resp.Diagnostics.Append(resp.State.Set(ctx, p)...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, r.kind, r.cluster(p).ProjectID, r.cluster(p).Name, p.job().ID.ValueString())...)
	if resp.Diagnostics.HasError() || !p.job().WaitForCompletion.ValueBool() {
		return
	}
	job := jobOf(&p.job().jobAttrs)
	if job.Finished() {
		return
	}
	client, diags := r.data.Client()
	resp.Diagnostics.Append(diags...)
	timeout, diags := p.job().Timeouts.Update(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, deadline := bound(ctx, client, timeout)
	defer cancel()
	cl := r.cluster(p)
	latest, err := client.GetRestoreJob(ctx, cl, job.ID)
	if err != nil {
		addAtlasError(&resp.Diagnostics, r.kind, "read download job "+job.ID, err)
		resp.Diagnostics.AddWarning("Download Job Kept", updateKept)
		return
	}
	r.waitAndStore(ctx, client, cl, p, latest, deadline, timeout, &resp.State, &resp.Diagnostics, updateKept)
}

// updateKept says what becomes of a job whose wait on the update path
// ended without a link: Terraform taints only on create.
const updateKept = "The job stays in the state with its last status. Until it has its link (or has failed), " +
	"every plan shows this resource as an update, and the next apply waits for the job again."

// Delete only forgets the job: Atlas has no call to delete or cancel a
// download job, and the link expires by itself.
func (r *downloadResource[M, P]) Delete(ctx context.Context, req resource.DeleteRequest, _ *resource.DeleteResponse) {
	ctx = r.data.logContext(ctx)
	var id types.String
	req.State.GetAttribute(ctx, path.Root("id"), &id)
	tflog.Debug(ctx, "forgetting download job; Atlas has no call to delete it", map[string]any{"job_id": id.ValueString()})
}

// ModifyPlan plans what the state alone calls for, so that the plan made
// again at apply time cannot differ from the one the user approved:
//   - a FAILED job is replaced;
//   - a link that the last refresh found expired, or within renew_before
//     of it, is replaced (Read decides that, from the clock; see
//     renewalDue);
//   - a configuration that waits (wait_for_completion true, or not known
//     yet) for a job that has no link yet plans an update that waits.
func (r *downloadResource[M, P]) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	ctx = r.data.logContext(ctx)
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan, state M
	pp, sp := P(&plan), P(&state)
	resp.Diagnostics.Append(req.Plan.Get(ctx, pp)...)
	resp.Diagnostics.Append(req.State.Get(ctx, sp)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := sp.job().ID.ValueString()
	replace := func(at, summary, why string) {
		pp.job().unknown()
		pp.job().ID = types.StringUnknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, pp)...)
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root(at))
		resp.Diagnostics.AddWarning(summary, why)
	}
	if sp.job().Status.ValueString() == atlas.StatusFailed {
		replace("status", "Failed Download Job Will Be Replaced", fmt.Sprintf("Atlas reports download job %s as FAILED, so it will never have a link. "+
			"This plan replaces the resource to request a new download of snapshot %s.", id, sp.job().SnapshotID.ValueString()))
		return
	}
	why, diags := getRenewal(ctx, req.Private)
	resp.Diagnostics.Append(diags...)
	if why != "" {
		replace("expiration_date", "Download Link Will Be Renewed", why+" This plan replaces the resource to request a new link.")
		return
	}
	wait := pp.job().WaitForCompletion
	if (wait.IsUnknown() || wait.ValueBool()) && !jobOf(&sp.job().jobAttrs).Finished() {
		// The apply will wait (or may: an unknown setting can become
		// true), and the job's values change while it does.
		pp.job().unknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, pp)...)
	}
}

// renewalKey names the private state entry in which Read leaves its
// renewal decision for ModifyPlan.
const renewalKey = "renewal"

// renewalDue says why the job's link must be renewed at now (server
// time), or "" when it need not: the link has expired, or expires within
// the renew_before of the state (see atlas.RestoreJob.LinkExpiry). It is
// decided at refresh, from the state's values, like time_rotating does: a
// plan applied later must not flip to a replacement when the clock moves
// on.
func renewalDue(j *downloadJob, now time.Time) string {
	expires, ok := jobOf(&j.jobAttrs).LinkExpiry()
	if !ok {
		return "" // nothing to go by
	}
	window := time.Duration(0)
	if rb := j.RenewBefore; !rb.IsNull() && !rb.IsUnknown() {
		window, _ = time.ParseDuration(rb.ValueString()) // validated at plan time
	}
	switch {
	case !now.Before(expires):
		return fmt.Sprintf("The download link of job %s expired at %s (Atlas's clock).", j.ID.ValueString(), expires.Format(time.RFC3339))
	case !now.Add(window).Before(expires):
		return fmt.Sprintf("The download link of job %s expires at %s, within renew_before (%s) of the last refresh (%s, Atlas's clock).",
			j.ID.ValueString(), expires.Format(time.RFC3339), j.RenewBefore.ValueString(), now.UTC().Format(time.RFC3339))
	}
	return ""
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type renewalRecord struct {
	Why string `json:"why"`
}

// setRenewal records Read's decision; "" clears it.
func setRenewal(ctx context.Context, priv privateSetter, why string) diag.Diagnostics {
	if why == "" {
		return priv.SetKey(ctx, renewalKey, nil)
	}
	b, err := json.Marshal(renewalRecord{Why: why})
	if err != nil {
		var d diag.Diagnostics
		d.AddError("Cannot Record the Renewal", err.Error())
		return d
	}
	return priv.SetKey(ctx, renewalKey, b)
}

func getRenewal(ctx context.Context, priv privateGetter) (string, diag.Diagnostics) {
	b, diags := priv.GetKey(ctx, renewalKey)
	if len(b) == 0 || diags.HasError() {
		return "", diags
	}
	var rec renewalRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return "", nil // an entry of another version: decide at the next refresh
	}
	return rec.Why, nil
}

func (r *downloadResource[M, P]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ctx = r.data.logContext(ctx)
	project, name, jobID, err := importTarget(ctx, req, r.kind.clusterAttr)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", err.Error())
		return
	}
	var m M
	p := P(&m)
	p.setTarget(project, name)
	client, diags := r.data.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Read the job here rather than leave it to the refresh: a job that
	// is not there, or a wrong project or cluster, then gets Atlas's own
	// explanation instead of Terraform's generic "non-existent object".
	readCtx, cancel := context.WithTimeout(ctx, defaultReadTimeout)
	defer cancel()
	job, err := client.GetRestoreJob(readCtx, r.cluster(p), jobID)
	if err != nil {
		addReadError(readCtx, &resp.Diagnostics, client, r.kind, fmt.Sprintf("import download job %s of %s %s in project %s", jobID, r.kind.clusterAttr, name, project), err, defaultReadTimeout)
		return
	}
	p.job().imported(job)
	resp.Diagnostics.Append(resp.State.Set(ctx, p)...)
	resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, r.kind, project, name, job.ID)...)
}
