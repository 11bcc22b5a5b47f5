// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// requestDownload asks Atlas for a download of snapshotID and returns the
// job, or nil with the reason in diags. The resources and the ephemeral
// resources share it, so a refusal reads the same everywhere.
func requestDownload(ctx context.Context, client *atlas.Client, kind downloadKind, cl atlas.Cluster, snapshotID string, diags *diag.Diagnostics) *atlas.RestoreJob {
	job, err := client.RequestDownload(ctx, cl, snapshotID)
	if err == nil {
		return job
	}
	op := "request a download of snapshot " + snapshotID
	var ue *atlas.UnconfirmedDownloadError
	if errors.As(err, &ue) {
		addUnconfirmed(diags, kind, op, ue)
		return nil
	}
	if atlas.HasErrorCode(err, "CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT") {
		// Atlas says the same for a snapshot still being taken and for one
		// that failed; which one it is decides what the user should do.
		var ae *atlas.Error
		if snap, serr := client.GetSnapshot(ctx, cl, snapshotID); serr == nil && snap.Status != "" && errors.As(err, &ae) {
			addSnapshotNotReady(diags, kind, describe(op, ae), snap.Status)
			return nil
		}
	}
	addAtlasError(diags, kind, op, err)
	return nil
}

// addSnapshotNotReady explains a refused download by the snapshot's status.
func addSnapshotNotReady(diags *diag.Diagnostics, kind downloadKind, what, status string) {
	var advice string
	switch status {
	case atlas.StatusFailed:
		advice = "The snapshot is FAILED, so Atlas will never download it. Choose another snapshot: the atlas_" +
			kind.family.Name + "_snapshots data source lists the cluster's snapshots, and its latest_completed_id " +
			"names the newest COMPLETED one."
	default:
		advice = fmt.Sprintf("The snapshot is %s: Atlas is still taking it. Apply again once it is COMPLETED.", status)
	}
	diags.AddAttributeError(path.Root("snapshot_id"), "Snapshot Not Ready for Download",
		what+"\n\n"+advice)
}

// addUnconfirmed says that Atlas may hold a job nobody knows of, and how to
// find and keep it: the one case where the provider cannot promise that no
// job is lost.
func addUnconfirmed(diags *diag.Diagnostics, kind downloadKind, op string, ue *atlas.UnconfirmedDownloadError) {
	cl := ue.Cluster
	importHint := fmt.Sprintf("import it with terraform import <resource address> %s/%s/<job id>", cl.ProjectID, cl.Name)
	var which string
	reason := plainError(ue.RecoveryErr)
	switch {
	case errors.Is(ue.RecoveryErr, atlas.ErrNotListed):
		reason = "no job of the request was listed yet when the time allowed ran out or the run was interrupted"
	case errors.Is(ue.RecoveryErr, context.DeadlineExceeded):
		reason = "the time allowed ran out while the provider looked"
	case errors.Is(ue.RecoveryErr, context.Canceled):
		reason = "the run was interrupted while the provider looked"
	}
	if len(ue.Candidates) > 0 {
		reason = "more than one job could be it"
		which = fmt.Sprintf("Atlas holds %d download jobs of snapshot %s that no request on this machine has "+
			"claimed, requested at the same moment: %s. One of them may be this request's; another request for the "+
			"same snapshot from elsewhere (another machine, the Atlas UI or CLI) made the others, and nothing in "+
			"Atlas's answers tells them apart, so the provider took none rather than risk sharing a job. To keep "+
			"one, %s. ", len(ue.Candidates), ue.SnapshotID, strings.Join(ue.Candidates, ", "), importHint)
	} else {
		which = fmt.Sprintf("A download job for snapshot %s scheduled at or after %s may exist in Atlas. To keep "+
			"it, find its id with the atlas_%s_restore_jobs data source (project_id = %q, %s = %q, delivery_type = "+
			"\"DOWNLOAD\") or in the Atlas UI, and %s. ", ue.SnapshotID, ue.Since.UTC().Format(time.RFC3339),
			kind.family.Name, cl.ProjectID, kind.clusterAttr, cl.Name, importHint)
	}
	diags.AddError("Atlas May Have Created a Download Job", fmt.Sprintf(
		"Could not %s: %s. Atlas may have acted on the request although its answer was lost, and the provider "+
			"could not settle whether it did (%s).\n\n%sOtherwise the next apply requests another download; Atlas "+
			"has no call to delete the extra job, and its link expires by itself four hours after the request.",
		op, plainError(ue.Err), reason, which))
}

// plainError is an error's text without the client's package prefix.
func plainError(err error) string {
	if err == nil {
		return "no error"
	}
	return strings.TrimSuffix(strings.TrimPrefix(err.Error(), "atlas: "), ".")
}
