// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"net/http"
	"testing"
	"time"
)

// TestSnapshotFinishedDateBeforeTheJobFinishes: snapshotFinishedDate is
// when the snapshot was written, per the description, so a job that is
// still QUEUED or RUNNING (or FAILED) shows it already; restoreFinishedDate
// and snapshotUrl wait for COMPLETED.
func TestSnapshotFinishedDateBeforeTheJobFinishes(t *testing.T) {
	const seededJob = "6568a1b2c3d4e5f6000000e1"
	seed := DefaultSeed()
	seed.Projects[0].FlexClusters[0].RestoreJobs = []SeedRestoreJob{{
		ID: seededJob, SnapshotID: DefaultFlexOlderSnapshotID, Status: StatusRunning,
		RestoreScheduledDate: "2026-11-28T13:00:00Z",
	}}
	env := newSimEnv(t, Config{Seed: seed, QueuedFor: time.Minute, RunningFor: time.Minute})
	flex := env.client("Accept", mediaTypeFlex, "Content-Type", mediaTypeFlex)

	job := flex.getJSON(http.MethodPost, flexBase+"/download", downloadBody(DefaultFlexSnapshotID), http.StatusOK)
	seeded := flex.getJSON(http.MethodGet, flexBase+"/restoreJobs/"+seededJob, "", http.StatusOK)
	for _, tc := range []struct {
		name string
		job  map[string]any
		want string // the snapshot's finishTime
		st   string
	}{
		{"new job, QUEUED", job, "2026-11-28T10:03:00Z", StatusQueued},
		{"seeded job, RUNNING", seeded, "2026-11-27T10:03:00Z", StatusRunning},
	} {
		if tc.job["status"] != tc.st || tc.job["snapshotFinishedDate"] != tc.want {
			t.Errorf("%s: status %v, snapshotFinishedDate %v; want %s and %s", tc.name, tc.job["status"], tc.job["snapshotFinishedDate"], tc.st, tc.want)
		}
		for _, absent := range []string{"restoreFinishedDate", "snapshotUrl"} {
			if _, has := tc.job[absent]; has {
				t.Errorf("%s: %s present before COMPLETED", tc.name, absent)
			}
		}
	}
	hook, ok := env.sim.Job(DefaultProjectID, DefaultFlexClusterName, job["id"].(string))
	if !ok || hook.SnapshotFinishedDate.IsZero() || formatTime(hook.SnapshotFinishedDate) != "2026-11-28T10:03:00Z" {
		t.Errorf("Job() = %+v, %v; want the snapshot's finishTime", hook, ok)
	}
}
