package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// defaultCreateTimeout bounds the wait for a download link when the
// configuration sets no timeouts block.
const defaultCreateTimeout = 30 * time.Minute

// linkLifetime is how long Atlas keeps a download link valid.
const linkLifetime = 4 * time.Hour

// downloadKind is what one download resource type says about itself; the
// lifecycle below is shared by all of them.
type downloadKind struct {
	// typeSuffix follows the provider name in the type name.
	typeSuffix string
	family     *atlas.Family
	// clusterAttr names the attribute holding the cluster name.
	clusterAttr string
	// clusterNoun is how the docs speak of the cluster ("M2/M5 cluster").
	clusterNoun string
	// description introduces the resource in its docs; summary says in a
	// phrase what is downloaded, for the ephemeral resource's docs.
	description string
	summary     string
	// object is what a message names when it points to the other family's
	// equivalent: the part of the type name after the family
	// ("snapshot_download", or a data source's "restore_jobs"). "" means
	// the download resource.
	object string
}

// as is the kind as a data source of the given suffix speaks of itself.
func (k downloadKind) as(object string) downloadKind {
	k.object = object
	return k
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

// jobOf is the part of a stored job that waiting looks at.
func jobOf(m *jobAttrs) *atlas.RestoreJob {
	return &atlas.RestoreJob{ID: m.ID.ValueString(), Status: m.Status.ValueString(), SnapshotURL: m.SnapshotURL.ValueString()}
}

// downloadModel is a download resource's whole model: the shared part and
// the cluster it addresses.
type downloadModel interface {
	job() *downloadJob
	target() (projectID, cluster string)
	setTarget(projectID, cluster string)
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
				"request, and `snapshot_url` may be empty until a later refresh. Defaults to `true`.",
		},
		"renew_before": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "A duration such as `30m` or `1h30m`. When the link will expire within this " +
				"window at plan time, the plan replaces the resource to request a fresh link, so a pipeline " +
				"never receives a link that dies mid-download. Must be shorter than the link's four-hour " +
				"lifetime. Without it, the link is renewed once it has expired.",
			Validators: []validator.String{durationValidator{max: linkLifetime}},
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
			"hours after the request. Anyone holding it can read the data: it is sensitive, and it is " +
			"stored in the Terraform state, so protect the state (or use the ephemeral resource of the " +
			"same name, which never stores it).",
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: r.kind.description,
		Attributes:          attrs,
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
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
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cl := r.cluster(p)
	snapshotID := p.job().SnapshotID.ValueString()
	job, err := client.RequestDownload(ctx, cl, snapshotID)
	if err != nil {
		addAtlasError(&resp.Diagnostics, r.kind, "request a download of snapshot "+snapshotID, err)
		return
	}
	if !p.job().WaitForCompletion.ValueBool() {
		p.job().fill(job)
		resp.Diagnostics.Append(resp.State.Set(ctx, p)...)
		return
	}
	r.waitAndStore(ctx, client, cl, p, job, timeout, &resp.State, &resp.Diagnostics)
}

// waitAndStore stores job, polls it until it is finished, stores the last
// answer, and turns a failed or unfinished job into an error.
func (r *downloadResource[M, P]) waitAndStore(ctx context.Context, client *atlas.Client, cl atlas.Cluster, p P,
	job *atlas.RestoreJob, timeout time.Duration, state stateSetter, diags *diag.Diagnostics) {
	p.job().fill(job)
	var err error
	if !job.Finished() {
		// The job exists in Atlas from here on: record it before waiting, so
		// an interrupted apply leaves a tainted resource rather than a lost
		// job. (A job finished at once is stored only once, below.)
		diags.Append(state.Set(ctx, p)...)
		if diags.HasError() {
			return
		}
		job, err = client.WaitForJob(ctx, cl, job, client.Now().Add(timeout))
		p.job().fill(job)
	}
	diags.Append(state.Set(ctx, p)...)
	addWaitError(diags, r.kind, job, err, timeout, "The job is kept in the state and marked tainted, so the next apply requests a new link.")
}

// addWaitError explains why waiting for a job ended without a link, if it
// did; kept says what became of the job.
func addWaitError(diags *diag.Diagnostics, kind downloadKind, job *atlas.RestoreJob, err error, timeout time.Duration, kept string) {
	switch {
	case errors.Is(err, context.DeadlineExceeded) && job.Status == atlas.StatusCompleted && job.SnapshotURL == "":
		// Atlas said COMPLETED without a link: waiting treated the job as
		// unfinished, since a download without a link is no download.
		diags.AddError("Atlas Gave No Download Link",
			fmt.Sprintf("Atlas reports download job %s as COMPLETED, but its answer has no snapshotUrl, and none "+
				"came before the %s timeout ran out. %s If this repeats, the job is broken on the Atlas side: "+
				"request a new download (terraform apply -replace) or contact MongoDB support.", job.ID, timeout, kept))
	case errors.Is(err, context.DeadlineExceeded):
		diags.AddError("Timed Out Waiting for the Download Link",
			fmt.Sprintf("Atlas accepted download job %s, but it was still %s when the %s timeout ran out. %s "+
				"Raise the timeout with a timeouts block, or set wait_for_completion = false to take the job "+
				"as soon as Atlas accepts it.", job.ID, job.Status, timeout, kept))
	case errors.Is(err, context.Canceled):
		diags.AddError("Waiting for the Download Link Was Interrupted",
			fmt.Sprintf("Atlas accepted download job %s (last seen %s), and the wait for its link was "+
				"interrupted. %s", job.ID, job.Status, kept))
	case err != nil:
		addAtlasError(diags, kind, "read download job "+job.ID, err)
	case job.Status == atlas.StatusFailed:
		diags.AddError("Download Job Failed",
			fmt.Sprintf("Atlas reports download job %s for snapshot %s as FAILED. %s Check the snapshot in "+
				"the Atlas UI if it fails again.", job.ID, job.SnapshotID, kept))
	}
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
	id := p.job().ID.ValueString()
	job, err := client.GetRestoreJob(ctx, r.cluster(p), id)
	if atlas.IsNotFound(err) {
		tflog.Warn(ctx, "download job no longer exists in Atlas; removing it from the state", map[string]any{"job_id": id})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAtlasError(&resp.Diagnostics, r.kind, "read download job "+id, err)
		return
	}
	p.job().fill(job)
	resp.Diagnostics.Append(resp.State.Set(ctx, p)...)
}

// Update changes only the provider-side settings (waiting, renewal window,
// timeouts); the job stays. Turning waiting on waits for an unfinished job.
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
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl := r.cluster(p)
	latest, err := client.GetRestoreJob(ctx, cl, job.ID)
	if err != nil {
		addAtlasError(&resp.Diagnostics, r.kind, "read download job "+job.ID, err)
		return
	}
	r.waitAndStore(ctx, client, cl, p, latest, timeout, &resp.State, &resp.Diagnostics)
}

// Delete only forgets the job: Atlas has no call to delete or cancel a
// download job, and the link expires by itself.
func (r *downloadResource[M, P]) Delete(ctx context.Context, req resource.DeleteRequest, _ *resource.DeleteResponse) {
	ctx = r.data.logContext(ctx)
	var id types.String
	req.State.GetAttribute(ctx, path.Root("id"), &id)
	tflog.Debug(ctx, "forgetting download job; Atlas has no call to delete it", map[string]any{"job_id": id.ValueString()})
}

// ModifyPlan plans a replacement when the link has expired, or will within
// renew_before, by the provider's clock.
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
	if !req.Plan.Raw.Equal(req.State.Raw) && pp.job().WaitForCompletion.ValueBool() && !jobOf(&sp.job().jobAttrs).Finished() {
		// An update that turns waiting on will wait, and the job's values
		// may change while it does.
		pp.job().unknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, pp)...)
		return
	}
	expires, err := time.Parse(time.RFC3339, sp.job().ExpirationDate.ValueString())
	if err != nil {
		return // not known yet (a job that never reported an expiry)
	}
	window := time.Duration(0)
	if rb := pp.job().RenewBefore; !rb.IsNull() && !rb.IsUnknown() {
		window, _ = time.ParseDuration(rb.ValueString()) // validated at plan time
	}
	now := r.data.now()
	if now.Add(window).Before(expires) {
		return
	}
	why := fmt.Sprintf("The download link of job %s expired at %s.", sp.job().ID.ValueString(), expires.Format(time.RFC3339))
	if now.Before(expires) {
		why = fmt.Sprintf("The download link of job %s expires at %s, within renew_before (%s).",
			sp.job().ID.ValueString(), expires.Format(time.RFC3339), pp.job().RenewBefore.ValueString())
	}
	pp.job().unknown()
	pp.job().ID = types.StringUnknown()
	resp.Diagnostics.Append(resp.Plan.Set(ctx, pp)...)
	resp.RequiresReplace = append(resp.RequiresReplace, path.Root("expiration_date"))
	resp.Diagnostics.AddWarning("Download Link Will Be Renewed", why+" This plan replaces the resource to request a new link.")
}

func (r *downloadResource[M, P]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	project, name, jobID, err := parseImportID(req.ID, r.kind.clusterAttr)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", err.Error())
		return
	}
	var m M
	p := P(&m)
	p.setTarget(project, name)
	j := p.job()
	j.ID = types.StringValue(jobID)
	j.WaitForCompletion = types.BoolValue(true)
	j.Triggers = types.MapNull(types.StringType)
	j.Timeouts = timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "update": types.StringType,
	})}
	resp.Diagnostics.Append(resp.State.Set(ctx, p)...)
}

// parseImportID splits PROJECT_ID/CLUSTER/JOB_ID and checks each part.
func parseImportID(id, clusterAttr string) (project, cluster, job string, err error) {
	form := fmt.Sprintf("PROJECT_ID/%s/JOB_ID, for example 6568a1b2c3d4e5f601234567/Cluster0/6568a1b2c3d4e5f6000000b1",
		strings.ToUpper(clusterAttr))
	parts := strings.Split(id, "/")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("The import ID %q does not have the form %s.", id, form)
	}
	project, cluster, job = parts[0], parts[1], parts[2]
	if msg := checkID(project); msg != "" {
		return "", "", "", fmt.Errorf("The project id in import ID %q %s. Expected %s.", id, msg, form)
	}
	if msg := checkClusterName(cluster); msg != "" {
		return "", "", "", fmt.Errorf("The cluster name in import ID %q %s. Expected %s.", id, msg, form)
	}
	if msg := checkID(job); msg != "" {
		return "", "", "", fmt.Errorf("The job id in import ID %q %s. Expected %s.", id, msg, form)
	}
	return project, cluster, job, nil
}
