// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

var (
	_ list.ListResourceWithConfigure = (*downloadList[tenantDownloadModel, *tenantDownloadModel])(nil)
	_ list.ListResourceWithConfigure = (*downloadList[flexDownloadModel, *flexDownloadModel])(nil)
)

// downloadList lists a cluster's download jobs as download resources.
type downloadList[M any, P interface {
	*M
	downloadModel
}] struct {
	kind downloadKind
	data *providerData
}

func (l *downloadList[M, P]) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + l.kind.typeSuffix
}

func (l *downloadList[M, P]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (l *downloadList[M, P]) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = listschema.Schema{
		MarkdownDescription: "Lists the download jobs of one " + l.kind.clusterNoun + ", so that `terraform query " +
			"-generate-config-out` can write `import` blocks for them. With `include_resource = true`, each " +
			"result holds the job as an import would store it, except that `snapshot_url` is null: `terraform " +
			"query` prints results in the clear, and a link is a bearer credential. Importing the job reads its " +
			"link from Atlas into the state, marked sensitive.",
		Attributes: map[string]listschema.Attribute{
			"project_id": listschema.StringAttribute{
				Required:            true,
				MarkdownDescription: projectIDDoc,
				Validators:          []validator.String{idValidator()},
			},
			l.kind.clusterAttr: listschema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the " + l.kind.clusterNoun + " whose download jobs to list.",
				Validators:          clusterNameValidators(),
			},
			"only_live_links": listschema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Whether to list only jobs whose link works now (`COMPLETED`, with a link that " +
					"has not expired by Atlas's clock). Defaults to `false`: every download job.",
			},
		},
	}
}

func (l *downloadList[M, P]) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	ctx = l.data.logContext(ctx)
	var project, cluster types.String
	var live types.Bool
	var diags diag.Diagnostics
	diags.Append(req.Config.GetAttribute(ctx, path.Root("project_id"), &project)...)
	diags.Append(req.Config.GetAttribute(ctx, path.Root(l.kind.clusterAttr), &cluster)...)
	diags.Append(req.Config.GetAttribute(ctx, path.Root("only_live_links"), &live)...)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	client, d := l.data.Client()
	if d.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(d)
		return
	}
	cl := atlas.Cluster{Family: l.kind.family, ProjectID: project.ValueString(), Name: cluster.ValueString()}
	jobs, err := client.AllRestoreJobs(ctx, cl)
	if err != nil {
		addAtlasError(&diags, l.kind, fmt.Sprintf("list the download jobs of %s %s in project %s", l.kind.clusterAttr, cl.Name, cl.ProjectID), err)
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	now := client.ServerNow()
	stream.Results = func(push func(list.ListResult) bool) {
		var sent int64
		for i := range jobs {
			j := &jobs[i]
			if j.DeliveryType != "" && j.DeliveryType != "DOWNLOAD" {
				continue
			}
			if live.ValueBool() && (j.Status != atlas.StatusCompleted || j.SnapshotURL == "" || j.LinkExpired(now)) {
				continue
			}
			if req.Limit > 0 && sent >= req.Limit {
				return
			}
			if !push(l.result(ctx, req, cl, j)) {
				return
			}
			sent++
		}
	}
}

// result is one job as a list result: its identity and, when asked for,
// the resource as an import of it would store it, without the link.
func (l *downloadList[M, P]) result(ctx context.Context, req list.ListRequest, cl atlas.Cluster, j *atlas.RestoreJob) list.ListResult {
	res := req.NewListResult(ctx)
	res.DisplayName = fmt.Sprintf("job %s of snapshot %s (%s)", j.ID, j.SnapshotID, j.Status)
	res.Diagnostics.Append(setIdentity(ctx, res.Identity, l.kind, cl.ProjectID, cl.Name, j.ID)...)
	if !req.IncludeResource {
		return res
	}
	var m M
	p := P(&m)
	p.setTarget(cl.ProjectID, cl.Name)
	p.job().imported(j)
	// terraform query prints resource objects in the clear, sensitive or
	// not; the import reads the link from Atlas itself.
	p.job().SnapshotURL = types.StringNull()
	res.Diagnostics.Append(res.Resource.Set(ctx, p)...)
	return res
}
