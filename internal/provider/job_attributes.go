// SPDX-License-Identifier: MPL-2.0

package provider

import (
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	ephschema "github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// jobAttrs are the attributes of a download (restore) job as Atlas
// reports it, shared by the resources, ephemeral resources and data
// sources.
type jobAttrs struct {
	ID                       types.String `tfsdk:"id"`
	Status                   types.String `tfsdk:"status"`
	SnapshotURL              types.String `tfsdk:"snapshot_url"`
	ExpirationDate           types.String `tfsdk:"expiration_date"`
	DeliveryType             types.String `tfsdk:"delivery_type"`
	RestoreScheduledDate     types.String `tfsdk:"restore_scheduled_date"`
	RestoreFinishedDate      types.String `tfsdk:"restore_finished_date"`
	SnapshotFinishedDate     types.String `tfsdk:"snapshot_finished_date"`
	TargetProjectID          types.String `tfsdk:"target_project_id"`
	TargetDeploymentItemName types.String `tfsdk:"target_deployment_item_name"`
}

// jobAttrDocs describes jobAttrs once for every kind of schema.
var jobAttrDocs = []struct {
	name, desc string
	sensitive  bool
}{
	{"id", "Id of the download job (Atlas restore job).", false},
	{"status", "Phase of the job: `PENDING`, `QUEUED`, `RUNNING`, `FAILED` or `COMPLETED`.", false},
	{"snapshot_url", "Address from which the compressed snapshot can be downloaded, valid for four hours after " +
		"the request. Anyone holding it can read the data, so it is sensitive.", true},
	{"expiration_date", "When `snapshot_url` stops working (RFC 3339, UTC).", false},
	{"delivery_type", "How Atlas delivers the snapshot: `DOWNLOAD` for a download link, `RESTORE` for a restore onto a cluster.", false},
	{"restore_scheduled_date", "When Atlas scheduled the job (RFC 3339, UTC).", false},
	{"restore_finished_date", "When Atlas finished the job (RFC 3339, UTC).", false},
	{"snapshot_finished_date", "When Atlas finished writing the snapshot (RFC 3339, UTC).", false},
	{"target_project_id", "Project id Atlas records as the job's target.", false},
	{"target_deployment_item_name", "Cluster name Atlas records as the job's target.", false},
}

// fill copies Atlas's answer into the attributes.
func (a *jobAttrs) fill(j *atlas.RestoreJob) {
	a.ID = types.StringValue(j.ID)
	a.Status = optionalString(j.Status)
	a.SnapshotURL = optionalString(j.SnapshotURL)
	a.ExpirationDate = optionalString(j.ExpirationDate)
	a.DeliveryType = optionalString(j.DeliveryType)
	a.RestoreScheduledDate = optionalString(j.RestoreScheduledDate)
	a.RestoreFinishedDate = optionalString(j.RestoreFinishedDate)
	a.SnapshotFinishedDate = optionalString(j.SnapshotFinishedDate)
	a.TargetProjectID = optionalString(j.TargetProjectID)
	a.TargetDeploymentItemName = optionalString(j.TargetDeploymentItemName)
}

// unknown marks every attribute but the id as known only after apply.
func (a *jobAttrs) unknown() {
	for _, v := range []*types.String{&a.Status, &a.SnapshotURL, &a.ExpirationDate, &a.DeliveryType,
		&a.RestoreScheduledDate, &a.RestoreFinishedDate, &a.SnapshotFinishedDate, &a.TargetProjectID,
		&a.TargetDeploymentItemName} {
		*v = types.StringUnknown()
	}
}

func optionalString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// resourceJobAttributes are jobAttrs as computed resource attributes that
// keep their value across plans until the job changes.
func resourceJobAttributes(into map[string]schema.Attribute) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	for _, d := range jobAttrDocs {
		into[d.name] = schema.StringAttribute{Computed: true, Sensitive: d.sensitive, MarkdownDescription: d.desc, PlanModifiers: keep}
	}
}

func ephemeralJobAttributes(into map[string]ephschema.Attribute) {
	for _, d := range jobAttrDocs {
		into[d.name] = ephschema.StringAttribute{Computed: true, Sensitive: d.sensitive, MarkdownDescription: d.desc}
	}
}

func dataSourceJobAttributes(into map[string]dsschema.Attribute) {
	for _, d := range jobAttrDocs {
		into[d.name] = dsschema.StringAttribute{Computed: true, Sensitive: d.sensitive, MarkdownDescription: d.desc}
	}
}

// jobOf is the part of a stored job that waiting and renewal look at.
func jobOf(m *jobAttrs) *atlas.RestoreJob {
	return &atlas.RestoreJob{ID: m.ID.ValueString(), Status: m.Status.ValueString(), SnapshotURL: m.SnapshotURL.ValueString(),
		ExpirationDate: m.ExpirationDate.ValueString(), RestoreScheduledDate: m.RestoreScheduledDate.ValueString()}
}
