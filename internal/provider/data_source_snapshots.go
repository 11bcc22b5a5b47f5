// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

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
