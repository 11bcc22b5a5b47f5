package provider

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// addAtlasError turns a failed Atlas call into one diagnostic that names
// the operation, the HTTP status, Atlas's errorCode and detail, and what to
// do next. Errors about one argument are attached to that argument.
func addAtlasError(diags *diag.Diagnostics, kind downloadKind, op string, err error) {
	var ae *atlas.Error
	if !errors.As(err, &ae) {
		diags.AddError("Cannot Reach Atlas", fmt.Sprintf("Could not %s: %s.", op, err))
		return
	}
	summary, hint, attr := explain(ae, kind)
	detail := fmt.Sprintf("Could not %s: Atlas answered HTTP %d", op, ae.StatusCode)
	if ae.ErrorCode != "" {
		detail += " " + ae.ErrorCode
	}
	if ae.Detail != "" {
		detail += ": " + ae.Detail
	}
	detail += "."
	if hint != "" {
		detail += "\n\n" + hint
	}
	if attr != "" {
		diags.AddAttributeError(path.Root(attr), summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

// explain picks a summary, advice and, where one argument is at fault, its
// name, from Atlas's answer.
func explain(e *atlas.Error, kind downloadKind) (summary, hint, attr string) {
	if kind.family.Name == "tenant" && (e.StatusCode == http.StatusGone || e.ErrorCode == "VERSION_GONE" ||
		(e.StatusCode == http.StatusNotFound && strings.Contains(strings.ToLower(e.Detail), "sunset"))) {
		return "Atlas Tenant Backup Endpoints Retired", "Atlas retired the M2/M5 (tenant) backup endpoints on " +
			"2026-01-22 and moved those clusters to Flex. Use atlas_flex_snapshot_download (and the atlas_flex_* " +
			"data sources) with name = the cluster's name instead.", ""
	}
	switch e.ErrorCode {
	case "GROUP_NOT_FOUND", "INVALID_GROUP_ID", "RESOURCE_NOT_FOUND":
		return "Atlas Project Not Found", "Check project_id, and that the API key belongs to that project's organization.", "project_id"
	case "CLUSTER_NOT_FOUND", "FLEX_CLUSTER_NOT_FOUND":
		hint := fmt.Sprintf("Check %s and project_id.", kind.clusterAttr)
		if kind.family.Name == "tenant" {
			hint += " M2/M5 clusters became Flex clusters on 2026-01-22: if this was one, use atlas_flex_snapshot_download (and the atlas_flex_* data sources) with name = the cluster's name."
		}
		return "Atlas Cluster Not Found", hint, kind.clusterAttr
	case "TENANT_SNAPSHOT_NOT_FOUND", "SNAPSHOT_NOT_FOUND", "INVALID_SNAPSHOT_ID":
		return "Atlas Snapshot Not Found", "Check snapshot_id: it must be a snapshot of this cluster. Snapshots expire, so an old id may be gone.", "snapshot_id"
	case "TENANT_RESTORE_NOT_FOUND", "FLEX_BACKUP_RESTORE_NOT_FOUND", "RESTORE_JOB_NOT_FOUND":
		return "Atlas Download Job Not Found", "The job may have been removed by Atlas.", ""
	case "CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT":
		return "Snapshot Not Ready for Download", "Atlas can only download a COMPLETED snapshot. Wait for the snapshot to finish, then apply again.", "snapshot_id"
	case "TOO_MANY_SNAPSHOT_DOWNLOADS", "CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY":
		return "Atlas Download Limit Reached", "Atlas limits how many downloads run at once. Wait for running downloads to finish, or lower -parallelism.", ""
	case "ATLAS_NETWORK_PERMISSIONS_SIZE_EXCEEDED":
		return "Atlas Access List Too Large", "Atlas refuses downloads for projects whose IP access list is too large.", ""
	case "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API":
		return "Cluster Is a Flex Cluster", "This cluster is a Flex cluster: use the atlas_flex_snapshot_download resource instead.", ""
	case "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API":
		return "Cluster Is Not a Flex Cluster", "This cluster is not a Flex cluster: use the atlas_tenant_snapshot_download resource instead.", ""
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return "Atlas Rejected the API Key", "Check the public and private key (provider arguments or MONGODB_ATLAS_* environment variables) and that the key has the Project Owner role on the project (needed to request downloads; reading needs Project Read Only).", ""
	case http.StatusForbidden:
		return "Atlas Denied Access", "Check the API key's roles and its IP access list.", ""
	case http.StatusNotFound:
		return "Atlas Object Not Found", "", ""
	case http.StatusTooManyRequests:
		return "Atlas Rate Limit Reached", "The provider retried with backoff until the time allowed ran out. Lower -parallelism or try again later.", ""
	}
	if e.StatusCode >= 500 {
		return "Atlas Server Error", "Atlas failed; the provider retried where that was safe. Try again later.", ""
	}
	return "Atlas Request Failed", "", ""
}
