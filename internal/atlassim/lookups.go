// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"fmt"
	"net/http"
	"time"
)

// The other reads MongoDB's own provider makes when a configuration looks a
// project or a cluster up (measured with its 2.16 build), so that mixed
// configurations run against the simulator: its project data source reads
// the project by id or name, then its teams, limits, settings, IP addresses,
// slow-operation setting and users; its cluster data sources read
// processArgs (in two versions) and, on v1.0, the backup schedule.
//
// The reference is silent on all of them. Shapes follow MongoDB's published
// description (testdata/openapi-clusters.json); values are those of a
// project that holds tenant and Flex clusters only: no teams, users, limits
// or IP addresses to list, and the settings below.

// Deprecation and Sunset of the versions of the cluster reads that 2024-08-05
// replaced, as recorded from real Atlas traffic on the cluster read. The
// simulator assumes the same dates for processArgs 2023-01-01, replaced in
// the same release.
var (
	clusterReadDeprecated = time.Date(2024, 8, 5, 0, 0, 0, 0, time.UTC)
	clusterReadSunset     = time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)
)

var (
	usersV2 = &family{
		prefix: groupV2.prefix, mediaType: "application/vnd.atlas.2025-02-19+json", versioned: true,
		version: "2025-02-19", noSunset: true, paged: true, rateLimitCode: codeRateLimitedTokenBucket,
	}
	processArgsV2 = &family{
		prefix: clustersV2.prefix, clusterParam: "clusterName", mediaType: mediaTypeClusters, versioned: true,
		version: "2024-08-05", noSunset: true, clusterNotFound: codeClusterNotFound, rateLimitCode: codeRateLimitedTokenBucket,
		older: []servedVersion{{mediaType: mediaTypeTenantV2, deprecated: clusterReadDeprecated, sunset: clusterReadSunset}},
	}
)

// lookupRoutes are the route table rows of these reads. byName comes first:
// its path would otherwise read as a project whose id is "byName".
func lookupRoutes() []route {
	g := groupV2.prefix
	return []route{
		readRoute(groupV2, "/api/atlas/v2/groups/byName/{groupName}", getGroupByName),
		readRoute(groupV2, g+"/teams", emptyProjectList(groupV2)),
		readRoute(usersV2, g+"/users", emptyProjectList(usersV2)),
		readRoute(groupV2, g+"/limits", projectRead(func(*call, *projectState) any { return []struct{}{} })),
		readRoute(groupV2, g+"/settings", projectRead(func(*call, *projectState) any { return newProjectSettings })),
		readRoute(groupV2, g+"/ipAddresses", projectRead(ipAddresses)),
		// Managed slow-operation threshold on, as Atlas enables it by default (assumed).
		readRoute(groupV2, g+"/managedSlowMs", projectRead(func(*call, *projectState) any { return true })),
		readRoute(processArgsV2, processArgsV2.prefix+"/{clusterName}/processArgs", getProcessArgs),
		readRoute(clustersV1, clustersV1.prefix+"/{clusterName}/backup/schedule", getBackupSchedule),
	}
}

// getGroupByName is GET /api/atlas/v2/groups/byName/{groupName}. Seeds may
// repeat a name (Atlas keeps names unique per organization only): the
// lowest id wins. The request names no project, so no project's rate limit
// meters it.
func getGroupByName(c *call) {
	name := c.params["groupName"]
	c.s.mu.Lock()
	var found *projectState
	for _, p := range c.s.projects {
		if p.info.name == name && (found == nil || p.id < found.id) {
			found = p
		}
	}
	var view groupView
	if found != nil {
		view = groupViewOf(c, found)
	}
	c.s.mu.Unlock()
	if found == nil {
		c.fail(newAPIError(http.StatusNotFound, codeGroupNameNotFound,
			fmt.Sprintf("No group with name %q exists.", name), name))
		return
	}
	c.writeObject(view)
}

// projectRead answers what render makes of the request's project, or the
// project's 404.
func projectRead(render func(*call, *projectState) any) func(*call) {
	return func(c *call) {
		c.s.mu.Lock()
		p, e := c.s.projectLocked(c.params["groupId"])
		var v any
		if e == nil {
			v = render(c, p)
		}
		c.s.mu.Unlock()
		if e != nil {
			c.fail(e)
			return
		}
		c.writeObject(v)
	}
}

// emptyProjectList answers a paged list with nothing in it: the project's
// teams and users, which the simulator does not keep.
func emptyProjectList(f *family) func(*call) {
	return func(c *call) {
		p, e := f.parsePage(c)
		if e == nil {
			c.s.mu.Lock()
			_, e = c.s.projectLocked(c.params["groupId"])
			c.s.mu.Unlock()
		}
		if e != nil {
			c.fail(e)
			return
		}
		writeListPage(c, []struct{}{}, p)
	}
}

// projectSettings is GroupSettings. The values are the simulator's choice
// for a new project: the advisers and panels on, the opt-in features off.
type projectSettings struct {
	IsClusterAiAssistantEnabled                     bool `json:"isClusterAiAssistantEnabled"`
	IsCollectDatabaseSpecificsStatisticsEnabled     bool `json:"isCollectDatabaseSpecificsStatisticsEnabled"`
	IsDataExplorerEnabled                           bool `json:"isDataExplorerEnabled"`
	IsDataExplorerGenAIFeaturesEnabled              bool `json:"isDataExplorerGenAIFeaturesEnabled"`
	IsDataExplorerGenAISampleDocumentPassingEnabled bool `json:"isDataExplorerGenAISampleDocumentPassingEnabled"`
	IsExtendedStorageSizesEnabled                   bool `json:"isExtendedStorageSizesEnabled"`
	IsNativeRerankingEnabled                        bool `json:"isNativeRerankingEnabled"`
	IsPerformanceAdvisorEnabled                     bool `json:"isPerformanceAdvisorEnabled"`
	IsRealtimePerformancePanelEnabled               bool `json:"isRealtimePerformancePanelEnabled"`
	IsSchemaAdvisorEnabled                          bool `json:"isSchemaAdvisorEnabled"`
}

var newProjectSettings = projectSettings{
	IsCollectDatabaseSpecificsStatisticsEnabled: true,
	IsDataExplorerEnabled:                       true,
	IsPerformanceAdvisorEnabled:                 true,
	IsRealtimePerformancePanelEnabled:           true,
	IsSchemaAdvisorEnabled:                      true,
}

// ipAddresses is GroupIPAddresses. Atlas lists the addresses of dedicated
// clusters; tenant and Flex clusters have none of their own (an assumption).
func ipAddresses(_ *call, p *projectState) any {
	return struct {
		GroupID  string `json:"groupId"`
		Services struct {
			Clusters []struct{} `json:"clusters"`
		} `json:"services"`
	}{GroupID: p.id, Services: struct {
		Clusters []struct{} `json:"clusters"`
	}{Clusters: []struct{}{}}}
}

// processArgsView is ClusterDescriptionProcessArgs20240805, or without the
// TLS cipher fields ClusterDescriptionProcessArgs (2023-01-01): the values a
// tenant cluster showed in a recorded answer; unset arguments are left out.
type processArgsView struct {
	CustomOpensslCipherConfigTLS12 *[]string `json:"customOpensslCipherConfigTls12,omitempty"`
	JavascriptEnabled              bool      `json:"javascriptEnabled"`
	MinimumEnabledTLSProtocol      string    `json:"minimumEnabledTlsProtocol"`
	NoTableScan                    bool      `json:"noTableScan"`
	TLSCipherConfigMode            string    `json:"tlsCipherConfigMode,omitempty"`
}

// getProcessArgs is GET .../clusters/{clusterName}/processArgs, in the
// version the request asks for.
func getProcessArgs(c *call) {
	if e := processArgsV2.withCluster(c, func(*clusterState) *apiError { return nil }); e != nil {
		c.fail(e)
		return
	}
	v := processArgsView{JavascriptEnabled: true, MinimumEnabledTLSProtocol: "TLS1_2"}
	if c.contentType == processArgsV2.mediaType {
		v.CustomOpensslCipherConfigTLS12, v.TLSCipherConfigMode = &[]string{}, "DEFAULT"
	}
	c.writeObject(v)
}

// getBackupSchedule is GET /api/atlas/v1.0/.../backup/schedule. Tenant
// clusters have no Cloud Backup schedule (Atlas snapshots them daily on its
// own terms). The reference is silent on the answer; the simulator gives
// 404 BACKUP_CONFIG_NOT_FOUND, which MongoDB's provider reads as "no
// schedule".
func getBackupSchedule(c *call) {
	c.fail(clustersV1.withCluster(c, func(cs *clusterState) *apiError {
		return newAPIError(http.StatusNotFound, codeBackupConfigNotFound,
			fmt.Sprintf("No backup configuration exists for cluster %s.", cs.name), cs.name)
	}))
}
