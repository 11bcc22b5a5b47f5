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
