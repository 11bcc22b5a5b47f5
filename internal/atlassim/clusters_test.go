// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	projectV2Path  = "/api/atlas/v2/groups/" + DefaultProjectID
	clustersV1Path = "/api/atlas/v1.0/groups/" + DefaultProjectID + "/clusters"
	clustersV2Path = projectV2Path + "/clusters"
	flexListPath   = projectV2Path + "/flexClusters"
)

// dig walks a decoded JSON value by object keys and array indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func TestProjectAndClusterReads(t *testing.T) {
	env := newSimEnv(t, Config{})
	v1 := env.client()
	group := env.client("Accept", mediaTypeTenantV2)
	v2 := env.client("Accept", mediaTypeClusters)
	flex := env.client("Accept", mediaTypeFlex)
	url := env.srv.URL

	cases := []struct {
		name string
		c    *digestClient
		uri  string
		ct   string
		want map[string]any // dig path (dot-separated, numbers index arrays) -> value
	}{
		{"project", group, projectV2Path, mediaTypeTenantV2, map[string]any{
			"id": DefaultProjectID, "name": "Project-" + DefaultProjectID, "orgId": DefaultOrgID,
			"clusterCount": 3.0, "created": DefaultCreated, "links.0.href": url + projectV2Path,
		}},
		{"v1.0 cluster list", v1, clustersV1Path, "application/json", map[string]any{
			"totalCount": 2.0, "results.0.name": DefaultClusterName, "results.1.name": DefaultSecondClusterName,
			"results.0.providerSettings.providerName": "TENANT", "results.0.providerSettings.backingProviderName": "AWS",
			"results.0.providerSettings.instanceSizeName": "M2", "results.0.providerSettings.regionName": "US_EAST_1",
			"results.0.groupId": DefaultProjectID, "results.0.mongoDBVersion": DefaultMongoDBVersion,
			"results.0.mongoDBMajorVersion": "7.0", "results.0.stateName": "IDLE", "results.0.diskSizeGB": 2.0,
		}},
		{"v1.0 cluster", v1, clustersV1Path + "/" + DefaultClusterName, "application/json", map[string]any{
			"name": DefaultClusterName, "providerSettings.providerName": "TENANT", "providerSettings.instanceSizeName": "M2",
			"links.0.href": url + clustersV1Path + "/" + DefaultClusterName,
		}},
		{"v2 cluster list", v2, clustersV2Path, mediaTypeClusters, map[string]any{
			"totalCount": 2.0, "results.0.name": DefaultClusterName,
			"results.0.replicationSpecs.0.regionConfigs.0.providerName":                "TENANT",
			"results.0.replicationSpecs.0.regionConfigs.0.backingProviderName":         "AWS",
			"results.0.replicationSpecs.0.regionConfigs.0.electableSpecs.instanceSize": "M2",
		}},
		{"v2 cluster", v2, clustersV2Path + "/" + DefaultClusterName, mediaTypeClusters, map[string]any{
			"name": DefaultClusterName, "clusterType": "REPLICASET", "stateName": "IDLE",
			"replicationSpecs.0.regionConfigs.0.regionName": "US_EAST_1", "replicationSpecs.0.regionConfigs.0.priority": 7.0,
			"links.0.href": url + clustersV2Path + "/" + DefaultClusterName,
		}},
		{"flex list", flex, flexListPath, mediaTypeFlex, map[string]any{
			"totalCount": 1.0, "results.0.name": DefaultFlexClusterName, "results.0.providerSettings.providerName": "FLEX",
		}},
		{"flex cluster", flex, flexListPath + "/" + DefaultFlexClusterName, mediaTypeFlex, map[string]any{
			"name": DefaultFlexClusterName, "providerSettings.providerName": "FLEX", "providerSettings.backingProviderName": "AWS",
			"providerSettings.diskSizeGB": 5.0, "backupSettings.enabled": true, "groupId": DefaultProjectID,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := tc.c.do(http.MethodGet, tc.uri, "")
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.ct {
				t.Fatalf("status %d, Content-Type %q, want 200 and %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.ct, data)
			}
			var body any
			if err := json.Unmarshal(data, &body); err != nil {
				t.Fatal(err)
			}
			for path, want := range tc.want {
				var steps []any
				for _, p := range strings.Split(path, ".") {
					var n int
					if _, err := fmt.Sscanf(p, "%d", &n); err == nil {
						steps = append(steps, n)
					} else {
						steps = append(steps, p)
					}
				}
				if got := dig(body, steps...); got != want {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
		})
	}
	// The id of a cluster is stable: the same on every read and every path.
	a := v1.getJSON(http.MethodGet, clustersV1Path+"/"+DefaultClusterName, "", http.StatusOK)
	b := v2.getJSON(http.MethodGet, clustersV2Path+"/"+DefaultClusterName, "", http.StatusOK)
	if a["id"] == nil || a["id"] != b["id"] || !hexIDPattern.MatchString(a["id"].(string)) {
		t.Errorf("cluster ids %v and %v, want one 24-hex id", a["id"], b["id"])
	}
}

func TestProjectAndClusterReadErrors(t *testing.T) {
	env := newSimEnv(t, Config{})
	v1 := env.client()
	group := env.client("Accept", mediaTypeTenantV2)
	v2 := env.client("Accept", mediaTypeClusters)
	flex := env.client("Accept", mediaTypeFlex)
	const unknownID = "0123456789abcdef01234567"
	cases := []struct {
		name   string
		c      *digestClient
		uri    string
		status int
		code   string
	}{
		{"unknown project", group, "/api/atlas/v2/groups/" + unknownID, 404, codeGroupNotFound},
		{"malformed project id", group, "/api/atlas/v2/groups/xyz", 404, codeInvalidGroupID},
		{"clusters of an unknown project", v2, "/api/atlas/v2/groups/" + unknownID + "/clusters", 404, codeGroupNotFound},
		{"v1.0 clusters of an unknown project", v1, "/api/atlas/v1.0/groups/" + unknownID + "/clusters", 404, codeGroupNotFound},
		{"unknown cluster", v2, clustersV2Path + "/Nope", 404, codeClusterNotFound},
		{"unknown v1.0 cluster", v1, clustersV1Path + "/Nope", 404, codeClusterNotFound},
		{"flex cluster on the cluster path", v2, clustersV2Path + "/" + DefaultFlexClusterName, 400, codeFlexInClusterAPI},
		{"tenant cluster on the flex path", flex, flexListPath + "/" + DefaultClusterName, 400, codeNonFlexInFlexAPI},
		{"unknown flex cluster", flex, flexListPath + "/Nope", 404, codeFlexClusterNotFound},
		{"project without its version", v1, projectV2Path, 406, codeInvalidVersion},
		{"clusters asked as 2023-01-01", group, clustersV2Path, 406, codeInvalidVersion},
		{"bad paging", v2, clustersV2Path + "?itemsPerPage=501", 400, codeInvalidQueryParameter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := tc.c.do(http.MethodGet, tc.uri, "")
			apiErrorBody(t, resp, data, tc.status, tc.code)
		})
	}
}

func TestClusterListsPage(t *testing.T) {
	env := newSimEnv(t, Config{})
	v2 := env.client("Accept", mediaTypeClusters)
	page := v2.getJSON(http.MethodGet, clustersV2Path+"?itemsPerPage=1&pageNum=2", "", http.StatusOK)
	results, _ := page["results"].([]any)
	if len(results) != 1 || dig(results, 0, "name") != DefaultSecondClusterName || page["totalCount"] != 2.0 {
		t.Errorf("page 2 of 1 = %v, want %s alone of 2", page, DefaultSecondClusterName)
	}
}

func TestClusterReadsFromTheSeed(t *testing.T) {
	seed := &Seed{Projects: []SeedProject{{
		ID: DefaultProjectID, Name: "Reports_2026", OrgID: "aaaaaaaaaaaaaaaaaaaaaaaa", Created: "2025-03-04T05:06:07Z",
		Clusters: []SeedCluster{{
			Name: "Big", ID: "bbbbbbbbbbbbbbbbbbbbbbbb", InstanceSizeName: "M5", BackingProviderName: "GCP",
			RegionName: "CENTRAL_US", MongoDBVersion: "8.0.4", CreateDate: "2025-03-05T00:00:00Z",
		}},
		FlexClusters: []SeedCluster{{Name: "F", BackingProviderName: "AZURE", RegionName: "US_EAST_2"}},
	}}}
	env := newSimEnv(t, Config{Seed: seed})
	p := env.client("Accept", mediaTypeTenantV2).getJSON(http.MethodGet, projectV2Path, "", http.StatusOK)
	if p["name"] != "Reports_2026" || p["orgId"] != "aaaaaaaaaaaaaaaaaaaaaaaa" || p["created"] != "2025-03-04T05:06:07Z" || p["clusterCount"] != 2.0 {
		t.Errorf("project = %v", p)
	}
	c := env.client().getJSON(http.MethodGet, clustersV1Path+"/Big", "", http.StatusOK)
	if c["id"] != "bbbbbbbbbbbbbbbbbbbbbbbb" || dig(c, "providerSettings", "instanceSizeName") != "M5" ||
		dig(c, "providerSettings", "backingProviderName") != "GCP" || dig(c, "providerSettings", "regionName") != "CENTRAL_US" ||
		c["mongoDBVersion"] != "8.0.4" || c["mongoDBMajorVersion"] != "8.0" || c["createDate"] != "2025-03-05T00:00:00Z" || c["diskSizeGB"] != 5.0 {
		t.Errorf("v1.0 cluster = %v", c)
	}
	v2 := env.client("Accept", mediaTypeClusters).getJSON(http.MethodGet, clustersV2Path+"/Big", "", http.StatusOK)
	if dig(v2, "replicationSpecs", 0, "regionConfigs", 0, "electableSpecs", "instanceSize") != "M5" {
		t.Errorf("v2 cluster = %v", v2)
	}
	f := env.client("Accept", mediaTypeFlex).getJSON(http.MethodGet, flexListPath+"/F", "", http.StatusOK)
	if dig(f, "providerSettings", "backingProviderName") != "AZURE" || dig(f, "providerSettings", "regionName") != "US_EAST_2" {
		t.Errorf("flex cluster = %v", f)
	}
}

func TestSeedClusterFieldsAreChecked(t *testing.T) {
	base := func(project, cluster, flex string) string {
		return `{"projects":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa"` + project + `,"clusters":[{"name":"C"` + cluster +
			`,"snapshots":[]}],"flexClusters":[{"name":"F"` + flex + `,"snapshots":[]}]}]}`
	}
	if _, err := ParseSeed([]byte(base(`,"name":"P","orgId":"bbbbbbbbbbbbbbbbbbbbbbbb"`, `,"instanceSizeName":"M5","regionName":"EU_WEST_1"`, `,"backingProviderName":"GCP"`))); err != nil {
		t.Fatalf("a good seed: %v", err)
	}
	cases := []struct{ seed, want string }{
		{base(`,"name":"has space"`, "", ""), "projects[0].name"},
		{base(`,"orgId":"x"`, "", ""), "projects[0].orgId"},
		{base(`,"created":"yesterday"`, "", ""), "projects[0].created"},
		{base("", `,"instanceSizeName":"M10"`, ""), "projects[0].clusters[0].instanceSizeName"},
		{base("", "", `,"instanceSizeName":"M2"`), "projects[0].flexClusters[0].instanceSizeName"},
		{base("", `,"backingProviderName":"IBM"`, ""), "projects[0].clusters[0].backingProviderName"},
		{base("", `,"regionName":"us-east-1"`, ""), "projects[0].clusters[0].regionName"},
		{base("", `,"mongoDBVersion":"7"`, ""), "projects[0].clusters[0].mongoDBVersion"},
		{base("", `,"id":"short"`, ""), "projects[0].clusters[0].id"},
		{base("", `,"createDate":"soon"`, ""), "projects[0].clusters[0].createDate"},
	}
	for _, tc := range cases {
		if _, err := ParseSeed([]byte(tc.seed)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSeed(%s) = %v, want an error naming %s", tc.seed, err, tc.want)
		}
	}
}

func TestClusterReadsOutliveTheTenantSunset(t *testing.T) {
	env := newSimEnv(t, Config{TenantSunset: true})
	env.client("Accept", mediaTypeClusters).getJSON(http.MethodGet, clustersV2Path+"/"+DefaultClusterName, "", http.StatusOK)
	env.client().getJSON(http.MethodGet, clustersV1Path, "", http.StatusOK)
	env.client("Accept", mediaTypeTenantV2).getJSON(http.MethodGet, projectV2Path, "", http.StatusOK)
	resp, data := env.client().do(http.MethodGet, tenantBase+"/snapshots", "")
	apiErrorBody(t, resp, data, http.StatusNotFound, codeResourceNotFound)
}

// TestTenantListsAreUnpaged: the published description gives the tenant
// lists no paging parameters, so every item comes on one page, whatever
// pageNum, itemsPerPage or includeCount say, with a count and no next link.
func TestTenantListsAreUnpaged(t *testing.T) {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var snaps []SeedSnapshot
	for i := range 7 {
		at := base.Add(time.Duration(i) * time.Hour)
		snaps = append(snaps, SeedSnapshot{ID: fmt.Sprintf("%024x", i+1), Status: StatusCompleted,
			ScheduledTime: formatTime(at), FinishTime: formatTime(at.Add(time.Minute))})
	}
	seed := &Seed{Projects: []SeedProject{{ID: DefaultProjectID, Clusters: []SeedCluster{{Name: DefaultClusterName, Snapshots: snaps}}}}}
	env := newSimEnv(t, Config{Seed: seed})
	for _, c := range []struct {
		client *digestClient
		base   string
	}{{env.client(), tenantBase}, {env.client("Accept", mediaTypeTenantV2), tenantV2Base}} {
		for _, q := range []string{"", "?itemsPerPage=3&pageNum=2", "?includeCount=false&itemsPerPage=1", "?pageNum=abc&itemsPerPage=0"} {
			resp, data := c.client.do(http.MethodGet, c.base+"/snapshots"+q, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s%s: status %d: %s", c.base, q, resp.StatusCode, data)
			}
			var body listBody
			if err := json.Unmarshal(data, &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Results) != 7 || body.TotalCount == nil || *body.TotalCount != 7 {
				t.Errorf("%s%s: %d results, totalCount %v; want all 7", c.base, q, len(body.Results), body.TotalCount)
			}
			if len(body.Links) != 1 || body.Links[0].Rel != "self" || body.Links[0].Href != env.srv.URL+c.base+"/snapshots"+q {
				t.Errorf("%s%s: links %v, want only self, the URL as asked", c.base, q, body.Links)
			}
		}
		jobs := c.client.getJSON(http.MethodGet, c.base+"/restores?itemsPerPage=1&pageNum=5", "", http.StatusOK)
		if r, ok := jobs["results"].([]any); !ok || r == nil || jobs["totalCount"] != 0.0 {
			t.Errorf("restores = %v, want an empty list with a count", jobs)
		}
	}
}
