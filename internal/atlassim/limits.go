// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"fmt"
	"net/http"
	"time"
)

// Download limits (Faults.DownloadLimit, Faults.OneDownloadPerSnapshot).
//
// The reference lists TOO_MANY_SNAPSHOT_DOWNLOADS and
// CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY (both 400) for POST .../download
// without saying when Atlas answers them. Atlas's error-code table
// (https://www.mongodb.com/docs/atlas/reference/api-errors/) describes the
// first as the project being at its limit of active downloads and the second
// as the snapshot already having an active download. It gives no number for
// the limit, does not define "active", and does not say whether either
// applies to M2/M5 or Flex downloads. So the simulator chooses: the limit is
// per project and off unless set, and "active" means unfinished (PENDING,
// QUEUED or RUNNING on the simulator's clock); a COMPLETED job whose link
// still works does not count.

// unfinished reports whether the job is still under way at now.
func (j *jobState) unfinished(now time.Time) bool {
	switch status, _ := j.state(now); status {
	case StatusPending, StatusQueued, StatusRunning:
		return true
	}
	return false
}

// downloadRefusalLocked applies the download limits to a new request for
// snapshotID on cs at now. It returns nil when the request may create a job.
// The per-snapshot rule is checked first: it is the more specific reason.
func (s *Server) downloadRefusalLocked(projectID string, cs *clusterState, snapshotID string, now time.Time) (*apiError, faultKind) {
	limit, onePerSnapshot := s.faults.downloadPolicy()
	if limit <= 0 && !onePerSnapshot {
		return nil, noFault
	}
	if onePerSnapshot {
		for _, j := range cs.jobs {
			if j.deliveryType == deliveryDownload && j.snapshotID == snapshotID && j.unfinished(now) {
				status, _ := j.state(now)
				return newAPIError(http.StatusBadRequest, codeConcurrentDownload,
					fmt.Sprintf("Cannot download snapshot %s: download job %s of the same snapshot is still %s. Retry once it has finished.",
						snapshotID, j.id, status), snapshotID, j.id), faultConcurrentDownload
			}
		}
	}
	if limit > 0 {
		active := 0
		for _, c := range s.projects[projectID].clusters {
			for _, j := range c.jobs {
				if j.deliveryType == deliveryDownload && j.unfinished(now) {
					active++
				}
			}
		}
		if active >= limit {
			return newAPIError(http.StatusBadRequest, codeTooManyDownloads,
				fmt.Sprintf("Cannot download snapshot %s: project %s already has %d unfinished download jobs, its limit. Retry once one of them has finished.",
					snapshotID, projectID, active), projectID, limit), faultTooManyDownloads
		}
	}
	return nil, noFault
}
