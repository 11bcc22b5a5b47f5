// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"

	ephtimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/ephemeral/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

var (
	_ ephemeral.EphemeralResourceWithConfigure      = (*downloadEphemeral[tenantEphemeralModel, *tenantEphemeralModel])(nil)
	_ ephemeral.EphemeralResourceWithValidateConfig = (*downloadEphemeral[tenantEphemeralModel, *tenantEphemeralModel])(nil)
)

func newTenantSnapshotDownloadEphemeral() ephemeral.EphemeralResource {
	return &downloadEphemeral[tenantEphemeralModel, *tenantEphemeralModel]{kind: tenantDownload}
}

func newFlexSnapshotDownloadEphemeral() ephemeral.EphemeralResource {
	return &downloadEphemeral[flexEphemeralModel, *flexEphemeralModel]{kind: flexDownload}
}

// tenantEphemeralModel is the ephemeral atlas_tenant_snapshot_download.
type tenantEphemeralModel struct {
	ProjectID   types.String `tfsdk:"project_id"`
	ClusterName types.String `tfsdk:"cluster_name"`
	ephemeralDownload
}

func (m *tenantEphemeralModel) download() *ephemeralDownload { return &m.ephemeralDownload }

func (m *tenantEphemeralModel) target() (string, string) {
	return m.ProjectID.ValueString(), m.ClusterName.ValueString()
}

// flexEphemeralModel is the ephemeral atlas_flex_snapshot_download.
type flexEphemeralModel struct {
	ProjectID types.String `tfsdk:"project_id"`
	Name      types.String `tfsdk:"name"`
	ephemeralDownload
}

func (m *flexEphemeralModel) download() *ephemeralDownload { return &m.ephemeralDownload }

func (m *flexEphemeralModel) target() (string, string) {
	return m.ProjectID.ValueString(), m.Name.ValueString()
}

// ephemeralDownload is what every ephemeral download shares: the snapshot,
// how to wait, and the job Atlas made.
type ephemeralDownload struct {
	SnapshotID        types.String      `tfsdk:"snapshot_id"`
	WaitForCompletion types.Bool        `tfsdk:"wait_for_completion"`
	Timeouts          ephtimeouts.Value `tfsdk:"timeouts"`
	jobAttrs
}

type ephemeralModel interface {
	download() *ephemeralDownload
	target() (projectID, cluster string)
}

// downloadEphemeral requests a link while Terraform plans or applies and
// hands it to ephemeral contexts only: it is never written to a plan or a
// state. Atlas cannot renew or revoke a link, so there is no Renew or Close
// work to do.
type downloadEphemeral[M any, P interface {
	*M
	ephemeralModel
}] struct {
	kind downloadKind
	data *providerData
}

func (e *downloadEphemeral[M, P]) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + e.kind.typeSuffix
}

func (e *downloadEphemeral[M, P]) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig refuses a timeout that would end Open before it starts.
func (e *downloadEphemeral[M, P]) ValidateConfig(ctx context.Context, req ephemeral.ValidateConfigRequest, resp *ephemeral.ValidateConfigResponse) {
	checkTimeouts(ctx, req.Config, &resp.Diagnostics)
}

func (e *downloadEphemeral[M, P]) Schema(ctx context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"project_id": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: projectIDDoc,
			Validators:          []validator.String{idValidator()},
		},
		e.kind.clusterAttr: schema.StringAttribute{
			Required:            true,
			MarkdownDescription: clusterDoc(e.kind),
			Validators:          clusterNameValidators(),
		},
		"snapshot_id": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: snapshotIDDoc,
			Validators:          []validator.String{idValidator()},
		},
		"wait_for_completion": schema.BoolAttribute{
			Optional: true,
			MarkdownDescription: "Whether to wait until Atlas has prepared the link (`status` `COMPLETED`). " +
				"Defaults to `true`; when `false`, `snapshot_url` may be empty.",
		},
	}
	ephemeralJobAttributes(attrs)
	resp.Schema = schema.Schema{
		MarkdownDescription: "Requests a download link for " + e.kind.summary + " and waits until Atlas has " +
			"prepared it. As an ephemeral resource (Terraform 1.10 and later), it " +
			"passes the link only to ephemeral contexts " +
			"(provider configuration, write-only arguments, ephemeral outputs): the link is never stored in " +
			"a plan or state file. Terraform opens it in every plan and every apply, and each opening " +
			"requests a new download job (Atlas keeps them; they expire by themselves).",
		Attributes: attrs,
		Blocks:     map[string]schema.Block{"timeouts": ephtimeouts.Block(ctx)},
	}
}

func (e *downloadEphemeral[M, P]) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	ctx = e.data.logContext(ctx)
	var m M
	p := P(&m)
	resp.Diagnostics.Append(req.Config.Get(ctx, p)...)
	if resp.Diagnostics.HasError() {
		return
	}
	client, diags := e.data.Client()
	resp.Diagnostics.Append(diags...)
	d := p.download()
	timeout, diags := d.Timeouts.Open(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, deadline := bound(ctx, client, timeout)
	defer cancel()

	project, name := p.target()
	cl := atlas.Cluster{Family: e.kind.family, ProjectID: project, Name: name}
	job := requestDownload(ctx, client, e.kind, cl, d.SnapshotID.ValueString(), &resp.Diagnostics)
	if job == nil {
		return
	}
	if d.WaitForCompletion.IsNull() || d.WaitForCompletion.ValueBool() {
		job = waitForLink(ctx, client, e.kind, cl, job, deadline, timeout, "Atlas keeps the job; nothing was stored.", skipWaitAdvice, &resp.Diagnostics, nil)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	d.fill(job)
	resp.Diagnostics.Append(resp.Result.Set(ctx, p)...)
}
