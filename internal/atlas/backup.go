// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"time"
)

// Job statuses Atlas reports for restore jobs and snapshots.
const (
	StatusPending   = "PENDING"
	StatusQueued    = "QUEUED"
	StatusRunning   = "RUNNING"
	StatusFailed    = "FAILED"
	StatusCompleted = "COMPLETED"
)

// Link is an RFC 5988 link as Atlas sends it.
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// RestoreJob is a restore or download job (TenantRestore,
// FlexBackupRestoreJob20241113). Dates are kept as the RFC 3339 text Atlas
// sends.
type RestoreJob struct {
	ID                       string `json:"id"`
	ClusterName              string `json:"clusterName,omitempty"`
	InstanceName             string `json:"instanceName,omitempty"`
	ProjectID                string `json:"projectId,omitempty"`
	DeliveryType             string `json:"deliveryType,omitempty"`
	Status                   string `json:"status,omitempty"`
	SnapshotID               string `json:"snapshotId,omitempty"`
	SnapshotURL              string `json:"snapshotUrl,omitempty"`
	ExpirationDate           string `json:"expirationDate,omitempty"`
	RestoreScheduledDate     string `json:"restoreScheduledDate,omitempty"`
	RestoreFinishedDate      string `json:"restoreFinishedDate,omitempty"`
	SnapshotFinishedDate     string `json:"snapshotFinishedDate,omitempty"`
	TargetDeploymentItemName string `json:"targetDeploymentItemName,omitempty"`
	TargetProjectID          string `json:"targetProjectId,omitempty"`
	Links                    []Link `json:"links,omitempty"`
}

// Snapshot is a backup snapshot (BackupTenantSnapshot,
// FlexBackupSnapshot20241113).
type Snapshot struct {
	ID             string `json:"id"`
	Status         string `json:"status,omitempty"`
	MongoDBVersion string `json:"mongoDBVersion,omitempty"`
	ScheduledTime  string `json:"scheduledTime,omitempty"`
	StartTime      string `json:"startTime,omitempty"`
	FinishTime     string `json:"finishTime,omitempty"`
	Expiration     string `json:"expiration,omitempty"`
	Links          []Link `json:"links,omitempty"`
}

// Page is one page of a list answer.
type Page[T any] struct {
	Results    []T    `json:"results"`
	TotalCount *int   `json:"totalCount,omitempty"`
	Links      []Link `json:"links,omitempty"`
}

// HasNext reports whether Atlas linked a next page.
func (p *Page[T]) HasNext() bool {
	for _, l := range p.Links {
		if l.Rel == "next" {
			return true
		}
	}
	return false
}

// ListOptions selects a page. Zero values mean Atlas's defaults. The tenant
// lists take no paging parameters (the published description lists none for
// them) and answer every item on one page whatever these say.
type ListOptions struct {
	PageNum      int
	ItemsPerPage int
	IncludeCount *bool
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.PageNum > 0 {
		q.Set("pageNum", strconv.Itoa(o.PageNum))
	}
	if o.ItemsPerPage > 0 {
		q.Set("itemsPerPage", strconv.Itoa(o.ItemsPerPage))
	}
	if o.IncludeCount != nil {
		q.Set("includeCount", strconv.FormatBool(*o.IncludeCount))
	}
	return q
}

var hex24 = regexp.MustCompile(`^[a-f0-9]{24}$`)

// IsID reports whether s has the form of an Atlas id: 24 lowercase hex digits.
func IsID(s string) bool { return hex24.MatchString(s) }

// check rejects an answer that cannot be a restore job: a missing or
// malformed id, or a date that is not RFC 3339.
func (j *RestoreJob) check() error {
	if !IsID(j.ID) {
		return fmt.Errorf("restore job id %s is not 24 lowercase hex digits", Excerpt([]byte(j.ID)))
	}
	for name, v := range map[string]string{
		"expirationDate": j.ExpirationDate, "restoreScheduledDate": j.RestoreScheduledDate,
		"restoreFinishedDate": j.RestoreFinishedDate, "snapshotFinishedDate": j.SnapshotFinishedDate,
	} {
		if v == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return fmt.Errorf("%s %s is not an RFC 3339 date", name, Excerpt([]byte(v)))
		}
	}
	if j.ClusterName == "" {
		j.ClusterName = j.InstanceName
	}
	return nil
}

func (s *Snapshot) check() error {
	if !IsID(s.ID) {
		return fmt.Errorf("snapshot id %s is not 24 lowercase hex digits", Excerpt([]byte(s.ID)))
	}
	return nil
}

func invalidAnswer(method, path string, err error) error {
	return fmt.Errorf("atlas: %s %s: the answer is not a valid object: %w", method, path, err)
}

// RequestDownload asks Atlas for a download link to a snapshot. The answer
// is the new download job. The request is not idempotent: after an
// ambiguous failure the client looks for the job it may have created
// before sending it again, so one call never makes two jobs. When it cannot
// finish looking, the error is an *UnconfirmedDownloadError.
//
// When Atlas refuses because download limits are reached (IsDownloadLimit),
// it has done nothing, and the call waits and asks again until ctx ends,
// however many times that takes; then it returns Atlas's last refusal.
func (c *Client) RequestDownload(ctx context.Context, cl Cluster, snapshotID string) (*RestoreJob, error) {
	if err := cl.check(snapshotID); err != nil {
		return nil, err
	}
	path := cl.path("download")
	var job RestoreJob
	lk := c.downloads.lock(cl, snapshotID)
	call := &downloadCall{}
	defer c.downloads.settle(lk, call)
	req := request{
		method:    http.MethodPost,
		path:      path,
		body:      map[string]string{"snapshotId": snapshotID},
		mediaType: cl.Family.mediaType,
		guard: func() func(*response, *span) {
			lk.RLock()
			return func(resp *response, lost *span) {
				c.downloads.claimAnswer(resp)
				if lost != nil {
					c.downloads.addLost(lk, call, *lost)
				}
				lk.RUnlock()
			}
		},
		recover: func(ctx context.Context, failed span) (bool, error) {
			lk.Lock()
			defer lk.Unlock()
			own, others := c.downloads.lostOf(lk, call)
			found, err := c.findUnclaimedDownload(ctx, cl, snapshotID, own, others, failed)
			if err != nil || found == nil {
				// The lost attempts stay in the window of later searches:
				// a job can show in the list late.
				return false, err
			}
			c.downloads.settle(lk, call)
			job = *found
			return true, nil
		},
	}
	for wait := 1; ; wait++ {
		answer, err := fetch(ctx, c, req, decodeRestoreJob)
		if err == nil {
			if answer == nil { // lost, then found by recover
				return &job, nil
			}
			return answer, nil
		}
		var re *recoveryError
		if errors.As(err, &re) {
			own, _ := c.downloads.lostOf(lk, call)
			return nil, &UnconfirmedDownloadError{
				Cluster: cl, SnapshotID: snapshotID, Since: c.earliest(own),
				Err: re.err, RecoveryErr: re.recoveryErr,
			}
		}
		if !IsDownloadLimit(err) {
			return nil, err
		}
		if own, _ := c.downloads.lostOf(lk, call); len(own) > 0 {
			// After a lost answer, "one download of this snapshot at a
			// time" may be our own job at work, listed late: look again.
			found, rerr := req.recover(ctx, own[len(own)-1])
			if rerr != nil {
				return nil, &UnconfirmedDownloadError{
					Cluster: cl, SnapshotID: snapshotID, Since: c.earliest(own), Err: err, RecoveryErr: rerr,
				}
			}
			if found {
				return &job, nil
			}
		}
		// The limits clear as other downloads finish, which takes minutes:
		// wait on the retry policy's curve, without its attempt limit.
		delay := c.retry.delay(wait, retryAfter(err), c.jitter())
		if dl, ok := ctx.Deadline(); ok && c.now().Add(delay).After(dl) {
			return nil, err
		}
		var ae *Error
		errors.As(err, &ae)
		c.log(ctx, "waiting for atlas download limits", map[string]any{
			"method": req.method, "path": req.path, "attempt": wait,
			"error_code": ae.ErrorCode, "delay": delay.String(),
		})
		if c.sleep(ctx, delay) != nil {
			return nil, err
		}
	}
}

// earliest is the server time before which none of the attempts in lost
// can have been stamped by Atlas (the zero time for none).
func (c *Client) earliest(lost []span) time.Time {
	var at time.Time
	for _, sp := range lost {
		if from, _ := c.serverWindow(sp); at.IsZero() || from.Before(at) {
			at = from
		}
	}
	return at
}

// findUnclaimedDownload claims and returns the download job of the snapshot
// that the call's lost attempts (own) most likely made, if Atlas made one:
// an unclaimed job whose restoreScheduledDate lies in the window of one of
// them (see serverWindow: from just before the attempt was sent until just
// after it failed, on the server clock, widened for the whole seconds of
// Atlas's dates and the uncertainty of the clock skew). Of several, it
// prefers one that no other call's lost attempts (others) could own, then
// the one nearest the send time of the attempt that just failed. The caller
// holds the snapshot's ledger lock.
//
// This relies on restoreScheduledDate being the time Atlas received the
// request, to the second. The reference is silent; the simulator makes the
// same assumption; simulator_contract_test.go breaks if either side changes.
//
// The edge that remains: a download of the same snapshot that another
// client (another process, another Terraform run, the Atlas UI) requested
// inside one of these windows looks exactly like ours. If Atlas made no job
// for our attempt, the call adopts that one (the link is as good, but
// shared); if it made both, it may adopt theirs and leave ours unclaimed,
// to expire unused.
func (c *Client) findUnclaimedDownload(ctx context.Context, cl Cluster, snapshotID string, own []span, others [][]span, failed span) (*RestoreJob, error) {
	jobs, err := c.AllRestoreJobs(ctx, cl)
	if err != nil {
		return nil, err
	}
	lo, _, known := c.skew.get()
	if !known {
		lo = 0
	}
	near := failed.sent.Add(lo)
	var best *RestoreJob
	var bestRank candidateRank
	for i := range jobs {
		j := &jobs[i]
		if j.SnapshotID != snapshotID || (j.DeliveryType != "" && j.DeliveryType != "DOWNLOAD") || c.downloads.isClaimed(j.ID) {
			continue
		}
		at, err := time.Parse(time.RFC3339, j.RestoreScheduledDate)
		if err != nil || !c.inWindows(at, own) {
			continue
		}
		rank := candidateRank{dist: secondDistance(near, at), at: at, id: j.ID}
		for _, o := range others {
			if c.inWindows(at, o) {
				rank.shared++
			}
		}
		if best == nil || rank.before(bestRank) {
			best, bestRank = j, rank
		}
	}
	if best != nil {
		c.downloads.claim(best.ID)
	}
	return best, nil
}

// candidateRank orders the jobs a search may take: fewest other lost calls
// that could own it, then nearest the failed attempt, then oldest, then by
// id so that the choice does not depend on the list's order.
type candidateRank struct {
	shared int
	dist   time.Duration
	at     time.Time
	id     string
}

func (r candidateRank) before(o candidateRank) bool {
	switch {
	case r.shared != o.shared:
		return r.shared < o.shared
	case r.dist != o.dist:
		return r.dist < o.dist
	case !r.at.Equal(o.at):
		return r.at.Before(o.at)
	}
	return r.id < o.id
}

// inWindows reports whether a restoreScheduledDate lies in the window of
// any of the attempts.
func (c *Client) inWindows(at time.Time, attempts []span) bool {
	for _, sp := range attempts {
		if from, to := c.serverWindow(sp); !at.Before(from) && at.Before(to) {
			return true
		}
	}
	return false
}

// secondDistance is how far t lies from the second that starts at sec.
func secondDistance(t, sec time.Time) time.Duration {
	switch {
	case t.Before(sec):
		return sec.Sub(t)
	case t.Before(sec.Add(time.Second)):
		return 0
	}
	return t.Sub(sec.Add(time.Second))
}

// GetRestoreJob reads one restore or download job.
func (c *Client) GetRestoreJob(ctx context.Context, cl Cluster, jobID string) (*RestoreJob, error) {
	if err := cl.check(jobID); err != nil {
		return nil, err
	}
	path := cl.path(cl.Family.restores, jobID)
	return fetch(ctx, c, request{method: http.MethodGet, path: path, mediaType: cl.Family.mediaType, idempotent: true}, decodeRestoreJob)
}

// ListRestoreJobs reads one page of a cluster's restore and download jobs.
func (c *Client) ListRestoreJobs(ctx context.Context, cl Cluster, opts ListOptions) (*Page[RestoreJob], error) {
	if err := cl.check(); err != nil {
		return nil, err
	}
	path := cl.path(cl.Family.restores)
	return fetch(ctx, c, request{method: http.MethodGet, path: path, query: opts.query(), mediaType: cl.Family.mediaType, idempotent: true}, decodeRestoreJobPage)
}

// GetSnapshot reads one snapshot.
func (c *Client) GetSnapshot(ctx context.Context, cl Cluster, snapshotID string) (*Snapshot, error) {
	if err := cl.check(snapshotID); err != nil {
		return nil, err
	}
	path := cl.path("snapshots", snapshotID)
	return fetch(ctx, c, request{method: http.MethodGet, path: path, mediaType: cl.Family.mediaType, idempotent: true}, decodeSnapshot)
}

// ListSnapshots reads one page of a cluster's snapshots.
func (c *Client) ListSnapshots(ctx context.Context, cl Cluster, opts ListOptions) (*Page[Snapshot], error) {
	if err := cl.check(); err != nil {
		return nil, err
	}
	path := cl.path("snapshots")
	return fetch(ctx, c, request{method: http.MethodGet, path: path, query: opts.query(), mediaType: cl.Family.mediaType, idempotent: true}, decodeSnapshotPage)
}

// maxPages stops a server that always links a next page.
const maxPages = 1000

// AllRestoreJobs reads every page of a cluster's restore jobs.
func (c *Client) AllRestoreJobs(ctx context.Context, cl Cluster) ([]RestoreJob, error) {
	return all(ctx, func(ctx context.Context, o ListOptions) (*Page[RestoreJob], error) {
		return c.ListRestoreJobs(ctx, cl, o)
	})
}

// AllSnapshots reads every page of a cluster's snapshots.
func (c *Client) AllSnapshots(ctx context.Context, cl Cluster) ([]Snapshot, error) {
	return all(ctx, func(ctx context.Context, o ListOptions) (*Page[Snapshot], error) {
		return c.ListSnapshots(ctx, cl, o)
	})
}

// allPageSize is the page size all asks for, Atlas's largest.
const allPageSize = 500

// all reads a paged list page by page, and copes with an unpaged one: the
// tenant lists take no paging parameters (the published description gives
// them none) and answer every item at once whatever was asked. Such an
// answer ends the list when it holds more than a page, as many items as its
// totalCount, or (a server that ignores pageNum yet links a next page) the
// same first item as page 1.
func all[T any](ctx context.Context, list func(context.Context, ListOptions) (*Page[T], error)) ([]T, error) {
	var out []T
	for n := 1; n <= maxPages; n++ {
		page, err := list(ctx, ListOptions{PageNum: n, ItemsPerPage: allPageSize})
		if err != nil {
			return nil, err
		}
		if n > 1 && len(page.Results) > 0 && len(out) > 0 && reflect.DeepEqual(page.Results[0], out[0]) {
			return out, nil // page 1 again: the list is unpaged
		}
		out = append(out, page.Results...)
		switch {
		case !page.HasNext() || len(page.Results) == 0, len(page.Results) > allPageSize,
			page.TotalCount != nil && len(out) >= *page.TotalCount:
			return out, nil
		}
	}
	return nil, errors.New("atlas: the list did not end after 1000 pages")
}
