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

// linkLifetime is how long Atlas keeps a download link valid after the
// request.
const linkLifetime = 4 * time.Hour

// LinkExpiry is when the job's link stops working: its expirationDate, or
// four hours after Atlas scheduled the job where Atlas sent none. ok is
// false when the job has neither date.
func (j *RestoreJob) LinkExpiry() (at time.Time, ok bool) {
	if at, err := time.Parse(time.RFC3339, j.ExpirationDate); err == nil {
		return at, true
	}
	if at, err := time.Parse(time.RFC3339, j.RestoreScheduledDate); err == nil {
		return at.Add(linkLifetime), true
	}
	return time.Time{}, false
}

// LinkExpired reports whether the job's link has expired at now, a time
// on Atlas's clock (see Client.ServerNow). A job without either date has
// nothing to say that it has.
func (j *RestoreJob) LinkExpired(now time.Time) bool {
	at, ok := j.LinkExpiry()
	return ok && !now.Before(at)
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
