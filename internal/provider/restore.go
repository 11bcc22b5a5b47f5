// SPDX-License-Identifier: MPL-2.0

package provider

// The lifecycle of a restore, once for the resource and the action: check
// the target, request the job, explain what went wrong.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// flexRestore is how diagnostics and docs speak of a Flex restore's
// (source) cluster.
var flexRestore = func() downloadKind {
	k := flexDownload.as("snapshot_restore")
	k.clusterNoun = "source Flex cluster"
	return k
}()

// targetNamePattern is targetDeploymentItemName's pattern in the reference.
var targetNamePattern = regexp.MustCompile(`^[\p{L}\p{N}\-_.(),:&@+']{1,64}$`)

func targetNameValidator() validator.String {
	return checkValidator{desc: "must be 1 to 64 letters, digits and -_.(),:&@+'", check: func(s string) string {
		if targetNamePattern.MatchString(s) {
			return ""
		}
		return fmt.Sprintf("(%+q) is not a name Atlas accepts as a restore target: 1 to 64 letters, digits and -_.(),:&@+'", s)
	}}
}

// The arguments the restore resource and action share, as the docs tell
// them; the resource adds that changing one restores again.
const (
	restoreProjectDesc       = "Id of the Atlas project that holds the source cluster: 24 lowercase hexadecimal digits."
	restoreNameDesc          = "Name of the source Flex cluster, whose snapshot is restored."
	restoreTargetNameDesc    = "Name of the Flex cluster whose data the restore replaces."
	restoreTargetProjectDesc = "Id of the project that holds the target cluster. Defaults to `project_id`."
)

// sameClusterWarning warns, at plan time, of a restore onto its own
// source; targetProject is null where it defaults to project. Unknown
// values warn of nothing.
func sameClusterWarning(diags *diag.Diagnostics, project, name, targetProject, target types.String) {
	if targetProject.IsNull() {
		targetProject = project
	}
	for _, v := range []types.String{project, name, targetProject, target} {
		if v.IsUnknown() {
			return
		}
	}
	if project.Equal(targetProject) && name.Equal(target) {
		diags.AddAttributeWarning(path.Root("target_name"), "Restore Onto the Source Cluster",
			fmt.Sprintf("target_name names the source cluster %s itself: the restore replaces all of its data with "+
				"the snapshot's, and whatever was written since the snapshot is lost. If you meant another cluster, "+
				"change target_name (or target_project_id).", name.ValueString()))
	}
}

// requestRestore asks Atlas for the restore and returns the job, or nil
// with the reason in diags.
func requestRestore(ctx context.Context, client *atlas.Client, cl atlas.Cluster, r atlas.Restore, diags *diag.Diagnostics) *atlas.RestoreJob {
	job, err := client.RequestRestore(ctx, cl, r)
	if err == nil {
		return job
	}
	op := fmt.Sprintf("restore snapshot %s of %s onto %s in project %s", r.SnapshotID, cl.Name, r.TargetName, r.TargetProjectID)
	var ue *atlas.UnconfirmedJobError
	if errors.As(err, &ue) {
		addUnconfirmedRestore(diags, op, ue)
		return nil
	}
	var ae *atlas.Error
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound && r.TargetName != "" {
		// Atlas answers an unknown target as it answers an unknown source:
		// if the source's snapshot reads, the target is what is missing.
		if _, serr := client.GetSnapshot(ctx, cl, r.SnapshotID); serr == nil {
			diags.AddAttributeError(path.Root("target_name"), "Restore Target Not Found",
				describe(op, ae)+fmt.Sprintf("\n\nThe source snapshot exists, so Atlas found no Flex cluster %s in project %s. "+
					"Check target_name and target_project_id: the target must be an existing Flex cluster.", r.TargetName, r.TargetProjectID))
			return nil
		}
	}
	addRestoreError(diags, op, err)
	return nil
}

// addRestoreError is addAtlasError with what differs for restores: the
// role, and the refusals only a restore meets.
func addRestoreError(diags *diag.Diagnostics, op string, err error) {
	var ae *atlas.Error
	if !errors.As(err, &ae) {
		addAtlasError(diags, flexRestore, op, err)
		return
	}
	switch {
	case ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden:
		diags.AddError("Atlas Refused the Restore", describe(op, ae)+"\n\nRequesting a restore needs the Project "+
			"Owner or Project Backup Recovery Operator role on the target project (and reading the source's "+
			"snapshots on its project). Check the API key's roles and its IP access list.")
	case ae.ErrorCode == "CANNOT_RESTORE_INCOMPLETE_SNAPSHOT":
		diags.AddAttributeError(path.Root("snapshot_id"), "Snapshot Not Ready for Restore", describe(op, ae)+
			"\n\nAtlas restores only COMPLETED snapshots. The atlas_flex_snapshots data source lists the cluster's "+
			"snapshots, and its latest_completed_id names the newest COMPLETED one.")
	case ae.ErrorCode == "MISSING_ATTRIBUTE" || ae.ErrorCode == "INVALID_ATTRIBUTE":
		diags.AddError("Atlas Refused the Restore Request", describe(op, ae)+"\n\nCheck snapshot_id, target_name "+
			"and target_project_id. Flex clusters restore only onto Flex clusters.")
	default:
		addAtlasError(diags, flexRestore, op, err)
	}
}

// addUnconfirmedRestore says that Atlas may be restoring although the
// answer was lost, and how to find and keep the job.
func addUnconfirmedRestore(diags *diag.Diagnostics, op string, ue *atlas.UnconfirmedJobError) {
	cl := ue.Cluster
	which := fmt.Sprintf("A RESTORE job of snapshot %s onto %s scheduled at or after %s may exist.", ue.SnapshotID,
		ue.TargetName, ue.Since.UTC().Format(time.RFC3339))
	if len(ue.Candidates) > 0 {
		which = fmt.Sprintf("Atlas holds %d unclaimed RESTORE jobs of snapshot %s onto %s requested at that moment (%s): "+
			"another request from elsewhere made the others, and nothing tells them apart, so the provider took none.",
			len(ue.Candidates), ue.SnapshotID, ue.TargetName, strings.Join(ue.Candidates, ", "))
	}
	diags.AddError("Atlas May Be Restoring", fmt.Sprintf(
		"Could not %s: %s. Atlas may have started the restore although its answer was lost, and the provider could not "+
			"settle whether it did (%s).\n\n%s Before applying again, which would start another restore onto the same "+
			"cluster, look with the atlas_flex_restore_jobs data source (project_id = %q, name = %q, delivery_type = "+
			"\"RESTORE\") or in the Atlas UI, and keep the job with terraform import <resource address> %s/%s/<job id>.",
		op, plainError(ue.Err), unconfirmedReason(ue), which, cl.ProjectID, cl.Name, cl.ProjectID, cl.Name))
}

// addRestoreWaitError explains why a wait for a restore ended before it
// COMPLETED; kept says what became of the job. A timeout or interrupt is a
// warning where asWarning: the job is kept and the next apply waits again.
func addRestoreWaitError(diags *diag.Diagnostics, job *atlas.RestoreJob, err error, timeout time.Duration, kept string, asWarning bool) {
	add := diags.AddError
	if asWarning {
		add = diags.AddWarning
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		add("Restore Still Running", fmt.Sprintf("Atlas accepted restore job %s onto %s, but it was still %s when the "+
			"%s timeout ran out. %s Raise the timeout with a timeouts block if restores take longer.",
			job.ID, job.TargetDeploymentItemName, job.Status, timeout, kept))
	case errors.Is(err, context.Canceled):
		add("Waiting for the Restore Was Interrupted", fmt.Sprintf("Atlas accepted restore job %s onto %s (last seen %s), "+
			"and the wait for it was interrupted; the restore goes on in Atlas. %s", job.ID, job.TargetDeploymentItemName, job.Status, kept))
	case err != nil:
		addRestoreError(diags, "read restore job "+job.ID, err)
	case job.Status == atlas.StatusFailed:
		diags.AddError("Restore Failed", fmt.Sprintf("Atlas reports restore job %s of snapshot %s onto %s as FAILED: the "+
			"target's data may be incomplete. Check the target cluster and the snapshot in the Atlas UI. %s",
			job.ID, job.SnapshotID, job.TargetDeploymentItemName, kept))
	}
}
