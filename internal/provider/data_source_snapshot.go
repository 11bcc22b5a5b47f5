// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

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
