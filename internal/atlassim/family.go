package atlassim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// family describes one endpoint family over the shared snapshot and job
// lifecycle: where its paths live and how its objects name things. The v1.0
// tenant family is the only one served now; a v2 tenant family differs in
// prefix and media type, and a Flex family also in clusterField
// ("instanceName"), restoresSegment ("restoreJobs") and error codes.
type family struct {
	// prefix is the route template of a cluster's backup resource; it
	// contains {groupId} and {clusterName}.
	prefix string
	// mediaType is the Content-Type of successful answers.
	mediaType string
	// clusterField is the JSON field that names the source cluster of a job.
	clusterField string
	// restoresSegment is the path segment of the restore job collection.
	restoresSegment string

	snapshotNotFound string
	restoreNotFound  string
}

var tenantV1 = &family{
	prefix:           "/api/atlas/v1.0/groups/{groupId}/clusters/{clusterName}/backup/tenant",
	mediaType:        "application/json",
	clusterField:     "clusterName",
	restoresSegment:  "restores",
	snapshotNotFound: codeTenantSnapshotNotFound,
	restoreNotFound:  codeTenantRestoreNotFound,
}

func (f *family) routes() []route {
	return []route{
		newRoute(http.MethodPost, f.prefix+"/download", true, f.requestDownload),
		newRoute(http.MethodGet, f.prefix+"/snapshots", true, f.listSnapshots),
		newRoute(http.MethodGet, f.prefix+"/snapshots/{snapshotId}", true, f.getSnapshot),
		newRoute(http.MethodGet, f.prefix+"/"+f.restoresSegment, true, f.listJobs),
		newRoute(http.MethodGet, f.prefix+"/"+f.restoresSegment+"/{restoreId}", true, f.getJob),
	}
}

// clusterHref is the absolute URL of the cluster's backup resource.
func (f *family) clusterHref(c *call, groupID, clusterName string) string {
	return c.origin() + strings.NewReplacer(
		"{groupId}", url.PathEscape(groupID),
		"{clusterName}", url.PathEscape(clusterName),
	).Replace(f.prefix)
}

// withCluster runs fn on the request's cluster with the state locked.
func (f *family) withCluster(c *call, fn func(*clusterState) *apiError) *apiError {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	cs, e := c.s.clusterLocked(c.params["groupId"], c.params["clusterName"])
	if e != nil {
		return e
	}
	return fn(cs)
}

type snapshotView struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	MongoDBVersion string `json:"mongoDBVersion,omitempty"`
	ScheduledTime  string `json:"scheduledTime,omitempty"`
	StartTime      string `json:"startTime,omitempty"`
	FinishTime     string `json:"finishTime,omitempty"`
	Expiration     string `json:"expiration,omitempty"`
	Links          []link `json:"links"`
}

func (f *family) snapshotView(c *call, s *snapshotState) snapshotView {
	return snapshotView{
		ID:             s.id,
		Status:         s.status,
		MongoDBVersion: s.mongoDBVersion,
		ScheduledTime:  formatTime(s.scheduled),
		StartTime:      formatTime(s.started),
		FinishTime:     formatTime(s.finished),
		Expiration:     formatTime(s.expiration),
		Links:          selfLinks(f.clusterHref(c, c.params["groupId"], c.params["clusterName"]) + "/snapshots/" + s.id),
	}
}

// jobView is a TenantRestore (or, with instanceName, a Flex restore job).
// Fields without a value are left out.
type jobView struct {
	ID                       string `json:"id"`
	ClusterName              string `json:"clusterName,omitempty"`
	InstanceName             string `json:"instanceName,omitempty"`
	ProjectID                string `json:"projectId"`
	DeliveryType             string `json:"deliveryType"`
	Status                   string `json:"status"`
	SnapshotID               string `json:"snapshotId"`
	SnapshotURL              string `json:"snapshotUrl,omitempty"`
	ExpirationDate           string `json:"expirationDate,omitempty"`
	RestoreScheduledDate     string `json:"restoreScheduledDate,omitempty"`
	RestoreFinishedDate      string `json:"restoreFinishedDate,omitempty"`
	SnapshotFinishedDate     string `json:"snapshotFinishedDate,omitempty"`
	TargetDeploymentItemName string `json:"targetDeploymentItemName,omitempty"`
	TargetProjectID          string `json:"targetProjectId,omitempty"`
	Links                    []link `json:"links"`
}

// jobView renders j at the call's time; the state must be locked.
func (f *family) jobView(c *call, j *jobState) jobView {
	if j.urlBase == "" {
		j.urlBase = c.s.downloadBase(c)
	}
	facts := j.facts(c.now)
	v := jobView{
		ID:                       facts.ID,
		ProjectID:                facts.ProjectID,
		DeliveryType:             facts.DeliveryType,
		Status:                   facts.Status,
		SnapshotID:               facts.SnapshotID,
		SnapshotURL:              facts.SnapshotURL,
		ExpirationDate:           formatTime(facts.ExpirationDate),
		RestoreScheduledDate:     formatTime(facts.RestoreScheduledDate),
		RestoreFinishedDate:      formatTime(facts.RestoreFinishedDate),
		SnapshotFinishedDate:     formatTime(facts.SnapshotFinishedDate),
		TargetDeploymentItemName: facts.TargetDeploymentItemName,
		TargetProjectID:          facts.TargetProjectID,
		Links: selfLinks(f.clusterHref(c, j.projectID, j.clusterName) +
			"/" + f.restoresSegment + "/" + j.id),
	}
	if f.clusterField == "instanceName" {
		v.InstanceName = facts.ClusterName
	} else {
		v.ClusterName = facts.ClusterName
	}
	return v
}

// downloadBase is scheme://host for new snapshotUrls.
func (s *Server) downloadBase(c *call) string {
	if s.publicBase != "" {
		return s.publicBase
	}
	return c.origin()
}

func (f *family) listSnapshots(c *call) {
	p, e := parsePage(c.r.URL.Query())
	if e != nil {
		c.fail(e)
		return
	}
	var views []snapshotView
	e = f.withCluster(c, func(cs *clusterState) *apiError {
		views = make([]snapshotView, 0, len(cs.snapshots))
		for _, s := range cs.snapshots {
			views = append(views, f.snapshotView(c, s))
		}
		return nil
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.contentType = f.mediaType
	writeList(c, views, p)
}

func (f *family) getSnapshot(c *call) {
	id := c.params["snapshotId"]
	var view snapshotView
	e := f.withCluster(c, func(cs *clusterState) *apiError {
		if !hexIDPattern.MatchString(id) {
			return newAPIError(http.StatusNotFound, codeInvalidSnapshotID,
				fmt.Sprintf("The specified snapshot ID %s is invalid.", id), id)
		}
		s := cs.snapshot(id)
		if s == nil {
			return newAPIError(http.StatusNotFound, f.snapshotNotFound,
				fmt.Sprintf("No snapshot with ID %s exists for cluster %s.", id, cs.name), id, cs.name)
		}
		view = f.snapshotView(c, s)
		return nil
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.contentType = f.mediaType
	c.writeObject(view)
}

func (f *family) listJobs(c *call) {
	p, e := parsePage(c.r.URL.Query())
	if e != nil {
		c.fail(e)
		return
	}
	var views []jobView
	e = f.withCluster(c, func(cs *clusterState) *apiError {
		jobs := cs.jobsNewestFirst()
		views = make([]jobView, 0, len(jobs))
		for _, j := range jobs {
			views = append(views, f.jobView(c, j))
		}
		return nil
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.contentType = f.mediaType
	writeList(c, views, p)
}

func (f *family) getJob(c *call) {
	id := c.params["restoreId"]
	var view jobView
	e := f.withCluster(c, func(cs *clusterState) *apiError {
		j := c.s.jobsByID[id]
		if j == nil || j.projectID != c.params["groupId"] || j.clusterName != cs.name {
			return newAPIError(http.StatusNotFound, f.restoreNotFound,
				fmt.Sprintf("No restore job with ID %s exists for cluster %s.", id, cs.name), id, cs.name)
		}
		view = f.jobView(c, j)
		return nil
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.contentType = f.mediaType
	c.writeObject(view)
}

// requestDownload is POST .../download {"snapshotId": "..."}: it creates a
// DOWNLOAD job. Unknown project or cluster win over a bad body, as the
// path is resolved before the body is looked at.
func (f *family) requestDownload(c *call) {
	snapshotID, bodyErr := "", (*apiError)(nil)
	if data, e := c.readBody(); e != nil {
		bodyErr = e
	} else {
		snapshotID, bodyErr = parseDownloadBody(data)
	}
	var view jobView
	e := f.withCluster(c, func(cs *clusterState) *apiError {
		if bodyErr != nil {
			return bodyErr
		}
		snap := cs.snapshot(snapshotID)
		if snap == nil {
			return newAPIError(http.StatusNotFound, f.snapshotNotFound,
				fmt.Sprintf("No snapshot with ID %s exists for cluster %s.", snapshotID, cs.name), snapshotID, cs.name)
		}
		if snap.status != StatusCompleted {
			return newAPIError(http.StatusConflict, codeIncompleteSnapshot,
				fmt.Sprintf("Cannot download snapshot %s: its status is %s, not COMPLETED.", snapshotID, snap.status), snapshotID)
		}
		j, err := c.s.newJobLocked(c.params["groupId"], cs, snap, c.now, c.s.downloadBase(c))
		if err != nil {
			return newAPIError(http.StatusInternalServerError, "UNEXPECTED_ERROR", "Unexpected error.")
		}
		view = f.jobView(c, j)
		return nil
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.contentType = f.mediaType
	c.writeObject(view)
}

// parseDownloadBody reads {"snapshotId": "<24 hex>"}; other fields (the v2
// schema's targetDeploymentItemName and read-only fields) are ignored.
func parseDownloadBody(data []byte) (string, *apiError) {
	if len(bytes.TrimSpace(data)) == 0 || !json.Valid(data) {
		return "", newAPIError(http.StatusBadRequest, codeMalformedJSON,
			`Received JSON is malformed. Send a JSON object like {"snapshotId": "<24 hex digits>"}.`)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return "", newAPIError(http.StatusBadRequest, codeInvalidJSON,
			"Received JSON does not match the expected format: want a JSON object.")
	}
	raw, ok := obj["snapshotId"]
	if !ok || string(raw) == "null" {
		return "", newAPIError(http.StatusBadRequest, codeValidationError,
			"The required attribute snapshotId was not specified.", "snapshotId")
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil || !hexIDPattern.MatchString(id) {
		return "", newAPIError(http.StatusBadRequest, codeInvalidAttribute,
			"Invalid attribute snapshotId specified: want 24 lowercase hex digits.", "snapshotId")
	}
	return id, nil
}
