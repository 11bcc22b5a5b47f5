package provider

import (
	"context"
	"errors"
	"fmt"

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
