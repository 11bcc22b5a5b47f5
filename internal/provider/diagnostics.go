// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// addAtlasError turns a failed Atlas call into one diagnostic that names
// the operation, the HTTP status, Atlas's errorCode and detail, and what to
// do next. Errors about one argument are attached to that argument.
func addAtlasError(diags *diag.Diagnostics, kind downloadKind, op string, err error) {
	if addCredentialError(diags, op, err) {
		return // the service account's or access token's failure (credentials.go)
	}
	var ae *atlas.Error
	if !errors.As(err, &ae) {
		addOtherError(diags, op, err)
		return
	}
	summary, hint, attr := explain(ae, kind)
	detail := describe(op, ae)
	if hint != "" {
		detail += "\n\n" + hint
	}
	if attr != "" {
		diags.AddAttributeError(path.Root(attr), summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

// describe says in a sentence which call failed and what Atlas answered.
func describe(op string, ae *atlas.Error) string {
	detail := fmt.Sprintf("Could not %s: Atlas answered HTTP %d", op, ae.StatusCode)
	if ae.ErrorCode != "" {
		detail += " " + ae.ErrorCode
	}
	if ae.Detail != "" {
		detail += ": " + ae.Detail
	}
	return sentence(detail)
}

// addOtherError explains a failure that is not an Atlas error answer: no
// answer at all, or an answer the client could not accept.
func addOtherError(diags *diag.Diagnostics, op string, err error) {
	msg := strings.TrimPrefix(err.Error(), "atlas: ")
	var ns *atlas.NotSentError
	var na *atlas.NoAnswerError
	switch {
	case errors.As(err, &ns) && errors.Is(err, context.DeadlineExceeded):
		diags.AddError("Timed Out Before Contacting Atlas", fmt.Sprintf("Could not %s: the time allowed "+
			"ran out before the request was sent, so Atlas was asked nothing. Raise the timeout in the timeouts block.", op))
	case errors.As(err, &ns):
		diags.AddError("Interrupted Before Contacting Atlas", fmt.Sprintf("Could not %s: the operation was "+
			"interrupted before the request was sent, so Atlas was asked nothing.", op))
	case errors.As(err, &na):
		diags.AddError("Atlas Did Not Answer", fmt.Sprintf("Could not %s: the "+
			"server at base_url (%s) accepted the connection but sent no answer within %s, on every attempt. "+
			"Check base_url (or MONGODB_ATLAS_BASE_URL), any proxy in between (HTTPS_PROXY, NO_PROXY), and the "+
			"Atlas status page.", op, na.BaseURL, na.Waited))
	case atlas.PermanentCause(err) != nil:
		diags.AddAttributeError(path.Root("base_url"), "Cannot Reach Atlas",
			sentence(fmt.Sprintf("Could not %s: %s", op, permanentPhrase(atlas.PermanentCause(err))))+
				" Trying again would not help, so the provider did not retry. Check the provider's base_url (or "+
				"MONGODB_ATLAS_BASE_URL): it must be the Atlas address, such as "+atlas.DefaultBaseURL+", or that of a "+
				"proxy or simulator this machine trusts.")
	case atlas.Unreachable(err):
		diags.AddError("Cannot Reach Atlas", sentence(fmt.Sprintf("Could not %s: %s", op, msg))+
			" The provider retried with backoff until the time allowed ran out. Check the network, any proxy "+
			"(HTTPS_PROXY, NO_PROXY), and the provider's base_url.")
	default:
		diags.AddError("Unexpected Answer from Atlas", sentence(fmt.Sprintf("Could not %s: %s", op, msg))+
			" The server at base_url answered, but not as the Atlas Administration API does. Check that base_url "+
			"points at Atlas and not at a proxy's or another service's page.")
	}
}

// permanentPhrase says what a transport failure that cannot mend is.
func permanentPhrase(p *atlas.PermanentFailure) string {
	switch {
	case p.Kind == atlas.UntrustedCertificate:
		return "the server's TLS certificate is not trusted: " + p.Detail
	case p.Kind == atlas.UnknownHost:
		return "the host name does not resolve"
	case p.Detail != "":
		return fmt.Sprintf("the server redirected to another host (%s), which the provider does not follow", p.Detail)
	}
	return "the server answered with a redirect, which Atlas's API does not send, so the provider did not follow it"
}

// addReadError is addAtlasError for a read bounded by timeouts.read: when
// that time ran out, it says so, with how long it was and where.
func addReadError(ctx context.Context, diags *diag.Diagnostics, client *atlas.Client, kind downloadKind, op string, err error, timeout time.Duration) {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		addAtlasError(diags, kind, op, err)
		return
	}
	diags.AddError("Timed Out Reading from Atlas", fmt.Sprintf("Could not %s "+
		"within %s (timeouts.read): %s. Check that base_url (%s) reaches Atlas (a proxy, firewall or endpoint "+
		"that accepts connections and never answers looks like this), or raise timeouts.read.",
		op, timeout, plainError(err), client.BaseURL()))
}

// defaultReadTimeout bounds a refresh, an import or a data source read, so
// that an endpoint that never answers fails a plan in about two minutes.
const defaultReadTimeout = 2 * time.Minute

// sentence ends s with a period unless it already ends a sentence, so
// that Atlas details, which usually end with one, do not get two.
func sentence(s string) string {
	s = strings.TrimRight(s, " ")
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// otherFamily is what a message suggests when the cluster belongs to the
// other endpoint family: the same kind of object there, and its cluster
// argument, as in "atlas_flex_restore_jobs with name = the cluster's name".
func otherFamily(kind downloadKind) string {
	object := kind.object
	if object == "" {
		object = "snapshot_download"
	}
	if kind.family.Name == "tenant" {
		return "atlas_flex_" + object + " with name = the cluster's name"
	}
	return "atlas_tenant_" + object + " with cluster_name = the cluster's name"
}

// explain picks a summary, advice and, where one argument is at fault, its
// name, from Atlas's answer.
func explain(e *atlas.Error, kind downloadKind) (summary, hint, attr string) {
	tenant := kind.family.Name == "tenant"
	if tenant && atlas.IsRetired(e) {
		return "Atlas Tenant Backup Endpoints Retired", "Atlas retired the M2/M5 (tenant) backup endpoints on " +
			"2026-01-22 and moved those clusters to Flex. Use " + otherFamily(kind) + " instead.", ""
	}
	switch e.ErrorCode {
	case "GROUP_NOT_FOUND", "INVALID_GROUP_ID", "RESOURCE_NOT_FOUND":
		return "Atlas Project Not Found", "Check project_id, and that the API key belongs to that project's organization.", "project_id"
	case "CLUSTER_NOT_FOUND", "FLEX_CLUSTER_NOT_FOUND":
		hint := fmt.Sprintf("Check %s and project_id.", kind.clusterAttr)
		if tenant {
			hint += " M2/M5 clusters became Flex clusters on 2026-01-22: if this was one, use " + otherFamily(kind) + "."
		}
		return "Atlas Cluster Not Found", hint, kind.clusterAttr
	case "TENANT_SNAPSHOT_NOT_FOUND", "SNAPSHOT_NOT_FOUND", "INVALID_SNAPSHOT_ID":
		return "Atlas Snapshot Not Found", "Check snapshot_id: it must be a snapshot of this cluster. Snapshots expire, so an old id may be gone.", "snapshot_id"
	case "TENANT_RESTORE_NOT_FOUND", "FLEX_BACKUP_RESTORE_NOT_FOUND", "RESTORE_JOB_NOT_FOUND":
		return "Atlas Download Job Not Found", "Check the job id, and that the job belongs to this project and cluster. Atlas may also have removed the job.", ""
	case "CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT":
		return "Snapshot Not Ready for Download", "Atlas can only download a COMPLETED snapshot. A snapshot that is still " +
			"being taken can be downloaded once it finishes; a FAILED one never can, so choose another (the atlas_" +
			kind.family.Name + "_snapshots data source lists a cluster's snapshots with their status).", "snapshot_id"
	case "TOO_MANY_SNAPSHOT_DOWNLOADS", "CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY":
		return "Atlas Download Limit Reached", "Atlas limits how many downloads run at once. The provider waited for " +
			"running downloads to finish and asked again until the timeout ran out. Raise the create timeout, " +
			"lower -parallelism, or try again later.", ""
	case "ATLAS_NETWORK_PERMISSIONS_SIZE_EXCEEDED":
		return "Atlas Access List Too Large", "Atlas refuses downloads for projects whose IP access list is too large.", ""
	case "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API":
		return "Cluster Is a Flex Cluster", "This cluster is a Flex cluster: use " + otherFamily(kind) + " instead.", ""
	case "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API":
		return "Cluster Is Not a Flex Cluster", "This cluster is not a Flex cluster: use " + otherFamily(kind) + " instead.", ""
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		role := "the Project Owner role on the project (needed to request downloads; reading needs Project Read Only)"
		if !tenant {
			role = "the Project Owner or Project Backup Export Operator role on the project (needed to request " +
				"downloads of Flex snapshots; reading needs Project Read Only)"
		}
		return "Atlas Rejected the API Key", "Check the public and private key (provider arguments or MONGODB_ATLAS_* " +
			"environment variables) and that the key has " + role + ".", ""
	case http.StatusForbidden:
		return "Atlas Denied Access", "Check the API key's roles and its IP access list.", ""
	case http.StatusNotFound:
		return "Atlas Object Not Found", "The answer carries no Atlas error code that names what is missing, so it " +
			"may not come from Atlas at all: check the provider's base_url (and any proxy in between), then " +
			"project_id and " + kind.clusterAttr + ".", ""
	case http.StatusTooManyRequests:
		return "Atlas Rate Limit Reached", "The provider retried with backoff until the time allowed ran out. Lower -parallelism or try again later.", ""
	}
	if e.StatusCode >= 500 {
		return "Atlas Server Error", "Atlas failed; the provider retried where that was safe. Try again later.", ""
	}
	return "Atlas Request Failed", "", ""
}
