// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

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
