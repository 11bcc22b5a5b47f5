// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"time"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
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
	_ datasource.DataSourceWithValidateConfig = (*snapshotDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*restoreJobsDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*restoreJobDataSource)(nil)
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

// setStrings writes top-level string attributes of a data source's state.
func setStrings(ctx context.Context, state *tfsdk.State, diags *diag.Diagnostics, values map[string]types.String) {
	for name, val := range values {
		diags.Append(state.SetAttribute(ctx, path.Root(name), val)...)
	}
}
