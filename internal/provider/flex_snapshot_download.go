// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

var (
	_ resource.ResourceWithImportState         = (*downloadResource[flexDownloadModel, *flexDownloadModel])(nil)
	_ resource.ResourceWithModifyPlan          = (*downloadResource[flexDownloadModel, *flexDownloadModel])(nil)
	_ ephemeral.EphemeralResourceWithConfigure = (*downloadEphemeral[flexEphemeralModel, *flexEphemeralModel])(nil)
)

var flexDownload = downloadKind{
	typeSuffix:  "flex_snapshot_download",
	family:      atlas.Flex,
	clusterAttr: "name",
	clusterNoun: "Flex cluster",
	summary:     "a backup snapshot of an Atlas Flex cluster",
	description: "Requests a download link for a backup snapshot of an Atlas Flex cluster, waits until Atlas " +
		"has prepared it, and keeps the link and its expiry.\n\n" +
		"Atlas keeps a link valid for four hours. Flex clusters replaced M2/M5 clusters on 2026-01-22; " +
		"for clusters still served by the tenant endpoints use `atlas_tenant_snapshot_download`.",
}

func newFlexSnapshotDownloadResource() resource.Resource {
	return &downloadResource[flexDownloadModel, *flexDownloadModel]{kind: flexDownload}
}

func newFlexSnapshotDownloadEphemeral() ephemeral.EphemeralResource {
	return &downloadEphemeral[flexEphemeralModel, *flexEphemeralModel]{kind: flexDownload}
}

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

type flexEphemeralModel struct {
	ProjectID types.String `tfsdk:"project_id"`
	Name      types.String `tfsdk:"name"`
	ephemeralDownload
}

func (m *flexEphemeralModel) download() *ephemeralDownload { return &m.ephemeralDownload }

func (m *flexEphemeralModel) target() (string, string) {
	return m.ProjectID.ValueString(), m.Name.ValueString()
}
