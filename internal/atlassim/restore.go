// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"net/http"
	"time"
)

// Restores onto a cluster: POST .../restoreJobs (Flex) and .../restore
// (tenant, v1.0 and v2) create a RESTORE job that replaces the target's data
// with a snapshot of the path's cluster.
//
// What the reference gives, and the simulator follows: the body
// {snapshotId, targetDeploymentItemName, targetProjectId}; a 200 answer
// with the job PENDING, no links and an expirationDate six hours after
// restoreScheduledDate; PENDING, RUNNING, then COMPLETED in about a minute
// (Config.RestoreDuration); MISSING_ATTRIBUTE without targetProjectId,
// although the published schema makes it optional; Flex restores only onto
// Flex clusters (the simulator keeps no other replica sets).
//
// What the reference leaves open, and the simulator chose: the tenant
// endpoint answers as the Flex one does, onto tenant clusters; every
// missing attribute is MISSING_ATTRIBUTE; an unknown target project or
// cluster answers as on the path (404 GROUP_NOT_FOUND, CLUSTER_NOT_FOUND or
// FLEX_CLUSTER_NOT_FOUND), a target of the other kind as the wrong family
// (400); a snapshot that is not COMPLETED is a 409
// CANNOT_RESTORE_INCOMPLETE_SNAPSHOT; a cluster may be restored onto
// itself; no role is checked. Faults.FailJobRate and FailSnapshotIDs fail
// restores as they fail downloads.

// restoreExample is the body the error messages show.
const restoreExample = `{"snapshotId": "<24 hex digits>", "targetDeploymentItemName": "<cluster name>", "targetProjectId": "<24 hex digits>"}`

// requestRestore is POST .../restoreJobs or .../restore. As for downloads,
// an unknown project or cluster on the path wins over a bad body; then come
// the snapshot and the target.
func (f *family) requestRestore(c *call) {
	var target restoreTarget
	var snapshotID, targetName string
	data, bodyErr := c.readBody()
	if bodyErr == nil {
		snapshotID, targetName, target.projectID, bodyErr = parseRestoreBody(data)
	}
	var view jobView
	e := f.withCluster(c, func(cs *clusterState) *apiError {
		if bodyErr != nil {
			return bodyErr
		}
		snap, e := f.completedSnapshot(cs, snapshotID, codeIncompleteRestore, "restore")
		if e != nil {
			return e
		}
		if target.cluster, e = c.s.clusterLocked(target.projectID, targetName, f); e != nil {
			return e
		}
		j, err := c.s.newJobLocked(c.params["groupId"], cs, snap, c.now, "", &target)
		if err != nil {
			return newAPIError(http.StatusInternalServerError, codeUnexpectedError, "Unexpected error.")
		}
		view = f.jobView(c, j)
		return nil
	})
	if e != nil {
		c.fail(e)
		return
	}
	// Atlas answers before the restore starts, whatever its duration.
	view.Status, view.RestoreFinishedDate, view.Links = StatusPending, "", nil
	c.writeObject(view)
}

// parseRestoreBody reads the three attributes a restore needs; read-only
// fields of the schema are ignored.
func parseRestoreBody(data []byte) (snapshotID, targetName, targetProjectID string, e *apiError) {
	obj, e := bodyObject(data, restoreExample)
	if e == nil {
		snapshotID, e = stringAttr(obj, "snapshotId", hexIDPattern, "24 lowercase hex digits", codeMissingAttribute)
	}
	if e == nil {
		// The published pattern of targetDeploymentItemName is that of
		// project names.
		targetName, e = stringAttr(obj, "targetDeploymentItemName", projectNamePattern,
			"1 to 64 letters, digits and -_.(),:&@+'", codeMissingAttribute)
	}
	if e == nil {
		targetProjectID, e = stringAttr(obj, "targetProjectId", hexIDPattern, "24 lowercase hex digits", codeMissingAttribute)
	}
	return snapshotID, targetName, targetProjectID, e
}

// restoredFromView is a simulator extension of the cluster reads, not an
// Atlas field: the newest restore onto the cluster that has COMPLETED, so
// that a test can see a restore reach its target. Clients of real Atlas
// must not rely on it.
type restoredFromView struct {
	RestoreJobID        string `json:"restoreJobId"`
	SnapshotID          string `json:"snapshotId"`
	SourceProjectID     string `json:"sourceProjectId"`
	SourceClusterName   string `json:"sourceClusterName"`
	RestoreFinishedDate string `json:"restoreFinishedDate"`
}

// restoredFrom is the restoredFromView of cs at now, or nil; the state must
// be locked.
func (cs *clusterState) restoredFrom(now time.Time) *restoredFromView {
	for i := len(cs.restores) - 1; i >= 0; i-- {
		j := cs.restores[i]
		if status, finished := j.state(now); status == StatusCompleted {
			return &restoredFromView{
				RestoreJobID: j.id, SnapshotID: j.snapshotID, SourceProjectID: j.projectID,
				SourceClusterName: j.clusterName, RestoreFinishedDate: formatTime(finished),
			}
		}
	}
	return nil
}
