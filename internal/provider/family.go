// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

var (
	_ resource.ResourceWithConfigure                = (*downloadResource[tenantDownloadModel, *tenantDownloadModel])(nil)
	_ resource.ResourceWithImportState              = (*downloadResource[tenantDownloadModel, *tenantDownloadModel])(nil)
	_ resource.ResourceWithModifyPlan               = (*downloadResource[tenantDownloadModel, *tenantDownloadModel])(nil)
	_ resource.ResourceWithValidateConfig           = (*downloadResource[tenantDownloadModel, *tenantDownloadModel])(nil)
	_ ephemeral.EphemeralResourceWithValidateConfig = (*downloadEphemeral[tenantEphemeralModel, *tenantEphemeralModel])(nil)

	_ ephemeral.EphemeralResourceWithConfigure = (*downloadEphemeral[tenantEphemeralModel, *tenantEphemeralModel])(nil)
)

var tenantDownload = downloadKind{
	typeSuffix:  "tenant_snapshot_download",
	family:      atlas.TenantV1,
	clusterAttr: "cluster_name",
	clusterNoun: "M2/M5 (tenant) cluster",
	summary:     "a backup snapshot of an Atlas M2/M5 (tenant) cluster",
	description: "Requests a download link for a backup snapshot of an Atlas M2/M5 (tenant) cluster, waits " +
		"until Atlas has prepared it, and keeps the link and its expiry in the state.\n\n" +
		"Atlas keeps a link valid for four hours. A plan after that (or within `renew_before` of it) " +
		"replaces the resource to request a new one. Atlas has no call to delete or cancel a download " +
		"job, so destroying this resource only removes it from the state; the link expires by itself.\n\n" +
		"~> Atlas retired the tenant backup endpoints on 2026-01-22, when M2/M5 clusters became Flex " +
		"clusters; this resource serves clusters and Atlas installations that still answer them.",
}

func newTenantSnapshotDownloadResource() resource.Resource {
	return &downloadResource[tenantDownloadModel, *tenantDownloadModel]{kind: tenantDownload}
}

func newTenantSnapshotDownloadEphemeral() ephemeral.EphemeralResource {
	return &downloadEphemeral[tenantEphemeralModel, *tenantEphemeralModel]{kind: tenantDownload}
}

type tenantDownloadModel struct {
	ProjectID   types.String `tfsdk:"project_id"`
	ClusterName types.String `tfsdk:"cluster_name"`
	downloadJob
}

func (m *tenantDownloadModel) job() *downloadJob { return &m.downloadJob }

func (m *tenantDownloadModel) target() (string, string) {
	return m.ProjectID.ValueString(), m.ClusterName.ValueString()
}

func (m *tenantDownloadModel) setTarget(projectID, cluster string) {
	m.ProjectID, m.ClusterName = types.StringValue(projectID), types.StringValue(cluster)
}

type tenantEphemeralModel struct {
	ProjectID   types.String `tfsdk:"project_id"`
	ClusterName types.String `tfsdk:"cluster_name"`
	ephemeralDownload
}

func (m *tenantEphemeralModel) download() *ephemeralDownload { return &m.ephemeralDownload }

func (m *tenantEphemeralModel) target() (string, string) {
	return m.ProjectID.ValueString(), m.ClusterName.ValueString()
}
