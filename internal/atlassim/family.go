// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// family describes one endpoint family over the shared snapshot and job
// lifecycle: where its paths live and how its objects name things. Families
// differ only in this data; the handlers below serve them all.
type family struct {
	// prefix is the route template of a cluster's backup resource; it
	// contains {groupId} and {<clusterParam>}.
	prefix string
	// clusterParam is the placeholder that names the cluster in prefix.
	clusterParam string
	// mediaType is the Content-Type of successful answers. When versioned,
	// requests must also name it in Accept (and Content-Type on POST).
	mediaType string
	versioned bool
	// version is the version date in mediaType, for VERSION_GONE answers.
	version string
	// deprecated and sunset, when set, are the Deprecation and Sunset dates
	// of mediaType; older are earlier versions still answered, which a
	// request picks with its Accept header.
	deprecated, sunset time.Time
	older              []servedVersion
	// flex is true for the Flex family, false for the tenant ones; a
	// cluster of the other kind is refused with a 400.
	flex bool
	// paged lists take pageNum, itemsPerPage and includeCount. The
	// published description gives the tenant lists (listClusterBackupSnapshots,
	// listBackupTenantRestores) none of them, so those answer every item on
	// one page and ignore the parameters; the Flex lists take them.
	paged bool
	// noSunset keeps a tenant-side family answering under TenantSunset:
	// the project and cluster reads (clusters.go) outlive the backup paths.
	noSunset bool
	// clusterField is the JSON field that names the source cluster of a job.
	clusterField string
	// restoresSegment is the path segment of the restore job collection,
	// restoreParam the placeholder for one job's id, and restoreCreate the
	// path of POST requests for a restore onto a cluster.
	restoresSegment string
	restoreParam    string
	restoreCreate   string

	clusterNotFound  string
	snapshotNotFound string
	restoreNotFound  string
	// rateLimitCode is the errorCode of a 429.
	rateLimitCode string
}

// Media types of the versioned families.
const (
	mediaTypeTenantV2 = "application/vnd.atlas.2023-01-01+json"
	mediaTypeFlex     = "application/vnd.atlas.2024-11-13+json"
)

// tenantSunset is when Atlas retires the tenant backup endpoints.
var tenantSunset = time.Date(2026, 1, 22, 0, 0, 0, 0, time.UTC)

// tenantDeprecated is the simulator's Deprecation date for tenant v2 paths:
// February 2025, when Atlas stopped creating M2/M5 clusters.
var tenantDeprecated = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)

var (
	tenantV1 = &family{
		prefix:           "/api/atlas/v1.0/groups/{groupId}/clusters/{clusterName}/backup/tenant",
		clusterParam:     "clusterName",
		mediaType:        "application/json",
		clusterField:     "clusterName",
		restoresSegment:  "restores",
		restoreParam:     "restoreId",
		restoreCreate:    "/restore",
		clusterNotFound:  codeClusterNotFound,
		snapshotNotFound: codeTenantSnapshotNotFound,
		restoreNotFound:  codeTenantRestoreNotFound,
		rateLimitCode:    codeRateLimited,
	}
	tenantV2 = &family{
		prefix:           "/api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/tenant",
		clusterParam:     "clusterName",
		mediaType:        mediaTypeTenantV2,
		versioned:        true,
		version:          "2023-01-01",
		deprecated:       tenantDeprecated,
		sunset:           tenantSunset,
		clusterField:     "clusterName",
		restoresSegment:  "restores",
		restoreParam:     "restoreId",
		restoreCreate:    "/restore",
		clusterNotFound:  codeClusterNotFound,
		snapshotNotFound: codeTenantSnapshotNotFound,
		restoreNotFound:  codeTenantRestoreNotFound,
		rateLimitCode:    codeRateLimitedTokenBucket,
	}
	flexV2 = &family{
		prefix:           "/api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup",
		clusterParam:     "name",
		mediaType:        mediaTypeFlex,
		versioned:        true,
		version:          "2024-11-13",
		flex:             true,
		clusterField:     "instanceName",
		restoresSegment:  "restoreJobs",
		restoreParam:     "restoreJobId",
		restoreCreate:    "/restoreJobs",
		paged:            true,
		clusterNotFound:  codeFlexClusterNotFound,
		snapshotNotFound: codeSnapshotNotFound,
		restoreNotFound:  codeFlexRestoreJobNotFound,
		rateLimitCode:    codeRateLimitedTokenBucket,
	}
)

func (f *family) routes() []route {
	r := func(method, pattern string, handle func(*call)) route {
		rt := newRoute(method, f.prefix+pattern, true, handle)
		rt.fam = f
		return rt
	}
	return []route{
		r(http.MethodPost, "/download", f.requestDownload),
		r(http.MethodGet, "/snapshots", f.listSnapshots),
		r(http.MethodGet, "/snapshots/{snapshotId}", f.getSnapshot),
		r(http.MethodGet, "/"+f.restoresSegment, f.listJobs),
		r(http.MethodGet, "/"+f.restoresSegment+"/{"+f.restoreParam+"}", f.getJob),
		r(http.MethodPost, f.restoreCreate, f.requestRestore),
	}
}

// servedVersion is one media type of a versioned family; answers in a
// deprecated one carry Deprecation and Sunset, as Atlas's do.
type servedVersion struct {
	mediaType          string
	deprecated, sunset time.Time
}

// versionFor picks the version that accept names, the current one first;
// an unversioned family has only its current one. ok is false when accept
// names none: v is then the current version.
func (f *family) versionFor(accept []string) (v servedVersion, ok bool) {
	current := servedVersion{f.mediaType, f.deprecated, f.sunset}
	if !f.versioned {
		return current, true
	}
	for _, v := range append([]servedVersion{current}, f.older...) {
		if acceptsMediaType(accept, v.mediaType) {
			return v, true
		}
	}
	return current, false
}

// setHeaders marks the answers of a deprecated version.
func (v servedVersion) setHeaders(h http.Header) {
	if !v.deprecated.IsZero() {
		h.Set("Deprecation", v.deprecated.Format(http.TimeFormat))
		h.Set("Sunset", v.sunset.Format(http.TimeFormat))
	}
}

// gate answers what Atlas answers before a handler runs: sunset tenant
// paths, and versioned paths asked for a version they do not serve. It sets
// the media type of the answer: the version asked for.
func (f *family) gate(c *call) *apiError {
	if !f.flex && !f.noSunset && c.s.tenantSunset {
		if f.versioned {
			path := strings.TrimPrefix(c.r.URL.Path, "/")
			return newAPIError(http.StatusGone, codeVersionGone,
				fmt.Sprintf("Version %s of %s is no longer available.", f.version, path), f.version, path)
		}
		return newAPIError(http.StatusNotFound, codeResourceNotFound,
			fmt.Sprintf("Cannot find resource %s. The tenant (M2/M5) backup endpoints were sunset on %s; use the Flex backup endpoints.",
				c.r.URL.Path, tenantSunset.Format("2006-01-02")), c.r.URL.Path)
	}
	v, ok := f.versionFor(c.r.Header.Values("Accept"))
	if !ok {
		return f.notAcceptable("Accept", c.r.Header.Get("Accept"))
	}
	c.contentType = v.mediaType
	if f.versioned && c.r.Method == http.MethodPost {
		// Atlas's own curl examples send the body as application/json
		// with the version in Accept, so both body types are taken.
		mt, _, _ := strings.Cut(c.r.Header.Get("Content-Type"), ";")
		mt = strings.TrimSpace(mt)
		if !strings.EqualFold(mt, v.mediaType) && !strings.EqualFold(mt, "application/json") {
			return f.notAcceptable("Content-Type", c.r.Header.Get("Content-Type"))
		}
	}
	return nil
}

func (f *family) notAcceptable(header, value string) *apiError {
	if value == "" {
		return newAPIError(http.StatusNotAcceptable, codeInvalidVersion,
			fmt.Sprintf("The %s header must name an API version; this resource is served as %s.", header, f.mediaType), header)
	}
	return newAPIError(http.StatusNotAcceptable, codeInvalidVersion,
		fmt.Sprintf("The %s header %q names no version this resource is served in; use %s.", header, value, f.mediaType), header, value)
}

// acceptsMediaType reports whether any Accept value lists want (parameters
// and quality values are ignored; wildcards do not name a version).
func acceptsMediaType(accept []string, want string) bool {
	for _, v := range accept {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), want) {
				return true
			}
		}
	}
	return false
}

// clusterHref is the absolute URL of the cluster's backup resource.
func (f *family) clusterHref(c *call, groupID, clusterName string) string {
	return c.origin() + strings.NewReplacer(
		"{groupId}", url.PathEscape(groupID),
		"{"+f.clusterParam+"}", url.PathEscape(clusterName),
	).Replace(f.prefix)
}

// withCluster runs fn on the request's cluster with the state locked.
func (f *family) withCluster(c *call, fn func(*clusterState) *apiError) *apiError {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	cs, e := c.s.clusterLocked(c.params["groupId"], c.params[f.clusterParam], f)
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
		Links:          selfLinks(f.clusterHref(c, c.params["groupId"], c.params[f.clusterParam]) + "/snapshots/" + s.id),
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
	Links                    []link `json:"links,omitempty"`
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

// parsePage reads the paging parameters of a paged family's list; an
// unpaged family ignores them (pageParams{} stands for "all on one page").
func (f *family) parsePage(c *call) (pageParams, *apiError) {
	if !f.paged {
		return pageParams{}, nil
	}
	return parsePage(c.r.URL.Query())
}

// downloadBase is scheme://host for new snapshotUrls.
func (s *Server) downloadBase(c *call) string {
	if s.publicBase != "" {
		return s.publicBase
	}
	return c.origin()
}

func (f *family) listSnapshots(c *call) {
	p, e := f.parsePage(c)
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
	writeListPage(c, views, p)
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
	c.writeObject(view)
}

func (f *family) listJobs(c *call) {
	p, e := f.parsePage(c)
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
	writeListPage(c, views, p)
}

func (f *family) getJob(c *call) {
	id := c.params[f.restoreParam]
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
	c.writeObject(view)
}

// requestDownload is POST .../download {"snapshotId": "..."}: it creates a
// DOWNLOAD job. Unknown project or cluster win over a bad body, as the
// path is resolved before the body is looked at; the download limits come
// last, so a refusal means the request was otherwise good.
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
		snap, e := f.completedSnapshot(cs, snapshotID, codeIncompleteSnapshot, "download")
		if e != nil {
			return e
		}
		if e, refusal := c.s.downloadRefusalLocked(c.params["groupId"], cs, snap.id, c.now); e != nil {
			c.refusal = refusal
			return e
		}
		j, err := c.s.newJobLocked(c.params["groupId"], cs, snap, c.now, c.s.downloadBase(c), nil)
		if err != nil {
			return newAPIError(http.StatusInternalServerError, codeUnexpectedError, "Unexpected error.")
		}
		c.s.stats.jobCreated(j.projectID, j.clusterName)
		view = f.jobView(c, j)
		return nil
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.writeObject(view)
}

// parseDownloadBody reads {"snapshotId": "<24 hex>"}; other fields (the v2
// schema's targetDeploymentItemName and read-only fields) are ignored.
func parseDownloadBody(data []byte) (string, *apiError) {
	obj, e := bodyObject(data, `{"snapshotId": "<24 hex digits>"}`)
	if e != nil {
		return "", e
	}
	return stringAttr(obj, "snapshotId", hexIDPattern, "24 lowercase hex digits", codeValidationError)
}

// bodyObject decodes a request body that must be a JSON object like example.
func bodyObject(data []byte, example string) (map[string]json.RawMessage, *apiError) {
	if len(bytes.TrimSpace(data)) == 0 || !json.Valid(data) {
		return nil, newAPIError(http.StatusBadRequest, codeMalformedJSON,
			"Received JSON is malformed. Send a JSON object like "+example+".")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, newAPIError(http.StatusBadRequest, codeInvalidJSON,
			"Received JSON does not match the expected format: want a JSON object.")
	}
	return obj, nil
}

// stringAttr reads the required string attribute name of obj, which must
// match pattern (described by want); missingCode is the errorCode when it
// is absent or null.
func stringAttr(obj map[string]json.RawMessage, name string, pattern *regexp.Regexp, want, missingCode string) (string, *apiError) {
	raw, ok := obj[name]
	if !ok || string(raw) == "null" {
		return "", newAPIError(http.StatusBadRequest, missingCode,
			fmt.Sprintf("The required attribute %s was not specified.", name), name)
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil || !pattern.MatchString(v) {
		return "", newAPIError(http.StatusBadRequest, codeInvalidAttribute,
			fmt.Sprintf("Invalid attribute %s specified: want %s.", name, want), name)
	}
	return v, nil
}

// completedSnapshot finds a snapshot of cs that may be downloaded or
// restored (what): it must exist and be COMPLETED (else a 409 with
// incompleteCode).
func (f *family) completedSnapshot(cs *clusterState, id, incompleteCode, what string) (*snapshotState, *apiError) {
	snap := cs.snapshot(id)
	if snap == nil {
		return nil, newAPIError(http.StatusNotFound, f.snapshotNotFound,
			fmt.Sprintf("No snapshot with ID %s exists for cluster %s.", id, cs.name), id, cs.name)
	}
	if snap.status != StatusCompleted {
		return nil, newAPIError(http.StatusConflict, incompleteCode,
			fmt.Sprintf("Cannot %s snapshot %s: its status is %s, not COMPLETED.", what, id, snap.status), id)
	}
	return snap, nil
}
