// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The project and cluster reads: what a configuration that looks a cluster
// up with another provider (MongoDB's own, say) asks before it downloads
// with this one. Shapes follow the published description: Group
// (2023-01-01), ClusterDescription20240805, FlexClusterDescription20241113;
// v1.0 clusters answer the legacy shape, whose providerSettings name a
// tenant cluster's provider TENANT, its backingProviderName and its
// instanceSizeName (M2, M5).

// mediaTypeClusters is the version the published description gives
// listClusters and getCluster.
const mediaTypeClusters = "application/vnd.atlas.2024-08-05+json"

// The read families. They share the routing, authentication, rate limits,
// faults and version gate of the backup families, but outlive the tenant
// backup sunset (noSunset).
var (
	groupV2 = &family{
		prefix: "/api/atlas/v2/groups/{groupId}", mediaType: mediaTypeTenantV2, versioned: true,
		version: "2023-01-01", noSunset: true, paged: true, rateLimitCode: codeRateLimitedTokenBucket,
	}
	clustersV1 = &family{
		prefix: "/api/atlas/v1.0/groups/{groupId}/clusters", clusterParam: "clusterName", mediaType: "application/json",
		noSunset: true, paged: true, clusterNotFound: codeClusterNotFound, rateLimitCode: codeRateLimited,
	}
	clustersV2 = &family{
		prefix: "/api/atlas/v2/groups/{groupId}/clusters", clusterParam: "clusterName", mediaType: mediaTypeClusters,
		versioned: true, version: "2024-08-05", noSunset: true, paged: true,
		clusterNotFound: codeClusterNotFound, rateLimitCode: codeRateLimitedTokenBucket,
	}
	flexClustersV2 = &family{
		prefix: "/api/atlas/v2/groups/{groupId}/flexClusters", clusterParam: "name", mediaType: mediaTypeFlex,
		versioned: true, version: "2024-11-13", flex: true, paged: true,
		clusterNotFound: codeFlexClusterNotFound, rateLimitCode: codeRateLimitedTokenBucket,
	}
)

// readRoute is a GET row of family f.
func readRoute(f *family, pattern string, handle func(*call)) route {
	rt := newRoute(http.MethodGet, pattern, true, handle)
	rt.fam = f
	return rt
}

// readRoutes are the route table rows of the project and cluster reads.
func readRoutes() []route {
	clusters := func(f *family, shape clusterShapeKind) []route {
		return []route{
			readRoute(f, f.prefix, func(c *call) { f.listClusters(c, shape) }),
			readRoute(f, f.prefix+"/{"+f.clusterParam+"}", func(c *call) { f.getCluster(c, shape) }),
		}
	}
	getGroup := projectRead(func(c *call, p *projectState) any { return groupViewOf(c, p) })
	routes := append(lookupRoutes(), readRoute(groupV2, groupV2.prefix, getGroup))
	routes = append(routes, clusters(clustersV1, legacyShape)...)
	routes = append(routes, clusters(clustersV2, clusterShape20240805)...)
	return append(routes, clusters(flexClustersV2, flexShape)...)
}

// projectInfo is what a project read shows beyond its id.
type projectInfo struct {
	name, orgID string
	created     time.Time
}

func newProjectInfo(p SeedProject) projectInfo {
	return projectInfo{
		name:    cmp.Or(p.Name, "Project-"+p.ID),
		orgID:   cmp.Or(p.OrgID, DefaultOrgID),
		created: parseSeedTime(cmp.Or(p.Created, DefaultCreated)),
	}
}

// clusterInfo is what a cluster read shows beyond its name and snapshots.
type clusterInfo struct {
	id, backingProvider, region, instanceSize, mongoDBVersion string
	created                                                   time.Time
}

func newClusterInfo(projectID string, c SeedCluster, flex bool) clusterInfo {
	id := c.ID
	if id == "" {
		// Stable across runs, so that a configuration can pin it.
		sum := sha256.Sum256([]byte(projectID + "/" + c.Name))
		id = hex.EncodeToString(sum[:12])
	}
	size := c.InstanceSizeName
	if size == "" && !flex {
		size = "M2"
	}
	return clusterInfo{
		id:              id,
		backingProvider: cmp.Or(c.BackingProviderName, "AWS"),
		region:          cmp.Or(c.RegionName, "US_EAST_1"),
		instanceSize:    size,
		mongoDBVersion:  cmp.Or(c.MongoDBVersion, DefaultMongoDBVersion),
		created:         parseSeedTime(cmp.Or(c.CreateDate, DefaultCreated)),
	}
}

var (
	projectNamePattern = regexp.MustCompile(`^[\p{L}\p{N}\-_.(),:&@+']{1,64}$`)
	regionNamePattern  = regexp.MustCompile(`^[A-Z0-9_]+$`)
	versionPattern     = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

// project checks the project fields that only the project read shows.
func (e *seedErrors) project(pp string, p SeedProject) {
	if p.Name != "" && !projectNamePattern.MatchString(p.Name) {
		e.add("%s.name: %q is not a valid project name (1 to 64 letters, digits and -_.(),:&@+')", pp, p.Name)
	}
	if p.OrgID != "" {
		e.id(pp+".orgId", p.OrgID)
	}
	e.date(pp+".created", p.Created)
}

// clusterInfo checks the cluster fields that only the cluster reads show.
func (e *seedErrors) clusterInfo(cp string, c SeedCluster, flex bool) {
	if c.ID != "" {
		e.id(cp+".id", c.ID)
	}
	switch {
	case flex && c.InstanceSizeName != "":
		e.add("%s.instanceSizeName: a Flex cluster has no instance size", cp)
	case !flex && c.InstanceSizeName != "" && c.InstanceSizeName != "M2" && c.InstanceSizeName != "M5":
		e.add("%s.instanceSizeName: %q is not one of M2, M5", cp, c.InstanceSizeName)
	}
	switch c.BackingProviderName {
	case "", "AWS", "AZURE", "GCP":
	default:
		e.add("%s.backingProviderName: %q is not one of AWS, AZURE, GCP", cp, c.BackingProviderName)
	}
	if c.RegionName != "" && !regionNamePattern.MatchString(c.RegionName) {
		e.add("%s.regionName: %q is not an Atlas region name like US_EAST_1", cp, c.RegionName)
	}
	if c.MongoDBVersion != "" && !versionPattern.MatchString(c.MongoDBVersion) {
		e.add("%s.mongoDBVersion: %q is not a version like 7.0.14", cp, c.MongoDBVersion)
	}
	e.date(cp+".createDate", c.CreateDate)
}

// projectLocked resolves a project as clusterLocked does.
func (s *Server) projectLocked(groupID string) (*projectState, *apiError) {
	if !hexIDPattern.MatchString(groupID) {
		return nil, newAPIError(http.StatusNotFound, codeInvalidGroupID,
			fmt.Sprintf("The specified group ID %s is invalid.", groupID), groupID)
	}
	p := s.projects[groupID]
	if p == nil {
		return nil, newAPIError(http.StatusNotFound, codeGroupNotFound,
			fmt.Sprintf("No group with ID %s exists.", groupID), groupID)
	}
	return p, nil
}

type groupView struct {
	ClusterCount int64  `json:"clusterCount"`
	Created      string `json:"created"`
	ID           string `json:"id"`
	Links        []link `json:"links"`
	Name         string `json:"name"`
	OrgID        string `json:"orgId"`
}

// groupViewOf is the project as GET /api/atlas/v2/groups/{groupId} shows
// it; the state must be locked. clusterCount counts tenant and Flex
// clusters alike.
func groupViewOf(c *call, p *projectState) groupView {
	return groupView{
		ClusterCount: int64(len(p.clusters)),
		Created:      formatTime(p.info.created),
		ID:           p.id,
		Links:        selfLinks(c.origin() + "/api/atlas/v2/groups/" + url.PathEscape(p.id)),
		Name:         p.info.name,
		OrgID:        p.info.orgID,
	}
}

// clusterShapeKind picks the shape of a cluster read.
type clusterShapeKind int

const (
	legacyShape          clusterShapeKind = iota // v1.0: providerSettings
	clusterShape20240805                         // v2: replicationSpecs
	flexShape                                    // v2 Flex: FLEX providerSettings
)

func (f *family) listClusters(c *call, shape clusterShapeKind) {
	p, e := f.parsePage(c)
	if e != nil {
		c.fail(e)
		return
	}
	c.s.mu.Lock()
	ps, e := c.s.projectLocked(c.params["groupId"])
	var views []any
	if e == nil {
		names := make([]string, 0, len(ps.clusters))
		for name, cs := range ps.clusters {
			if cs.flex == f.flex {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		views = make([]any, 0, len(names))
		for _, name := range names {
			views = append(views, f.clusterView(c, ps.id, ps.clusters[name], shape))
		}
	}
	c.s.mu.Unlock()
	if e != nil {
		c.fail(e)
		return
	}
	writeListPage(c, views, p)
}

func (f *family) getCluster(c *call, shape clusterShapeKind) {
	var view any
	e := f.withCluster(c, func(cs *clusterState) *apiError {
		view = f.clusterView(c, c.params["groupId"], cs, shape)
		return nil
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.writeObject(view)
}

type connectionStrings struct {
	StandardSrv string `json:"standardSrv"`
}

// legacyClusterView is the v1.0 cluster. autoScaling, biConnector and
// providerSettings.autoScaling are not in the reference; real Atlas sends
// them, and MongoDB's provider dereferences them unchecked.
type legacyClusterView struct {
	AutoScaling           legacyAutoScaling      `json:"autoScaling"`
	BackupEnabled         bool                   `json:"backupEnabled"`
	BiConnector           legacyBiConnector      `json:"biConnector"`
	ClusterType           string                 `json:"clusterType"`
	ConnectionStrings     connectionStrings      `json:"connectionStrings"`
	CreateDate            string                 `json:"createDate"`
	DiskSizeGB            float64                `json:"diskSizeGB"`
	GroupID               string                 `json:"groupId"`
	ID                    string                 `json:"id"`
	Links                 []link                 `json:"links"`
	MongoDBMajorVersion   string                 `json:"mongoDBMajorVersion"`
	MongoDBVersion        string                 `json:"mongoDBVersion"`
	Name                  string                 `json:"name"`
	NumShards             int                    `json:"numShards"`
	Paused                bool                   `json:"paused"`
	PitEnabled            bool                   `json:"pitEnabled"`
	ProviderBackupEnabled bool                   `json:"providerBackupEnabled"`
	ProviderSettings      legacyProviderSettings `json:"providerSettings"`
	RestoredFrom          *restoredFromView      `json:"restoredFrom,omitempty"`
	StateName             string                 `json:"stateName"`
	VersionReleaseSystem  string                 `json:"versionReleaseSystem"`
}

// legacyAutoScaling is the v1.0 autoScaling: off, as tenant clusters
// cannot scale. Under providerSettings only its empty compute is sent (no
// instance size bounds).
type legacyAutoScaling struct {
	Compute       legacyCompute `json:"compute"`
	DiskGBEnabled *bool         `json:"diskGBEnabled,omitempty"`
}

type legacyCompute struct {
	Enabled          *bool `json:"enabled,omitempty"`
	ScaleDownEnabled *bool `json:"scaleDownEnabled,omitempty"`
}

type legacyBiConnector struct {
	Enabled        bool   `json:"enabled"`
	ReadPreference string `json:"readPreference"`
}

type legacyProviderSettings struct {
	AutoScaling         legacyAutoScaling `json:"autoScaling"`
	BackingProviderName string            `json:"backingProviderName"`
	InstanceSizeName    string            `json:"instanceSizeName"`
	ProviderName        string            `json:"providerName"`
	RegionName          string            `json:"regionName"`
}

// clusterView20240805 is ClusterDescription20240805: one replication spec
// with one TENANT region config.
type clusterView20240805 struct {
	BackupEnabled                bool              `json:"backupEnabled"`
	ClusterType                  string            `json:"clusterType"`
	ConnectionStrings            connectionStrings `json:"connectionStrings"`
	CreateDate                   string            `json:"createDate"`
	GroupID                      string            `json:"groupId"`
	ID                           string            `json:"id"`
	Links                        []link            `json:"links"`
	MongoDBMajorVersion          string            `json:"mongoDBMajorVersion"`
	MongoDBVersion               string            `json:"mongoDBVersion"`
	Name                         string            `json:"name"`
	Paused                       bool              `json:"paused"`
	PitEnabled                   bool              `json:"pitEnabled"`
	ReplicationSpecs             []replicationSpec `json:"replicationSpecs"`
	RestoredFrom                 *restoredFromView `json:"restoredFrom,omitempty"`
	StateName                    string            `json:"stateName"`
	TerminationProtectionEnabled bool              `json:"terminationProtectionEnabled"`
	VersionReleaseSystem         string            `json:"versionReleaseSystem"`
}

type replicationSpec struct {
	ID            string         `json:"id"`
	RegionConfigs []regionConfig `json:"regionConfigs"`
	ZoneID        string         `json:"zoneId"`
	ZoneName      string         `json:"zoneName"`
}

type regionConfig struct {
	BackingProviderName string       `json:"backingProviderName"`
	ElectableSpecs      hardwareSpec `json:"electableSpecs"`
	Priority            int          `json:"priority"`
	ProviderName        string       `json:"providerName"`
	RegionName          string       `json:"regionName"`
}

type hardwareSpec struct {
	DiskSizeGB   float64 `json:"diskSizeGB"`
	InstanceSize string  `json:"instanceSize"`
}

// flexClusterView is FlexClusterDescription20241113.
type flexClusterView struct {
	BackupSettings               flexBackupSettings   `json:"backupSettings"`
	ClusterType                  string               `json:"clusterType"`
	ConnectionStrings            connectionStrings    `json:"connectionStrings"`
	CreateDate                   string               `json:"createDate"`
	GroupID                      string               `json:"groupId"`
	ID                           string               `json:"id"`
	Links                        []link               `json:"links"`
	MongoDBVersion               string               `json:"mongoDBVersion"`
	Name                         string               `json:"name"`
	ProviderSettings             flexProviderSettings `json:"providerSettings"`
	RestoredFrom                 *restoredFromView    `json:"restoredFrom,omitempty"`
	StateName                    string               `json:"stateName"`
	TerminationProtectionEnabled bool                 `json:"terminationProtectionEnabled"`
	VersionReleaseSystem         string               `json:"versionReleaseSystem"`
}

type flexBackupSettings struct {
	Enabled bool `json:"enabled"`
}

type flexProviderSettings struct {
	BackingProviderName string  `json:"backingProviderName"`
	DiskSizeGB          float64 `json:"diskSizeGB"`
	ProviderName        string  `json:"providerName"`
	RegionName          string  `json:"regionName"`
}

// tenantDiskGB is the storage of each tenant size; Flex clusters get 5 GB.
var tenantDiskGB = map[string]float64{"M2": 2, "M5": 5}

// clusterView renders one cluster in the family's shape; the state must be
// locked.
func (f *family) clusterView(c *call, groupID string, cs *clusterState, shape clusterShapeKind) any {
	in := cs.info
	self := c.origin() + strings.Replace(f.prefix, "{groupId}", url.PathEscape(groupID), 1) + "/" + url.PathEscape(cs.name)
	srv := connectionStrings{StandardSrv: "mongodb+srv://" + strings.ToLower(cs.name) + "." + in.id[18:] + ".atlassim.invalid"}
	// mongoDBMajorVersion is "7.0" for 7.0.14 (the seed checks the form).
	major := strings.Join(strings.SplitN(in.mongoDBVersion, ".", 3)[:2], ".")
	restored := cs.restoredFrom(c.now)
	switch shape {
	case legacyShape:
		off := false
		return legacyClusterView{
			AutoScaling: legacyAutoScaling{Compute: legacyCompute{Enabled: &off, ScaleDownEnabled: &off}, DiskGBEnabled: &off},
			BiConnector: legacyBiConnector{ReadPreference: "secondary"},
			ClusterType: "REPLICASET", ConnectionStrings: srv, CreateDate: formatTime(in.created),
			DiskSizeGB: tenantDiskGB[in.instanceSize], GroupID: groupID, ID: in.id, Links: selfLinks(self),
			MongoDBMajorVersion: major, MongoDBVersion: in.mongoDBVersion, Name: cs.name, NumShards: 1,
			ProviderSettings: legacyProviderSettings{
				BackingProviderName: in.backingProvider, InstanceSizeName: in.instanceSize,
				ProviderName: "TENANT", RegionName: in.region,
			},
			RestoredFrom: restored, StateName: "IDLE", VersionReleaseSystem: "LTS",
		}
	case clusterShape20240805:
		return clusterView20240805{
			ClusterType: "REPLICASET", ConnectionStrings: srv, CreateDate: formatTime(in.created),
			GroupID: groupID, ID: in.id, Links: selfLinks(self),
			MongoDBMajorVersion: major, MongoDBVersion: in.mongoDBVersion, Name: cs.name,
			ReplicationSpecs: []replicationSpec{{
				// Derived ids, stable like the cluster's.
				ID: derivedID(in.id, "spec"), ZoneID: derivedID(in.id, "zone"), ZoneName: "Zone 1",
				RegionConfigs: []regionConfig{{
					BackingProviderName: in.backingProvider,
					ElectableSpecs:      hardwareSpec{DiskSizeGB: tenantDiskGB[in.instanceSize], InstanceSize: in.instanceSize},
					Priority:            7, ProviderName: "TENANT", RegionName: in.region,
				}},
			}},
			RestoredFrom: restored, StateName: "IDLE", VersionReleaseSystem: "LTS",
		}
	default:
		return flexClusterView{
			BackupSettings: flexBackupSettings{Enabled: true}, ClusterType: "REPLICASET", ConnectionStrings: srv,
			CreateDate: formatTime(in.created), GroupID: groupID, ID: in.id, Links: selfLinks(self),
			MongoDBVersion: in.mongoDBVersion, Name: cs.name,
			ProviderSettings: flexProviderSettings{
				BackingProviderName: in.backingProvider, DiskSizeGB: 5, ProviderName: "FLEX", RegionName: in.region,
			},
			RestoredFrom: restored, StateName: "IDLE", VersionReleaseSystem: "LTS",
		}
	}
}

func derivedID(id, what string) string {
	sum := sha256.Sum256([]byte(id + "/" + what))
	return hex.EncodeToString(sum[:12])
}
