// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"errors"
	"net/http"
)

// Restore is where a snapshot is restored to: a cluster of a project. The
// data on it is replaced.
type Restore struct {
	SnapshotID      string
	TargetName      string
	TargetProjectID string
}

// RequestRestore asks Atlas to restore a snapshot of cl onto a target
// cluster. The answer is the new RESTORE job, PENDING. Lost answers are
// recovered as RequestDownload's are (recovery.go): a listed RESTORE job
// of the same snapshot and target, in the window of a lost attempt, is
// taken rather than a second restore started.
//
// targetProjectId is sent always: the published schema makes it optional,
// but Atlas has refused a Flex restore without it (MISSING_ATTRIBUTE).
//
// Errors are RequestDownload's; a download limit does not apply to
// restores, so IsDownloadLimit never holds for them.
func (c *Client) RequestRestore(ctx context.Context, cl Cluster, r Restore) (*RestoreJob, error) {
	if err := cl.check(r.SnapshotID); err != nil {
		return nil, err
	}
	if r.TargetName == "" || r.TargetProjectID == "" {
		return nil, errors.New("atlas: a restore needs a target cluster and project")
	}
	return c.requestJob(ctx, cl, jobRequest{
		delivery: deliveryRestore, snapshotID: r.SnapshotID,
		targetName: r.TargetName, targetProject: r.TargetProjectID,
	}, request{
		method: http.MethodPost,
		path:   cl.path(cl.Family.restore),
		body: map[string]string{
			"snapshotId":               r.SnapshotID,
			"targetDeploymentItemName": r.TargetName,
			"targetProjectId":          r.TargetProjectID,
		},
		mediaType: cl.Family.mediaType,
	})
}
