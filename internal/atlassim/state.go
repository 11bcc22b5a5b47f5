// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"
)

// downloadLinkLifetime is how long a snapshotUrl works after the request,
// per the Atlas documentation; restoreJobLifetime is the expirationDate of
// a restore job after its restoreScheduledDate, as recorded from Atlas.
const (
	downloadLinkLifetime = 4 * time.Hour
	restoreJobLifetime   = 6 * time.Hour
)

type projectState struct {
	id       string
	info     projectInfo // what GET .../groups/{groupId} shows (clusters.go)
	clusters map[string]*clusterState
}

type clusterState struct {
	name      string
	info      clusterInfo      // what the cluster reads show (clusters.go)
	flex      bool             // a Flex cluster, served by the Flex family only
	snapshots []*snapshotState // newest first
	jobs      []*jobState      // creation order
	// restores are the restore jobs requested onto this cluster through
	// the API, in creation order (restoredFrom shows the newest done).
	restores []*jobState
}

type snapshotState struct {
	id, status, mongoDBVersion               string
	scheduled, started, finished, expiration time.Time
}

func newSnapshotState(s SeedSnapshot) *snapshotState {
	return &snapshotState{
		id:             s.ID,
		status:         s.Status,
		mongoDBVersion: s.MongoDBVersion,
		scheduled:      parseSeedTime(s.ScheduledTime),
		started:        parseSeedTime(s.StartTime),
		finished:       parseSeedTime(s.FinishTime),
		expiration:     parseSeedTime(s.Expiration),
	}
}

// sortTime orders snapshots: when it was scheduled, else started, else finished.
func (s *snapshotState) sortTime() time.Time {
	for _, t := range []time.Time{s.scheduled, s.started, s.finished} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func (c *clusterState) addSnapshot(s *snapshotState) {
	c.snapshots = append(c.snapshots, s)
	sort.SliceStable(c.snapshots, func(i, k int) bool {
		a, b := c.snapshots[i].sortTime(), c.snapshots[k].sortTime()
		if !a.Equal(b) {
			return a.After(b)
		}
		return c.snapshots[i].id > c.snapshots[k].id
	})
}

func (c *clusterState) snapshot(id string) *snapshotState {
	for _, s := range c.snapshots {
		if s.id == id {
			return s
		}
	}
	return nil
}

// jobsNewestFirst returns the cluster's jobs, most recently requested first.
func (c *clusterState) jobsNewestFirst() []*jobState {
	out := append([]*jobState(nil), c.jobs...)
	sort.SliceStable(out, func(i, k int) bool {
		if !out[i].created.Equal(out[k].created) {
			return out[i].created.After(out[k].created)
		}
		return out[i].seq > out[k].seq
	})
	return out
}

// jobState is one restore job. Its status is not stored but computed from
// the clock at read time (QUEUED, or PENDING for a restore, for queuedFor,
// RUNNING for runningFor, then COMPLETED, or FAILED when fails) unless
// fixedStatus pins it.
type jobState struct {
	id, projectID, clusterName, snapshotID, deliveryType string
	// targetProjectID and targetName name a restore's target; empty for
	// downloads and seeded jobs, which show their own cluster.
	targetProjectID, targetName string
	seq                         uint64
	created, expires            time.Time
	queuedFor, runningFor       time.Duration
	fails                       bool // ends FAILED (a fault)

	fixedStatus   string    // from the seed or SetJobStatus; wins over the schedule
	fixedAt       time.Time // when it was pinned
	fixedFinished time.Time // a seeded restoreFinishedDate

	snapshotFinished time.Time
	mongoDBVersion   string

	// token and urlBase make the presigned-style snapshotUrl. urlBase is
	// fixed when the job is created, or for a seeded job at its first read.
	token   string
	urlBase string
}

// state is the job's status at now and, when COMPLETED, when it finished.
func (j *jobState) state(now time.Time) (string, time.Time) {
	done := j.created.Add(j.queuedFor + j.runningFor)
	if j.fixedStatus != "" {
		if j.fixedStatus != StatusCompleted {
			return j.fixedStatus, time.Time{}
		}
		switch {
		case !j.fixedFinished.IsZero():
			return StatusCompleted, j.fixedFinished
		case j.fixedAt.Before(done):
			return StatusCompleted, j.fixedAt
		}
		return StatusCompleted, done
	}
	switch {
	case j.queuedFor > 0 && now.Before(j.created.Add(j.queuedFor)) && j.deliveryType == deliveryRestore:
		return StatusPending, time.Time{}
	case j.queuedFor > 0 && now.Before(j.created.Add(j.queuedFor)):
		return StatusQueued, time.Time{}
	case j.runningFor > 0 && now.Before(done):
		return StatusRunning, time.Time{}
	case j.fails:
		return StatusFailed, time.Time{}
	}
	return StatusCompleted, done
}

func (j *jobState) fileName() string { return "restore-" + j.snapshotID + ".tar.gz" }

func (j *jobState) downloadPath() string {
	return "/backup/restore/" + j.id + "/" + j.fileName()
}

func (j *jobState) snapshotURL() string {
	if j.urlBase == "" {
		return ""
	}
	return fmt.Sprintf("%s%s?token=%s&expires=%d", j.urlBase, j.downloadPath(), j.token, j.expires.Unix())
}

// tokenMatches checks the query of a download URL, in constant time.
func (j *jobState) tokenMatches(token, expires string) bool {
	okToken := subtle.ConstantTimeCompare([]byte(token), []byte(j.token)) == 1
	return okToken && expires == strconv.FormatInt(j.expires.Unix(), 10)
}

// Job is a restore job as the simulator sees it at the time of the call.
// SnapshotURL and RestoreFinishedDate are empty until the job is COMPLETED,
// as in the API; SnapshotFinishedDate is the snapshot's finishTime whatever
// the job's status (see facts).
type Job struct {
	ID           string
	ProjectID    string
	ClusterName  string
	SnapshotID   string
	DeliveryType string // DOWNLOAD or RESTORE
	Status       string
	SnapshotURL  string // empty for a seeded job no request has read yet

	RestoreScheduledDate time.Time
	ExpirationDate       time.Time
	RestoreFinishedDate  time.Time
	SnapshotFinishedDate time.Time

	TargetDeploymentItemName string
	TargetProjectID          string
}

func (j *jobState) facts(now time.Time) Job {
	status, finished := j.state(now)
	job := Job{
		ID:                       j.id,
		ProjectID:                j.projectID,
		ClusterName:              j.clusterName,
		SnapshotID:               j.snapshotID,
		DeliveryType:             j.deliveryType,
		Status:                   status,
		RestoreScheduledDate:     j.created,
		ExpirationDate:           j.expires,
		TargetDeploymentItemName: cmp.Or(j.targetName, j.clusterName),
		TargetProjectID:          cmp.Or(j.targetProjectID, j.projectID),
		// The description defines snapshotFinishedDate as when Atlas
		// "completed writing this snapshot": a fact of the snapshot, not of
		// the job, so it is shown as soon as the snapshot has finished (for
		// a download, always: only COMPLETED snapshots can be downloaded).
		SnapshotFinishedDate: j.snapshotFinished,
	}
	if status == StatusCompleted {
		job.RestoreFinishedDate = finished
		if j.deliveryType == deliveryDownload {
			job.SnapshotURL = j.snapshotURL()
		}
	}
	return job
}

// load builds the state from a validated seed.
func (s *Server) load(seed *Seed) error {
	for _, p := range seed.Projects {
		ps := &projectState{id: p.ID, info: newProjectInfo(p), clusters: map[string]*clusterState{}}
		s.projects[p.ID] = ps
		all := append(append([]SeedCluster(nil), p.Clusters...), p.FlexClusters...)
		for i, c := range all {
			cs := &clusterState{name: c.Name, flex: i >= len(p.Clusters)}
			cs.info = newClusterInfo(p.ID, c, cs.flex)
			ps.clusters[c.Name] = cs
			for _, snap := range c.Snapshots {
				cs.addSnapshot(newSnapshotState(snap))
			}
			for _, sj := range c.RestoreJobs {
				j, err := s.seededJob(p.ID, cs, sj)
				if err != nil {
					return err
				}
				cs.jobs = append(cs.jobs, j)
				s.jobsByID[j.id] = j
			}
		}
	}
	return nil
}

func (s *Server) seededJob(projectID string, cs *clusterState, sj SeedRestoreJob) (*jobState, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	snap := cs.snapshot(sj.SnapshotID)
	created := parseSeedTime(sj.RestoreScheduledDate)
	delivery := cmp.Or(sj.DeliveryType, deliveryDownload)
	expires := parseSeedTime(sj.ExpirationDate)
	switch {
	case !expires.IsZero():
	case delivery == deliveryRestore:
		expires = created.Add(restoreJobLifetime)
	default:
		expires = created.Add(downloadLinkLifetime)
	}
	s.jobSeq++
	j := &jobState{
		id:               sj.ID,
		projectID:        projectID,
		clusterName:      cs.name,
		snapshotID:       sj.SnapshotID,
		deliveryType:     delivery,
		seq:              s.jobSeq,
		created:          created,
		expires:          expires,
		fixedStatus:      sj.Status,
		fixedAt:          created,
		fixedFinished:    parseSeedTime(sj.RestoreFinishedDate),
		snapshotFinished: snap.finished,
		mongoDBVersion:   snap.mongoDBVersion,
		token:            token,
		urlBase:          s.publicBase,
	}
	return j, nil
}

// restoreTarget is where a restore job writes: a cluster of a project.
type restoreTarget struct {
	projectID string
	cluster   *clusterState
}

// newJobLocked records a request for snap made at now: a download, or a
// restore onto target when target is not nil.
func (s *Server) newJobLocked(projectID string, cs *clusterState, snap *snapshotState, now time.Time, urlBase string, target *restoreTarget) (*jobState, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	// restoreScheduledDate is the request's arrival (the answer's Date), to
	// the second. The reference is silent on it, but the client relies on it
	// to find the job of a request whose answer was lost.
	created := now.UTC().Truncate(time.Second)
	s.jobSeq++
	j := &jobState{
		id:               s.newObjectIDLocked(created),
		projectID:        projectID,
		clusterName:      cs.name,
		snapshotID:       snap.id,
		deliveryType:     deliveryDownload,
		seq:              s.jobSeq,
		created:          created,
		expires:          created.Add(downloadLinkLifetime),
		queuedFor:        s.queuedFor,
		runningFor:       s.runningFor,
		fails:            s.faults.jobFails(snap.id),
		snapshotFinished: snap.finished,
		mongoDBVersion:   snap.mongoDBVersion,
		token:            token,
		urlBase:          urlBase,
	}
	if target != nil {
		// The reference gives about a minute from PENDING through RUNNING
		// to COMPLETED, not how it splits: the simulator halves it.
		j.deliveryType, j.expires = deliveryRestore, created.Add(restoreJobLifetime)
		j.queuedFor, j.runningFor = s.restoreFor/2, s.restoreFor-s.restoreFor/2
		j.targetProjectID, j.targetName = target.projectID, target.cluster.name
		target.cluster.restores = append(target.cluster.restores, j)
	}
	cs.jobs = append(cs.jobs, j)
	s.jobsByID[j.id] = j
	return j, nil
}

// newObjectIDLocked makes an id shaped like a MongoDB ObjectId: seconds,
// five random bytes fixed per server, a counter.
func (s *Server) newObjectIDLocked(t time.Time) string {
	for {
		var b [12]byte
		binary.BigEndian.PutUint32(b[0:4], uint32(t.Unix()))
		copy(b[4:9], s.idRandom[:])
		s.idCount++
		n := s.idCount & 0xffffff
		b[9], b[10], b[11] = byte(n>>16), byte(n>>8), byte(n)
		id := hex.EncodeToString(b[:])
		if _, taken := s.jobsByID[id]; !taken {
			return id
		}
	}
}

func newToken() (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("atlassim: reading random bytes: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// clusterLocked resolves a project and cluster the way Atlas answers for
// them: a malformed project id, an unknown project, an unknown cluster, and
// (when f is not nil) a cluster of the kind f does not serve.
func (s *Server) clusterLocked(groupID, clusterName string, f *family) (*clusterState, *apiError) {
	if !hexIDPattern.MatchString(groupID) {
		return nil, newAPIError(http.StatusNotFound, codeInvalidGroupID,
			fmt.Sprintf("The specified group ID %s is invalid.", groupID), groupID)
	}
	p := s.projects[groupID]
	if p == nil {
		return nil, newAPIError(http.StatusNotFound, codeGroupNotFound,
			fmt.Sprintf("No group with ID %s exists.", groupID), groupID)
	}
	c := p.clusters[clusterName]
	switch {
	case c == nil && f != nil && f.flex:
		return nil, newAPIError(http.StatusNotFound, f.clusterNotFound,
			fmt.Sprintf("No flex cluster named %s exists in group %s.", clusterName, groupID), clusterName, groupID)
	case c == nil:
		return nil, newAPIError(http.StatusNotFound, codeClusterNotFound,
			fmt.Sprintf("No cluster named %s exists in group %s.", clusterName, groupID), clusterName, groupID)
	case f != nil && c.flex && !f.flex:
		return nil, newAPIError(http.StatusBadRequest, codeFlexInClusterAPI,
			fmt.Sprintf("Flex cluster %s cannot be used in the Cluster API. Use the Flex Cluster API instead.", clusterName), clusterName)
	case f != nil && !c.flex && f.flex:
		return nil, newAPIError(http.StatusBadRequest, codeNonFlexInFlexAPI,
			fmt.Sprintf("Cluster %s is not a flex cluster and cannot be used in the Flex Cluster API. Use the Cluster API instead.", clusterName), clusterName)
	}
	return c, nil
}

// Job returns one job as the API would show it now.
func (s *Server) Job(projectID, clusterName, jobID string) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobsByID[jobID]
	if j == nil || j.projectID != projectID || j.clusterName != clusterName {
		return Job{}, false
	}
	return j.facts(s.now()), true
}

// Jobs returns every job in every project, oldest request first.
func (s *Server) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*jobState, 0, len(s.jobsByID))
	for _, j := range s.jobsByID {
		all = append(all, j)
	}
	sort.Slice(all, func(i, k int) bool {
		if !all[i].created.Equal(all[k].created) {
			return all[i].created.Before(all[k].created)
		}
		return all[i].seq < all[k].seq
	})
	now := s.now()
	out := make([]Job, len(all))
	for i, j := range all {
		out[i] = j.facts(now)
	}
	return out
}

// SetJobStatus pins a job's status (for example FAILED); the schedule no
// longer applies to it.
func (s *Server) SetJobStatus(projectID, clusterName, jobID, status string) error {
	if !validStatus(status) {
		return fmt.Errorf("atlassim: status %q is not one of PENDING, QUEUED, RUNNING, FAILED, COMPLETED", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.jobLocked(projectID, clusterName, jobID)
	if err != nil {
		return err
	}
	j.fixedStatus = status
	j.fixedAt = s.now().UTC().Truncate(time.Second)
	return nil
}

// DeleteJob makes the simulator forget a job: the API answers 404 for it
// afterwards, and its download link stops working.
func (s *Server) DeleteJob(projectID, clusterName, jobID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.jobLocked(projectID, clusterName, jobID)
	if err != nil {
		return err
	}
	delete(s.jobsByID, jobID)
	cs := s.projects[projectID].clusters[clusterName]
	cs.jobs = slices.DeleteFunc(cs.jobs, func(other *jobState) bool { return other == j })
	if p := s.projects[j.targetProjectID]; p != nil && p.clusters[j.targetName] != nil {
		target := p.clusters[j.targetName]
		target.restores = slices.DeleteFunc(target.restores, func(other *jobState) bool { return other == j })
	}
	return nil
}

func (s *Server) jobLocked(projectID, clusterName, jobID string) (*jobState, error) {
	j := s.jobsByID[jobID]
	if j == nil || j.projectID != projectID || j.clusterName != clusterName {
		return nil, fmt.Errorf("atlassim: no job %s for cluster %s in project %s", jobID, clusterName, projectID)
	}
	return j, nil
}

// AddSnapshot adds a snapshot to an existing cluster.
func (s *Server) AddSnapshot(projectID, clusterName string, snap SeedSnapshot) error {
	if err := validateSnapshot(snap); err != nil {
		return fmt.Errorf("atlassim: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, apiErr := s.clusterLocked(projectID, clusterName, nil)
	if apiErr != nil {
		return errors.New("atlassim: " + apiErr.Detail)
	}
	for _, p := range s.projects {
		for _, c := range p.clusters {
			if c.snapshot(snap.ID) != nil {
				return fmt.Errorf("atlassim: a snapshot with id %s already exists", snap.ID)
			}
		}
	}
	cs.addSnapshot(newSnapshotState(snap))
	return nil
}
