// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"time"
)

// Finished reports whether a job needs no more waiting: it FAILED, or it is
// COMPLETED, a download with its link (a COMPLETED download without a link
// is no download; a restore has none).
func (j *RestoreJob) Finished() bool {
	return j.Status == StatusFailed ||
		(j.Status == StatusCompleted && (j.SnapshotURL != "" || j.DeliveryType == deliveryRestore))
}

// WaitForJob polls the job until it is finished, the deadline (on the
// client's clock) passes, or ctx ends, and returns the last answer it saw
// with nil, context.DeadlineExceeded, ctx's error or the failed read's error.
//
// How often it polls depends on the job's age (see pollDelay), taken from
// its restoreScheduledDate on the server clock, so a job that is already
// old (imported, or read again on update) is not polled as if new.
func (c *Client) WaitForJob(ctx context.Context, cl Cluster, job *RestoreJob, deadline time.Time) (*RestoreJob, error) {
	return c.WatchJob(ctx, cl, job, deadline, nil)
}

// WatchJob is WaitForJob that calls changed, if set, with each answer whose
// status differs from the one before.
func (c *Client) WatchJob(ctx context.Context, cl Cluster, job *RestoreJob, deadline time.Time, changed func(*RestoreJob)) (*RestoreJob, error) {
	start := c.now()
	for attempt := 1; !job.Finished(); attempt++ {
		delay := pollDelay(c.jobAge(job, start), c.jitter())
		if left := deadline.Sub(c.now()); left <= 0 {
			return job, context.DeadlineExceeded
		} else if delay > left {
			delay = left
		}
		c.log(ctx, "waiting for job", map[string]any{
			"job_id": job.ID, "status": job.Status, "attempt": attempt, "delay": delay.String(),
		})
		if err := c.sleep(ctx, delay); err != nil {
			return job, err
		}
		release, err := c.awaitBudget(ctx, cl.ProjectID, deadline)
		if err != nil {
			return job, err
		}
		next, err := c.GetRestoreJob(ctx, cl, job.ID)
		release()
		if err != nil {
			if ctx.Err() != nil {
				return job, ctx.Err()
			}
			return job, err
		}
		if changed != nil && next.Status != job.Status {
			changed(next)
		}
		job = next
	}
	return job, nil
}

// jobAge is how long ago Atlas scheduled job, or else how long the wait has
// run. It errs young, never old, so the poll gap it yields stays within the
// target: the date is cut to the second and ServerNow errs early.
func (c *Client) jobAge(job *RestoreJob, waitStart time.Time) time.Duration {
	at, err := time.Parse(time.RFC3339, job.RestoreScheduledDate)
	if err != nil {
		return c.now().Sub(waitStart)
	}
	return max(0, c.ServerNow().Sub(at)-time.Second)
}

// The poll schedule. The target is that a job is seen finished within 10%
// of its run time or 5s, whichever is larger. A job that finishes just
// after a poll at age t is seen one gap later, so the gap after a poll at
// age t may be at most max(5s, t/10); polling exactly that often is the
// fewest polls that meet the target for every run time (each poll is as
// late as the target allows). Jitter only shortens a gap, so that parallel
// waits drift apart without breaking the target.
const (
	pollMinGap = 5 * time.Second
	pollShare  = 10 // a gap is at most 1/pollShare of the job's age
	// pollMaxGap caps the gap for old jobs (an imported one, a clock far
	// off): a job of 50 minutes or more is still looked at every 5 minutes.
	pollMaxGap = 5 * time.Minute
	pollJitter = 0.1 // the largest share by which jitter shortens a gap
)

// pollDelay is the wait before the next poll of a job of the given age
// (time since Atlas scheduled it, or since the wait began when that is
// unknown).
func pollDelay(age time.Duration, jitter float64) time.Duration {
	gap := min(max(pollMinGap, age/pollShare), pollMaxGap)
	return gap - time.Duration(float64(gap)*pollJitter*jitter)
}
