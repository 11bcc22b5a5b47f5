// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"sort"
	"time"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// The data sources read snapshots and restore jobs of either family. They
// read their arguments and write their results by attribute path, so one
// implementation serves both the cluster_name (tenant) and name (Flex)
// spellings of the cluster argument.

var (
	_ datasource.DataSourceWithConfigure      = (*snapshotsDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*snapshotsDataSource)(nil)
)

// clusterDataSource is what every data source shares: its family and the
// provider's client.
type clusterDataSource struct {
	kind   downloadKind
	suffix string
	data   *providerData
}

func (d *clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + d.kind.family.Name + "_" + d.suffix
}

func (d *clusterDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// clusterAttributes are the arguments naming a cluster, plus more.
func (d *clusterDataSource) clusterAttributes(ctx context.Context, more map[string]schema.Attribute) map[string]schema.Attribute {
	more["project_id"] = schema.StringAttribute{Required: true, MarkdownDescription: projectIDDoc, Validators: []validator.String{idValidator()}}
	more[d.kind.clusterAttr] = schema.StringAttribute{Required: true, MarkdownDescription: clusterDoc(d.kind), Validators: clusterNameValidators()}
	more["timeouts"] = dstimeouts.Attributes(ctx)
	return more
}

// readContext bounds a read by timeouts.read (default defaultReadTimeout).
func (d *clusterDataSource) readContext(ctx context.Context, cfg tfsdk.Config, diags *diag.Diagnostics) (context.Context, context.CancelFunc, time.Duration) {
	var t dstimeouts.Value
	diags.Append(cfg.GetAttribute(ctx, path.Root("timeouts"), &t)...)
	timeout, tdiags := t.Read(ctx, defaultReadTimeout)
	diags.Append(tdiags...)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	return rctx, cancel, timeout
}

// ValidateConfig refuses a read timeout of zero or less.
func (d *clusterDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	checkTimeouts(ctx, req.Config, &resp.Diagnostics)
}

// cluster reads the cluster arguments and returns the client with them.
func (d *clusterDataSource) cluster(ctx context.Context, cfg tfsdk.Config, diags *diag.Diagnostics) (*atlas.Client, atlas.Cluster) {
	var project, name types.String
	diags.Append(cfg.GetAttribute(ctx, path.Root("project_id"), &project)...)
	diags.Append(cfg.GetAttribute(ctx, path.Root(d.kind.clusterAttr), &name)...)
	client, cdiags := d.data.Client()
	diags.Append(cdiags...)
	return client, atlas.Cluster{Family: d.kind.family, ProjectID: project.ValueString(), Name: name.ValueString()}
}

func readString(ctx context.Context, cfg tfsdk.Config, name string, diags *diag.Diagnostics) types.String {
	var v types.String
	diags.Append(cfg.GetAttribute(ctx, path.Root(name), &v)...)
	return v
}

// snapshotValue is one snapshot as the data sources show it.
type snapshotValue struct {
	ID             types.String `tfsdk:"id"`
	Status         types.String `tfsdk:"status"`
	MongoDBVersion types.String `tfsdk:"mongodb_version"`
	ScheduledTime  types.String `tfsdk:"scheduled_time"`
	StartTime      types.String `tfsdk:"start_time"`
	FinishTime     types.String `tfsdk:"finish_time"`
	Expiration     types.String `tfsdk:"expiration"`
}

var snapshotDocs = []struct{ name, desc string }{
	{"id", "Id of the snapshot."},
	{"status", "Phase of the snapshot: `PENDING`, `QUEUED`, `RUNNING`, `FAILED` or `COMPLETED`."},
	{"mongodb_version", "MongoDB version of the cluster when the snapshot was taken."},
	{"scheduled_time", "When Atlas scheduled the snapshot (RFC 3339, UTC)."},
	{"start_time", "When Atlas began the snapshot (RFC 3339, UTC)."},
	{"finish_time", "When Atlas finished the snapshot (RFC 3339, UTC)."},
	{"expiration", "When Atlas deletes the snapshot (RFC 3339, UTC)."},
}

func newSnapshotValue(s atlas.Snapshot) snapshotValue {
	return snapshotValue{
		ID: types.StringValue(s.ID), Status: optionalString(s.Status), MongoDBVersion: optionalString(s.MongoDBVersion),
		ScheduledTime: optionalString(s.ScheduledTime), StartTime: optionalString(s.StartTime),
		FinishTime: optionalString(s.FinishTime), Expiration: optionalString(s.Expiration),
	}
}

func snapshotObjectType() types.ObjectType {
	t := map[string]attr.Type{}
	for _, d := range snapshotDocs {
		t[d.name] = types.StringType
	}
	return types.ObjectType{AttrTypes: t}
}

// takenAt is when a snapshot was taken, for ordering and time windows.
func takenAt(s atlas.Snapshot) time.Time {
	for _, v := range []string{s.ScheduledTime, s.StartTime, s.FinishTime} {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

var statusValidator = stringvalidator.OneOf(atlas.StatusPending, atlas.StatusQueued, atlas.StatusRunning, atlas.StatusFailed, atlas.StatusCompleted)

// snapshotsDataSource lists a cluster's snapshots.
type snapshotsDataSource struct{ clusterDataSource }

func (d *snapshotsDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	nested := map[string]schema.Attribute{}
	for _, a := range snapshotDocs {
		nested[a.name] = schema.StringAttribute{Computed: true, MarkdownDescription: a.desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: fmt.Sprintf("Lists the backup snapshots of an Atlas %s, newest first, with optional "+
			"filters, and names the newest completed one, so a configuration can download the latest backup "+
			"without knowing its id.", d.kind.clusterNoun),
		Attributes: d.clusterAttributes(ctx, map[string]schema.Attribute{
			"status": schema.StringAttribute{Optional: true, Validators: []validator.String{statusValidator},
				MarkdownDescription: "Only snapshots in this phase, such as `COMPLETED`."},
			"since": schema.StringAttribute{Optional: true, Validators: []validator.String{rfc3339Validator{}},
				MarkdownDescription: "Only snapshots taken at or after this time (RFC 3339, such as `2026-11-01T00:00:00Z`)."},
			"until": schema.StringAttribute{Optional: true, Validators: []validator.String{rfc3339Validator{}},
				MarkdownDescription: "Only snapshots taken before this time (RFC 3339)."},
			"snapshots": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: "The matching snapshots, newest first. Every page Atlas has is read.",
				NestedObject:        schema.NestedAttributeObject{Attributes: nested}},
			"latest_completed_id": schema.StringAttribute{Computed: true,
				MarkdownDescription: "Id of the newest `COMPLETED` snapshot among the matching ones; null when there is none."},
		}),
	}
}

// ValidateConfig rejects a time window that cannot hold a snapshot, which
// would otherwise list nothing without saying why. It checks only values
// known at plan time; Read's filter assumes nothing of the order.
func (d *snapshotsDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	d.clusterDataSource.ValidateConfig(ctx, req, resp)
	var since, until types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("since"), &since)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("until"), &until)...)
	if resp.Diagnostics.HasError() || !isKnown(since) || !isKnown(until) {
		return
	}
	from, err1 := time.Parse(time.RFC3339, since.ValueString())
	to, err2 := time.Parse(time.RFC3339, until.ValueString())
	if err1 != nil || err2 != nil || from.Before(to) {
		return // the attribute validators report a time that does not parse
	}
	resp.Diagnostics.AddAttributeError(path.Root("until"), "Empty Snapshot Time Window",
		fmt.Sprintf("until (%q) must be later than since (%q): snapshots are kept when taken at or after since "+
			"and before until, so no snapshot can match. Swap the two values, or leave one of them out.",
			until.ValueString(), since.ValueString()))
}

func isKnown(v types.String) bool { return !v.IsNull() && !v.IsUnknown() }

func (d *snapshotsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	ctx = d.data.logContext(ctx)
	client, cl := d.cluster(ctx, req.Config, &resp.Diagnostics)
	status := readString(ctx, req.Config, "status", &resp.Diagnostics)
	since := readString(ctx, req.Config, "since", &resp.Diagnostics)
	until := readString(ctx, req.Config, "until", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	rctx, cancel, timeout := d.readContext(ctx, req.Config, &resp.Diagnostics)
	defer cancel()
	snaps, err := client.AllSnapshots(rctx, cl)
	if err != nil {
		addReadError(rctx, &resp.Diagnostics, client, d.kind, "list the snapshots of "+cl.Name, err, timeout)
		return
	}
	from, _ := time.Parse(time.RFC3339, since.ValueString()) // validated; zero when unset
	to, _ := time.Parse(time.RFC3339, until.ValueString())
	var kept []atlas.Snapshot
	for _, s := range snaps {
		at := takenAt(s)
		switch {
		case !status.IsNull() && s.Status != status.ValueString():
		case !since.IsNull() && at.Before(from):
		case !until.IsNull() && !at.Before(to):
		default:
			kept = append(kept, s)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool {
		ti, tj := takenAt(kept[i]), takenAt(kept[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return kept[i].ID > kept[j].ID
	})
	values := make([]snapshotValue, len(kept))
	latest := types.StringNull()
	for i, s := range kept {
		values[i] = newSnapshotValue(s)
		if latest.IsNull() && s.Status == atlas.StatusCompleted {
			latest = types.StringValue(s.ID)
		}
	}
	list, diags := types.ListValueFrom(ctx, snapshotObjectType(), values)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("snapshots"), list)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("latest_completed_id"), latest)...)
}

// snapshotDataSource reads one snapshot.
type snapshotDataSource struct{ clusterDataSource }

func (d *snapshotDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"snapshot_id": schema.StringAttribute{Required: true, Validators: []validator.String{idValidator()},
			MarkdownDescription: "Id of the snapshot: 24 lowercase hexadecimal digits."},
	}
	for _, a := range snapshotDocs[1:] {
		attrs[a.name] = schema.StringAttribute{Computed: true, MarkdownDescription: a.desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: fmt.Sprintf("Reads one backup snapshot of an Atlas %s.", d.kind.clusterNoun),
		Attributes:          d.clusterAttributes(ctx, attrs),
	}
}

func (d *snapshotDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	ctx = d.data.logContext(ctx)
	client, cl := d.cluster(ctx, req.Config, &resp.Diagnostics)
	id := readString(ctx, req.Config, "snapshot_id", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	rctx, cancel, timeout := d.readContext(ctx, req.Config, &resp.Diagnostics)
	defer cancel()
	s, err := client.GetSnapshot(rctx, cl, id.ValueString())
	if err != nil {
		addReadError(rctx, &resp.Diagnostics, client, d.kind, "read snapshot "+id.ValueString(), err, timeout)
		return
	}
	v := newSnapshotValue(*s)
	setStrings(ctx, &resp.State, &resp.Diagnostics, map[string]types.String{
		"status": v.Status, "mongodb_version": v.MongoDBVersion, "scheduled_time": v.ScheduledTime,
		"start_time": v.StartTime, "finish_time": v.FinishTime, "expiration": v.Expiration,
	})
}

// setStrings writes top-level string attributes of a data source's state.
func setStrings(ctx context.Context, state *tfsdk.State, diags *diag.Diagnostics, values map[string]types.String) {
	for name, val := range values {
		diags.Append(state.SetAttribute(ctx, path.Root(name), val)...)
	}
}

// restoreJobValue is one restore or download job as the data sources show it.
type restoreJobValue struct {
	SnapshotID types.String `tfsdk:"snapshot_id"`
	jobAttrs
}

func newRestoreJobValue(j *atlas.RestoreJob) restoreJobValue {
	v := restoreJobValue{SnapshotID: optionalString(j.SnapshotID)}
	v.fill(j)
	return v
}

func restoreJobObjectType() types.ObjectType {
	t := map[string]attr.Type{"snapshot_id": types.StringType}
	for _, d := range jobAttrDocs {
		t[d.name] = types.StringType
	}
	return types.ObjectType{AttrTypes: t}
}

// linkStoredDoc is how the docs say that a download link reaches the state;
// the resource and ephemeral resource schemas use the same words.
const linkStoredDoc = "stored in the state and in saved plans, marked sensitive"

// restoreJobsDataSource lists a cluster's restore and download jobs.
type restoreJobsDataSource struct{ clusterDataSource }

func (d *restoreJobsDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	nested := map[string]schema.Attribute{
		"snapshot_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the snapshot the job restores or downloads."},
	}
	dataSourceJobAttributes(nested)
	nested["snapshot_url"] = schema.StringAttribute{Computed: true, Sensitive: true,
		MarkdownDescription: "Address from which the compressed snapshot can be downloaded, valid for four hours " +
			"after the request; anyone holding it can read the data. Null unless `include_links` is true; when " +
			"set, it is " + linkStoredDoc + "."}
	resp.Schema = schema.Schema{
		MarkdownDescription: fmt.Sprintf("Lists the restore and download jobs of an Atlas %s, newest first. "+
			"Each job's `snapshot_url` is null, so that no link reaches the state or a saved plan, unless "+
			"`include_links` is true; the links are then "+linkStoredDoc+".", d.kind.clusterNoun),
		Attributes: d.clusterAttributes(ctx, map[string]schema.Attribute{
			"delivery_type": schema.StringAttribute{Optional: true,
				Validators:          []validator.String{stringvalidator.OneOf("DOWNLOAD", "RESTORE")},
				MarkdownDescription: "Only jobs of this kind: `DOWNLOAD` or `RESTORE`."},
			"include_links": schema.BoolAttribute{Optional: true,
				MarkdownDescription: "Whether to read each job's download link (`snapshot_url`); default `false`. " +
					"Links requested by the ephemeral resources would reach the state too, so leave it off " +
					"unless this configuration needs the links."},
			"restore_jobs": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: "The matching jobs, newest first. Every page Atlas has is read.",
				NestedObject:        schema.NestedAttributeObject{Attributes: nested}},
		}),
	}
}

func (d *restoreJobsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	ctx = d.data.logContext(ctx)
	client, cl := d.cluster(ctx, req.Config, &resp.Diagnostics)
	kind := readString(ctx, req.Config, "delivery_type", &resp.Diagnostics)
	var links types.Bool
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("include_links"), &links)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rctx, cancel, timeout := d.readContext(ctx, req.Config, &resp.Diagnostics)
	defer cancel()
	jobs, err := client.AllRestoreJobs(rctx, cl)
	if err != nil {
		addReadError(rctx, &resp.Diagnostics, client, d.kind, "list the restore jobs of "+cl.Name, err, timeout)
		return
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].RestoreScheduledDate > jobs[j].RestoreScheduledDate })
	values := []restoreJobValue{}
	for i := range jobs {
		if kind.IsNull() || jobs[i].DeliveryType == kind.ValueString() {
			v := newRestoreJobValue(&jobs[i])
			if !links.ValueBool() {
				v.SnapshotURL = types.StringNull()
			}
			values = append(values, v)
		}
	}
	list, diags := types.ListValueFrom(ctx, restoreJobObjectType(), values)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("restore_jobs"), list)...)
}

// restoreJobDataSource reads one restore or download job.
type restoreJobDataSource struct{ clusterDataSource }

func (d *restoreJobDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"job_id": schema.StringAttribute{Required: true, Validators: []validator.String{idValidator()},
			MarkdownDescription: "Id of the restore or download job: 24 lowercase hexadecimal digits."},
		"snapshot_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the snapshot the job restores or downloads."},
	}
	dataSourceJobAttributes(attrs)
	delete(attrs, "id")
	attrs["snapshot_url"] = schema.StringAttribute{Computed: true, Sensitive: true,
		MarkdownDescription: "Address from which the compressed snapshot can be downloaded, valid for four hours " +
			"after the request; anyone holding it can read the data. It is " + linkStoredDoc + "."}
	resp.Schema = schema.Schema{
		MarkdownDescription: fmt.Sprintf("Reads one restore or download job of an Atlas %s, for example one "+
			"made outside this configuration. Its `snapshot_url` is "+linkStoredDoc+"; to use a link "+
			"without storing it, request it with the ephemeral resource instead.", d.kind.clusterNoun),
		Attributes: d.clusterAttributes(ctx, attrs),
	}
}

func (d *restoreJobDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	ctx = d.data.logContext(ctx)
	client, cl := d.cluster(ctx, req.Config, &resp.Diagnostics)
	id := readString(ctx, req.Config, "job_id", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	rctx, cancel, timeout := d.readContext(ctx, req.Config, &resp.Diagnostics)
	defer cancel()
	j, err := client.GetRestoreJob(rctx, cl, id.ValueString())
	if err != nil {
		addReadError(rctx, &resp.Diagnostics, client, d.kind, "read restore job "+id.ValueString(), err, timeout)
		return
	}
	v := newRestoreJobValue(j)
	setStrings(ctx, &resp.State, &resp.Diagnostics, map[string]types.String{
		"snapshot_id": v.SnapshotID, "status": v.Status, "snapshot_url": v.SnapshotURL,
		"expiration_date": v.ExpirationDate, "delivery_type": v.DeliveryType,
		"restore_scheduled_date": v.RestoreScheduledDate, "restore_finished_date": v.RestoreFinishedDate,
		"snapshot_finished_date": v.SnapshotFinishedDate, "target_project_id": v.TargetProjectID,
		"target_deployment_item_name": v.TargetDeploymentItemName,
	})
}

// dataSourcesFor returns the four data sources of a family.
func dataSourcesFor(k downloadKind) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		func() datasource.DataSource {
			return &snapshotsDataSource{clusterDataSource{kind: k.as("snapshots"), suffix: "snapshots"}}
		},
		func() datasource.DataSource {
			return &snapshotDataSource{clusterDataSource{kind: k.as("snapshot"), suffix: "snapshot"}}
		},
		func() datasource.DataSource {
			return &restoreJobsDataSource{clusterDataSource{kind: k.as("restore_jobs"), suffix: "restore_jobs"}}
		},
		func() datasource.DataSource {
			return &restoreJobDataSource{clusterDataSource{kind: k.as("restore_job"), suffix: "restore_job"}}
		},
	}
}
