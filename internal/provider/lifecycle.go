// SPDX-License-Identifier: MPL-2.0

package provider

// The lifecycle of a download, once for every kind that makes one (the
// resources, the ephemeral resources and the archive action): bound the
// operation, request the job, wait for its link, and explain what went
// wrong in each step. When a link expires is atlas.RestoreJob.LinkExpiry.

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

// defaultCreateTimeout bounds the wait for a download link when the
// configuration sets no timeouts block.
const defaultCreateTimeout = 30 * time.Minute

// bound limits an operation to timeout on both clocks at once: ctx ends
// then on the wall clock, which ends HTTP exchanges, and deadline is the
// same moment on the client's clock, with which its waits compare it (a
// test's clock is not the wall clock).
func bound(ctx context.Context, client *atlas.Client, timeout time.Duration) (context.Context, context.CancelFunc, time.Time) {
	deadline := client.Now().Add(timeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return ctx, cancel, deadline
}

// requestDownload asks Atlas for a download of snapshotID and returns the
// job, or nil with the reason in diags. Every kind that makes a download
// shares it, so a refusal reads the same everywhere.
func requestDownload(ctx context.Context, client *atlas.Client, kind downloadKind, cl atlas.Cluster, snapshotID string, diags *diag.Diagnostics) *atlas.RestoreJob {
	job, err := client.RequestDownload(ctx, cl, snapshotID)
	if err == nil {
		return job
	}
	op := "request a download of snapshot " + snapshotID
	var ue *atlas.UnconfirmedJobError
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
func addUnconfirmed(diags *diag.Diagnostics, kind downloadKind, op string, ue *atlas.UnconfirmedJobError) {
	cl := ue.Cluster
	importHint := fmt.Sprintf("import it with terraform import <resource address> %s/%s/<job id>", cl.ProjectID, cl.Name)
	var which string
	reason := unconfirmedReason(ue)
	if len(ue.Candidates) > 0 {
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

// unconfirmedReason says in a phrase why the search for a lost request's
// job did not settle it; downloads and restores word it alike.
func unconfirmedReason(ue *atlas.UnconfirmedJobError) string {
	switch {
	case len(ue.Candidates) > 0:
		return "more than one job could be it"
	case errors.Is(ue.RecoveryErr, atlas.ErrNotListed):
		return "no job of the request was listed yet when the time allowed ran out or the run was interrupted"
	case errors.Is(ue.RecoveryErr, context.DeadlineExceeded):
		return "the time allowed ran out while the provider looked"
	case errors.Is(ue.RecoveryErr, context.Canceled):
		return "the run was interrupted while the provider looked"
	}
	return plainError(ue.RecoveryErr)
}

// waitForLink waits until job has its link or has failed, or deadline
// passes, and returns the last answer seen. A job left without a link is
// explained in diags, kept saying what becomes of it and onTimeout what to
// do when the time ran out; timeout is the operation's, for the message.
// before, if set, runs once before a wait
// starts (the resource stores the job, the action reports progress); when
// it returns false there is no wait, and waitForLink returns nil.
func waitForLink(ctx context.Context, client *atlas.Client, kind downloadKind, cl atlas.Cluster, job *atlas.RestoreJob,
	deadline time.Time, timeout time.Duration, kept, onTimeout string, diags *diag.Diagnostics, before func(*atlas.RestoreJob) bool) *atlas.RestoreJob {
	var err error
	if !job.Finished() {
		if before != nil && !before(job) {
			return nil
		}
		job, err = client.WaitForJob(ctx, cl, job, deadline)
	}
	addWaitError(diags, kind, job, err, timeout, kept, onTimeout)
	return job
}

// skipWaitAdvice is what to do about a wait that ran out of time, where
// the configuration can choose not to wait.
const skipWaitAdvice = "Raise the timeout with a timeouts block, or set wait_for_completion = false to take the job " +
	"as soon as Atlas accepts it."

// addWaitError explains why waiting for a job ended without a link, if it
// did; kept says what became of the job, onTimeout what to do about a wait
// that ran out of time.
func addWaitError(diags *diag.Diagnostics, kind downloadKind, job *atlas.RestoreJob, err error, timeout time.Duration, kept, onTimeout string) {
	switch {
	case errors.Is(err, context.DeadlineExceeded) && job.Status == atlas.StatusCompleted && job.SnapshotURL == "":
		// Atlas said COMPLETED without a link: waiting treated the job as
		// unfinished, since a download without a link is no download.
		diags.AddError("Atlas Gave No Download Link",
			fmt.Sprintf("Atlas reports download job %s as COMPLETED, but its answer has no snapshotUrl, and none "+
				"came before the %s timeout ran out. %s If this repeats, the job is broken on the Atlas side: "+
				"request a new download (terraform apply -replace) or contact MongoDB support.", job.ID, timeout, kept))
	case errors.Is(err, context.DeadlineExceeded):
		diags.AddError("Timed Out Waiting for the Download Link",
			fmt.Sprintf("Atlas accepted download job %s, but it was still %s when the %s timeout ran out. %s %s",
				job.ID, job.Status, timeout, kept, onTimeout))
	case errors.Is(err, context.Canceled):
		diags.AddError("Waiting for the Download Link Was Interrupted",
			fmt.Sprintf("Atlas accepted download job %s (last seen %s), and the wait for its link was "+
				"interrupted. %s", job.ID, job.Status, kept))
	case err != nil:
		addAtlasError(diags, kind, "read download job "+job.ID, err)
	case job.Status == atlas.StatusFailed:
		diags.AddError("Download Job Failed",
			fmt.Sprintf("Atlas reports download job %s for snapshot %s as FAILED. %s Check the snapshot in "+
				"the Atlas UI if it fails again.", job.ID, job.SnapshotID, kept))
	}
}

// plainError is an error's text without the client's package prefix.
func plainError(err error) string {
	if err == nil {
		return "no error"
	}
	return strings.TrimSuffix(strings.TrimPrefix(err.Error(), "atlas: "), ".")
}
