// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"time"
)

// Seed is the simulator's starting state. Its JSON field names follow the
// Atlas API's own, so a seed file reads like API output.
type Seed struct {
	Projects []SeedProject `json:"projects"`
}

// SeedProject is one Atlas project (a "group" in API paths). Cluster names
// are unique across its tenant and Flex clusters. name defaults to
// "Project-" and the id, orgId to DefaultOrgID, created to DefaultCreated.
type SeedProject struct {
	ID           string        `json:"id"`
	Name         string        `json:"name,omitempty"`
	OrgID        string        `json:"orgId,omitempty"`
	Created      string        `json:"created,omitempty"`
	Clusters     []SeedCluster `json:"clusters"`
	FlexClusters []SeedCluster `json:"flexClusters,omitempty"`
}

// SeedCluster is one tenant (M2/M5) or Flex cluster with its snapshots and,
// optionally, restore jobs that already exist when the simulator starts.
// The cluster reads (GET .../clusters, .../flexClusters) show the rest:
// id defaults to one derived from the project id and name,
// backingProviderName to AWS, regionName to US_EAST_1, mongoDBVersion to
// DefaultMongoDBVersion, createDate to DefaultCreated, and instanceSizeName
// (tenant clusters only: M2 or M5) to M2.
type SeedCluster struct {
	Name                string           `json:"name"`
	ID                  string           `json:"id,omitempty"`
	InstanceSizeName    string           `json:"instanceSizeName,omitempty"`
	BackingProviderName string           `json:"backingProviderName,omitempty"`
	RegionName          string           `json:"regionName,omitempty"`
	MongoDBVersion      string           `json:"mongoDBVersion,omitempty"`
	CreateDate          string           `json:"createDate,omitempty"`
	Snapshots           []SeedSnapshot   `json:"snapshots"`
	RestoreJobs         []SeedRestoreJob `json:"restoreJobs,omitempty"`
}

// SeedSnapshot is one snapshot, shaped like the API's BackupTenantSnapshot.
// Dates are RFC 3339 strings; finishTime is required when status is COMPLETED.
type SeedSnapshot struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	MongoDBVersion string `json:"mongoDBVersion,omitempty"`
	ScheduledTime  string `json:"scheduledTime,omitempty"`
	StartTime      string `json:"startTime,omitempty"`
	FinishTime     string `json:"finishTime,omitempty"`
	Expiration     string `json:"expiration,omitempty"`
}

// SeedRestoreJob is a restore job that exists before the simulator starts.
// Its status is fixed (it does not follow the QueuedFor/RunningFor schedule).
// deliveryType defaults to DOWNLOAD, expirationDate to restoreScheduledDate
// plus 4 hours, restoreFinishedDate (used when COMPLETED) to
// restoreScheduledDate. The simulator makes the snapshotUrl itself.
type SeedRestoreJob struct {
	ID                   string `json:"id"`
	SnapshotID           string `json:"snapshotId"`
	Status               string `json:"status"`
	DeliveryType         string `json:"deliveryType,omitempty"`
	RestoreScheduledDate string `json:"restoreScheduledDate"`
	ExpirationDate       string `json:"expirationDate,omitempty"`
	RestoreFinishedDate  string `json:"restoreFinishedDate,omitempty"`
}

// The default seed. README and tests list these.
const (
	DefaultProjectID   = "6568a1b2c3d4e5f601234567"
	DefaultClusterName = "Cluster0"
	// DefaultSnapshotID is the newest snapshot of Cluster0, COMPLETED.
	DefaultSnapshotID = "6568a1b2c3d4e5f6000000a1"
	// DefaultOlderSnapshotID is COMPLETED a day before DefaultSnapshotID.
	DefaultOlderSnapshotID = "6568a1b2c3d4e5f6000000a2"
	// DefaultRunningSnapshotID is stuck RUNNING: downloading it is a 409.
	DefaultRunningSnapshotID = "6568a1b2c3d4e5f6000000a3"

	// DefaultSecondClusterName is a second cluster in DefaultProjectID.
	DefaultSecondClusterName       = "Cluster1"
	DefaultSecondClusterSnapshotID = "6568a1b2c3d4e5f6000000b1"

	// DefaultSecondProjectID holds one cluster with one COMPLETED snapshot.
	DefaultSecondProjectID          = "6568a1b2c3d4e5f601234568"
	DefaultSecondProjectClusterName = "Reports0"
	DefaultSecondProjectSnapshotID  = "6568a1b2c3d4e5f6000000c1"

	// DefaultFlexClusterName is a Flex cluster in DefaultProjectID.
	DefaultFlexClusterName = "Flex0"
	// DefaultFlexSnapshotID is the newest snapshot of Flex0, COMPLETED.
	DefaultFlexSnapshotID = "6568a1b2c3d4e5f6000000f1"
	// DefaultFlexOlderSnapshotID is COMPLETED a day before DefaultFlexSnapshotID.
	DefaultFlexOlderSnapshotID = "6568a1b2c3d4e5f6000000f2"
	// DefaultFlexRunningSnapshotID is stuck RUNNING.
	DefaultFlexRunningSnapshotID = "6568a1b2c3d4e5f6000000f3"

	// DefaultPublicKey and DefaultPrivateKey are the simulator's API key
	// pair when Config leaves them empty. They open nothing but the simulator.
	DefaultPublicKey  = "atlassim"
	DefaultPrivateKey = "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"

	// DefaultMongoDBVersion is the version the default snapshots report.
	DefaultMongoDBVersion = "7.0.14"

	// DefaultOrgID is the organization of projects whose seed names none.
	DefaultOrgID = "6568a1b2c3d4e5f600000001"
	// DefaultCreated is when projects and clusters were created, unless
	// the seed says otherwise.
	DefaultCreated = "2024-06-01T09:00:00Z"
)

// DefaultSeed returns a fresh copy of the state used when Config.Seed is nil.
func DefaultSeed() *Seed {
	return &Seed{Projects: []SeedProject{
		{
			ID: DefaultProjectID,
			Clusters: []SeedCluster{
				{
					Name: DefaultClusterName,
					Snapshots: []SeedSnapshot{
						completedSnapshot(DefaultSnapshotID, "2026-11-28T12:00:00Z"),
						completedSnapshot(DefaultOlderSnapshotID, "2026-11-27T12:00:00Z"),
						{
							// Older than the others yet still RUNNING: a stuck
							// snapshot, kept out of the "newest" slot on purpose.
							ID:             DefaultRunningSnapshotID,
							Status:         "RUNNING",
							MongoDBVersion: DefaultMongoDBVersion,
							ScheduledTime:  "2026-11-26T12:00:00Z",
							StartTime:      "2026-11-26T12:00:04Z",
						},
					},
				},
				{
					Name: DefaultSecondClusterName,
					Snapshots: []SeedSnapshot{
						completedSnapshot(DefaultSecondClusterSnapshotID, "2026-11-28T06:00:00Z"),
					},
				},
			},
			FlexClusters: []SeedCluster{
				{
					Name: DefaultFlexClusterName,
					Snapshots: []SeedSnapshot{
						completedSnapshot(DefaultFlexSnapshotID, "2026-11-28T10:00:00Z"),
						completedSnapshot(DefaultFlexOlderSnapshotID, "2026-11-27T10:00:00Z"),
						{
							ID:             DefaultFlexRunningSnapshotID,
							Status:         StatusRunning,
							MongoDBVersion: DefaultMongoDBVersion,
							ScheduledTime:  "2026-11-26T10:00:00Z",
							StartTime:      "2026-11-26T10:00:04Z",
						},
					},
				},
			},
		},
		{
			ID: DefaultSecondProjectID,
			Clusters: []SeedCluster{
				{
					Name: DefaultSecondProjectClusterName,
					Snapshots: []SeedSnapshot{
						completedSnapshot(DefaultSecondProjectSnapshotID, "2026-11-28T08:00:00Z"),
					},
				},
			},
		},
	}}
}

// completedSnapshot is a COMPLETED snapshot scheduled at the given time that
// took three minutes and is kept for a week.
func completedSnapshot(id, scheduled string) SeedSnapshot {
	t, err := time.Parse(time.RFC3339, scheduled)
	if err != nil {
		panic(err) // only called with constants
	}
	return SeedSnapshot{
		ID:             id,
		Status:         "COMPLETED",
		MongoDBVersion: DefaultMongoDBVersion,
		ScheduledTime:  formatTime(t),
		StartTime:      formatTime(t.Add(4 * time.Second)),
		FinishTime:     formatTime(t.Add(3 * time.Minute)),
		Expiration:     formatTime(t.Add(3*time.Minute + 7*24*time.Hour)),
	}
}

// LoadSeedFile reads and validates a seed file. Errors start with the path.
func LoadSeedFile(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seed, err := ParseSeed(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return seed, nil
}

// ParseSeed decodes and validates a seed. Unknown fields are rejected, and
// every error names the JSON path of the bad value.
func ParseSeed(data []byte) (*Seed, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty seed: want a JSON object with a \"projects\" array")
	}
	// First pass on generic JSON, so unknown fields and wrong types can be
	// reported with their path; encoding/json's own errors do not say where.
	var generic any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, jsonSyntaxError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the seed's JSON object")
	}
	if err := seedShape.check("", generic); err != nil {
		return nil, err
	}

	var seed Seed
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return nil, err
	}
	if err := validateSeed(&seed); err != nil {
		return nil, err
	}
	return &seed, nil
}

func jsonSyntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		// Offset counts the offending byte itself.
		for _, b := range data[:min(max(int(se.Offset)-1, 0), len(data))] {
			if b == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// jsonShape describes the seed's JSON layout for the first decoding pass:
// an object with known fields, an array of elem, or (neither) a string.
type jsonShape struct {
	fields map[string]*jsonShape
	elem   *jsonShape
}

var (
	seedString    = &jsonShape{}
	snapshotShape = &jsonShape{fields: map[string]*jsonShape{
		"id": seedString, "status": seedString, "mongoDBVersion": seedString,
		"scheduledTime": seedString, "startTime": seedString, "finishTime": seedString,
		"expiration": seedString,
	}}
	restoreJobShape = &jsonShape{fields: map[string]*jsonShape{
		"id": seedString, "snapshotId": seedString, "status": seedString,
		"deliveryType": seedString, "restoreScheduledDate": seedString,
		"expirationDate": seedString, "restoreFinishedDate": seedString,
	}}
	clusterShape = &jsonShape{fields: map[string]*jsonShape{
		"name": seedString, "id": seedString, "instanceSizeName": seedString,
		"backingProviderName": seedString, "regionName": seedString,
		"mongoDBVersion": seedString, "createDate": seedString,
		"snapshots":   {elem: snapshotShape},
		"restoreJobs": {elem: restoreJobShape},
	}}
	projectShape = &jsonShape{fields: map[string]*jsonShape{
		"id": seedString, "name": seedString, "orgId": seedString, "created": seedString,
		"clusters":     {elem: clusterShape},
		"flexClusters": {elem: clusterShape},
	}}
	seedShape = &jsonShape{fields: map[string]*jsonShape{
		"projects": {elem: projectShape},
	}}
)

func (s *jsonShape) check(path string, v any) error {
	if v == nil {
		return nil // null reads as the zero value; validation decides
	}
	where := path
	if where == "" {
		where = "seed"
	}
	switch {
	case s.fields != nil:
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want a JSON object, got %s", where, jsonKind(v))
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, known := s.fields[k]
			if !known {
				return fmt.Errorf("%s: unknown field %q", where, k)
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			if err := sub.check(p, obj[k]); err != nil {
				return err
			}
		}
	case s.elem != nil:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want a JSON array, got %s", where, jsonKind(v))
		}
		for i, e := range arr {
			if err := s.elem.check(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	default:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: want a string, got %s", where, jsonKind(v))
		}
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

var (
	hexIDPattern       = regexp.MustCompile(`^[a-f0-9]{24}$`)
	clusterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
)

// Statuses shared by snapshots and restore jobs.
const (
	StatusPending   = "PENDING"
	StatusQueued    = "QUEUED"
	StatusRunning   = "RUNNING"
	StatusFailed    = "FAILED"
	StatusCompleted = "COMPLETED"
)

const (
	deliveryDownload = "DOWNLOAD"
	deliveryRestore  = "RESTORE"
)

func validStatus(s string) bool {
	switch s {
	case StatusPending, StatusQueued, StatusRunning, StatusFailed, StatusCompleted:
		return true
	}
	return false
}

// seedErrors gathers every problem so one run of the simulator reports them all.
type seedErrors []error

func (e *seedErrors) add(format string, args ...any) {
	*e = append(*e, fmt.Errorf(format, args...))
}

func (e *seedErrors) id(path, v string) {
	switch {
	case v == "":
		e.add("%s: required", path)
	case !hexIDPattern.MatchString(v):
		e.add("%s: %q is not 24 lowercase hex digits", path, v)
	}
}

func (e *seedErrors) status(path, v string) {
	switch {
	case v == "":
		e.add("%s: required", path)
	case !validStatus(v):
		e.add("%s: %q is not one of PENDING, QUEUED, RUNNING, FAILED, COMPLETED", path, v)
	}
}

// date checks an optional RFC 3339 date.
func (e *seedErrors) date(path, v string) {
	if v == "" {
		return
	}
	if _, err := time.Parse(time.RFC3339, v); err != nil {
		e.add("%s: %q is not an RFC 3339 date like 2026-11-28T14:03:00Z", path, v)
	}
}

func (e *seedErrors) err() error {
	return errors.Join(*e...)
}

func validateSeed(seed *Seed) error {
	if seed == nil {
		return errors.New("seed: nil")
	}
	var errs seedErrors
	projectAt := map[string]string{}
	snapshotAt := map[string]string{}
	jobAt := map[string]string{}
	for pi, p := range seed.Projects {
		pp := fmt.Sprintf("projects[%d]", pi)
		errs.id(pp+".id", p.ID)
		errs.project(pp, p)
		if first, dup := projectAt[p.ID]; dup && p.ID != "" {
			errs.add("%s.id: duplicate project id %q (first at %s)", pp, p.ID, first)
		} else {
			projectAt[p.ID] = pp + ".id"
		}
		clusterAt := map[string]string{}
		for _, group := range []struct {
			field    string
			clusters []SeedCluster
		}{{"clusters", p.Clusters}, {"flexClusters", p.FlexClusters}} {
			for ci, c := range group.clusters {
				cp := fmt.Sprintf("%s.%s[%d]", pp, group.field, ci)
				errs.cluster(cp, c, clusterAt, snapshotAt, jobAt)
				errs.clusterInfo(cp, c, group.field == "flexClusters")
			}
		}
	}
	return errs.err()
}

// cluster checks one tenant or Flex cluster; the maps record where names
// and ids were first seen, to report duplicates.
func (e *seedErrors) cluster(cp string, c SeedCluster, clusterAt, snapshotAt, jobAt map[string]string) {
	switch {
	case c.Name == "":
		e.add("%s.name: required", cp)
	case !clusterNamePattern.MatchString(c.Name):
		e.add("%s.name: %q is not a valid cluster name (want ^[a-zA-Z0-9][a-zA-Z0-9-]*$)", cp, c.Name)
	}
	if first, dup := clusterAt[c.Name]; dup && c.Name != "" {
		e.add("%s.name: duplicate cluster name %q in this project (first at %s)", cp, c.Name, first)
	} else {
		clusterAt[c.Name] = cp + ".name"
	}
	inCluster := map[string]bool{}
	for si, s := range c.Snapshots {
		sp := fmt.Sprintf("%s.snapshots[%d]", cp, si)
		e.snapshot(sp, s)
		if first, dup := snapshotAt[s.ID]; dup && s.ID != "" {
			e.add("%s.id: duplicate snapshot id %q (first at %s)", sp, s.ID, first)
		} else {
			snapshotAt[s.ID] = sp + ".id"
		}
		inCluster[s.ID] = true
	}
	for ji, j := range c.RestoreJobs {
		jp := fmt.Sprintf("%s.restoreJobs[%d]", cp, ji)
		e.restoreJob(jp, j)
		if j.SnapshotID != "" && hexIDPattern.MatchString(j.SnapshotID) && !inCluster[j.SnapshotID] {
			e.add("%s.snapshotId: no snapshot %q in this cluster", jp, j.SnapshotID)
		}
		if first, dup := jobAt[j.ID]; dup && j.ID != "" {
			e.add("%s.id: duplicate restore job id %q (first at %s)", jp, j.ID, first)
		} else {
			jobAt[j.ID] = jp + ".id"
		}
	}
}

func (e *seedErrors) snapshot(path string, s SeedSnapshot) {
	e.id(path+".id", s.ID)
	e.status(path+".status", s.Status)
	e.date(path+".scheduledTime", s.ScheduledTime)
	e.date(path+".startTime", s.StartTime)
	e.date(path+".expiration", s.Expiration)
	e.date(path+".finishTime", s.FinishTime)
	if s.Status == StatusCompleted && s.FinishTime == "" {
		e.add("%s.finishTime: required when status is COMPLETED", path)
	}
}

func (e *seedErrors) restoreJob(path string, j SeedRestoreJob) {
	e.id(path+".id", j.ID)
	e.id(path+".snapshotId", j.SnapshotID)
	e.status(path+".status", j.Status)
	switch j.DeliveryType {
	case "", deliveryDownload, deliveryRestore:
	default:
		e.add("%s.deliveryType: %q is not one of DOWNLOAD, RESTORE", path, j.DeliveryType)
	}
	if j.RestoreScheduledDate == "" {
		e.add("%s.restoreScheduledDate: required", path)
	}
	e.date(path+".restoreScheduledDate", j.RestoreScheduledDate)
	e.date(path+".expirationDate", j.ExpirationDate)
	e.date(path+".restoreFinishedDate", j.RestoreFinishedDate)
}

// validateSnapshot checks one snapshot outside a seed (AddSnapshot).
func validateSnapshot(s SeedSnapshot) error {
	var errs seedErrors
	errs.snapshot("snapshot", s)
	return errs.err()
}

// timeLayout is how every date leaves the simulator: UTC, second precision.
const timeLayout = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseSeedTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{} // validated before use
	}
	return t.UTC()
}
