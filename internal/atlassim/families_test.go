// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFamiliesShareTheLifecycle(t *testing.T) {
	cases := []struct {
		name, base, mediaType string
		restores, clusterKey  string
		cluster, snapshot     string
		deprecated            bool
	}{
		{"tenant v1.0", tenantBase, "application/json", "restores", "clusterName", DefaultClusterName, DefaultSnapshotID, false},
		{"tenant v2", tenantV2Base, mediaTypeTenantV2, "restores", "clusterName", DefaultClusterName, DefaultSnapshotID, true},
		{"flex", flexBase, mediaTypeFlex, "restoreJobs", "instanceName", DefaultFlexClusterName, DefaultFlexSnapshotID, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newSimEnv(t, Config{QueuedFor: time.Minute})
			c := env.client("Accept", tc.mediaType, "Content-Type", tc.mediaType)
			resp, data := c.do(http.MethodPost, tc.base+"/download", downloadBody(tc.snapshot))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("download: %d %s", resp.StatusCode, data)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.mediaType {
				t.Errorf("Content-Type %q, want %q", ct, tc.mediaType)
			}
			wantDep, wantSunset := "", ""
			if tc.deprecated {
				wantDep, wantSunset = "Sat, 01 Feb 2025 00:00:00 GMT", "Thu, 22 Jan 2026 00:00:00 GMT"
			}
			if resp.Header.Get("Deprecation") != wantDep || resp.Header.Get("Sunset") != wantSunset {
				t.Errorf("Deprecation %q, Sunset %q; want %q, %q", resp.Header.Get("Deprecation"), resp.Header.Get("Sunset"), wantDep, wantSunset)
			}
			var job map[string]any
			if err := json.Unmarshal(data, &job); err != nil {
				t.Fatal(err)
			}
			id, _ := job["id"].(string)
			other := map[string]string{"clusterName": "instanceName", "instanceName": "clusterName"}[tc.clusterKey]
			if job[tc.clusterKey] != tc.cluster || job[other] != nil || job["status"] != StatusQueued || job["snapshotId"] != tc.snapshot {
				t.Errorf("job %v", job)
			}
			if links := job["links"].([]any); links[0].(map[string]any)["href"] != env.srv.URL+tc.base+"/"+tc.restores+"/"+id {
				t.Errorf("job links %v", links)
			}
			env.clock.Advance(time.Minute)
			got := c.getJSON(http.MethodGet, tc.base+"/"+tc.restores+"/"+id, "", http.StatusOK)
			if got["status"] != StatusCompleted || !strings.Contains(got["snapshotUrl"].(string), "/backup/restore/"+id+"/") {
				t.Errorf("job after a minute %v", got)
			}
			if resp, _ := send(t, env.srv.Client(), http.MethodGet, got["snapshotUrl"].(string), "", ""); resp.StatusCode != http.StatusOK {
				t.Errorf("download link: %d", resp.StatusCode)
			}
			list := c.getJSON(http.MethodGet, tc.base+"/"+tc.restores, "", http.StatusOK)
			if list["totalCount"] != float64(1) {
				t.Errorf("jobs list %v", list)
			}
			snaps := c.getJSON(http.MethodGet, tc.base+"/snapshots", "", http.StatusOK)
			first := snaps["results"].([]any)[0].(map[string]any)
			if first["id"] != tc.snapshot || snaps["totalCount"] != float64(3) {
				t.Errorf("snapshots %v", snaps)
			}
			one := c.getJSON(http.MethodGet, tc.base+"/snapshots/"+tc.snapshot, "", http.StatusOK)
			if one["status"] != StatusCompleted {
				t.Errorf("snapshot %v", one)
			}
			if j, ok := env.sim.Job(DefaultProjectID, tc.cluster, id); !ok || j.Status != StatusCompleted {
				t.Errorf("Job() = %+v, %v", j, ok)
			}
		})
	}
}

func TestFamilyErrors(t *testing.T) {
	env := newSimEnv(t, Config{})
	tenant := env.client("Accept", mediaTypeTenantV2, "Content-Type", mediaTypeTenantV2)
	flex := env.client("Accept", mediaTypeFlex, "Content-Type", mediaTypeFlex)
	v1 := env.client()
	const unknownID = "0123456789abcdef01234567"
	flexOnTenant := "/clusters/" + DefaultFlexClusterName + "/backup/tenant/snapshots"
	cases := []struct {
		name        string
		c           *digestClient
		method, uri string
		body        string
		status      int
		code        string
		detail      string
	}{
		{"flex cluster on v1.0 tenant", v1, "GET", "/api/atlas/v1.0/groups/" + DefaultProjectID + flexOnTenant, "", 400, codeFlexInClusterAPI, "Flex cluster Flex0 cannot be used in the Cluster API."},
		{"flex cluster on v2 tenant", tenant, "POST", "/api/atlas/v2/groups/" + DefaultProjectID + "/clusters/Flex0/backup/tenant/download", downloadBody(DefaultFlexSnapshotID), 400, codeFlexInClusterAPI, "Flex0"},
		{"tenant cluster on flex", flex, "GET", "/api/atlas/v2/groups/" + DefaultProjectID + "/flexClusters/Cluster0/backup/restoreJobs", "", 400, codeNonFlexInFlexAPI, "Cluster Cluster0 is not a flex cluster"},
		{"unknown flex cluster", flex, "GET", "/api/atlas/v2/groups/" + DefaultProjectID + "/flexClusters/Nope/backup/snapshots", "", 404, codeFlexClusterNotFound, "No flex cluster named Nope exists in group"},
		{"unknown flex project", flex, "GET", "/api/atlas/v2/groups/" + unknownID + "/flexClusters/Flex0/backup/snapshots", "", 404, codeGroupNotFound, unknownID},
		{"unknown flex snapshot", flex, "GET", flexBase + "/snapshots/" + unknownID, "", 404, codeSnapshotNotFound, unknownID},
		{"tenant snapshot on flex", flex, "POST", flexBase + "/download", downloadBody(DefaultSnapshotID), 404, codeSnapshotNotFound, ""},
		{"unknown flex job", flex, "GET", flexBase + "/restoreJobs/" + unknownID, "", 404, codeFlexRestoreJobNotFound, ""},
		{"flex snapshot not complete", flex, "POST", flexBase + "/download", downloadBody(DefaultFlexRunningSnapshotID), 409, codeIncompleteSnapshot, "RUNNING"},
		{"flex body without snapshotId", flex, "POST", flexBase + "/download", `{}`, 400, codeValidationError, ""},
		{"unknown tenant v2 job", tenant, "GET", tenantV2Base + "/restores/" + unknownID, "", 404, codeTenantRestoreNotFound, ""},
		{"flex restoreJobs path on tenant", tenant, "GET", tenantV2Base + "/restoreJobs", "", 404, codeResourceNotFound, ""},
		{"PUT on flex restoreJobs", flex, "PUT", flexBase + "/restoreJobs", downloadBody(DefaultFlexSnapshotID), 405, codeMethodNotAllowed, "use GET or POST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := tc.c.do(tc.method, tc.uri, tc.body)
			m := apiErrorBody(t, resp, data, tc.status, tc.code)
			if !strings.Contains(m["detail"].(string), tc.detail) {
				t.Errorf("detail %q lacks %q", m["detail"], tc.detail)
			}
		})
	}
}

func TestVersionMediaTypes(t *testing.T) {
	env := newSimEnv(t, Config{})
	cases := []struct {
		name        string
		method, uri string
		hdr         []string
		status      int
	}{
		{"tenant, no Accept", "GET", tenantV2Base + "/snapshots", []string{"Accept", ""}, 406},
		{"tenant, plain json", "GET", tenantV2Base + "/snapshots", []string{"Accept", "application/json"}, 406},
		{"tenant, wildcard", "GET", tenantV2Base + "/snapshots", []string{"Accept", "*/*"}, 406},
		{"tenant, the flex version", "GET", tenantV2Base + "/snapshots", []string{"Accept", mediaTypeFlex}, 406},
		{"tenant, an unknown version", "GET", tenantV2Base + "/snapshots", []string{"Accept", "application/vnd.atlas.2099-01-01+json"}, 406},
		{"tenant, in a list with parameters", "GET", tenantV2Base + "/snapshots", []string{"Accept", "application/json;q=0.5, " + strings.ToUpper(mediaTypeTenantV2) + ";charset=utf-8"}, 200},
		{"flex, the tenant version", "GET", flexBase + "/snapshots", []string{"Accept", mediaTypeTenantV2}, 406},
		{"flex, right", "GET", flexBase + "/snapshots", []string{"Accept", mediaTypeFlex}, 200},
		{"flex POST, json body type", "POST", flexBase + "/download", []string{"Accept", mediaTypeFlex, "Content-Type", "application/json"}, 200},
		{"flex POST, other body type", "POST", flexBase + "/download", []string{"Accept", mediaTypeFlex, "Content-Type", "text/plain"}, 406},
		{"flex POST, versioned body type", "POST", flexBase + "/download", []string{"Accept", mediaTypeFlex, "Content-Type", mediaTypeFlex}, 200},
		{"v1.0 needs no version", "GET", tenantBase + "/snapshots", []string{"Accept", ""}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "POST" {
				body = downloadBody(DefaultFlexSnapshotID)
			}
			resp, data := env.client(tc.hdr...).do(tc.method, tc.uri, body)
			if tc.status == 406 {
				apiErrorBody(t, resp, data, 406, codeInvalidVersion)
			} else if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, data)
			}
		})
	}
}

func TestTenantSunset(t *testing.T) {
	env := newSimEnv(t, Config{TenantSunset: true})
	cases := []struct {
		name, uri string
		hdr       []string
		status    int
		code      string
		detail    string
	}{
		{"v2 tenant", tenantV2Base + "/snapshots", []string{"Accept", mediaTypeTenantV2}, 410, codeVersionGone,
			"Version 2023-01-01 of api/atlas/v2/groups/" + DefaultProjectID + "/clusters/Cluster0/backup/tenant/snapshots is no longer available."},
		{"v2 tenant without a version", tenantV2Base + "/snapshots", nil, 410, codeVersionGone, ""},
		{"v1.0 tenant", tenantBase + "/restores", nil, 404, codeResourceNotFound, "sunset on 2026-01-22"},
		{"flex lives on", flexBase + "/snapshots", []string{"Accept", mediaTypeFlex}, 200, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := env.client(tc.hdr...).do(http.MethodGet, tc.uri, "")
			if tc.code == "" {
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d: %s", resp.StatusCode, data)
				}
				return
			}
			m := apiErrorBody(t, resp, data, tc.status, tc.code)
			if !strings.Contains(m["detail"].(string), tc.detail) {
				t.Errorf("detail %q lacks %q", m["detail"], tc.detail)
			}
		})
	}
	if n := len(env.sim.Jobs()); n != 0 {
		t.Errorf("%d jobs", n)
	}
}

func TestStatsRouteTemplatesPerFamily(t *testing.T) {
	env := newSimEnv(t, Config{})
	tenant := env.client("Accept", mediaTypeTenantV2)
	flex := env.client("Accept", mediaTypeFlex)
	tenant.do(http.MethodGet, tenantV2Base+"/restores/0123456789abcdef01234567", "")
	flex.do(http.MethodGet, flexBase+"/restoreJobs/0123456789abcdef01234567", "")
	flex.do(http.MethodGet, flexBase+"/snapshots/"+DefaultFlexSnapshotID, "")
	routes := env.sim.Stats().Routes
	for _, key := range []string{
		"GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/tenant/restores/{restoreId}",
		"GET /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/restoreJobs/{restoreJobId}",
		"GET /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/snapshots/{snapshotId}",
	} {
		if routes[key]["401"]+routes[key]["404"]+routes[key]["200"] == 0 {
			t.Errorf("no counts under %q in %v", key, routes)
		}
	}
}

func TestSeedFlexClusters(t *testing.T) {
	seed := DefaultSeed()
	p := seed.Projects[0]
	if len(p.FlexClusters) != 1 || p.FlexClusters[0].Name != DefaultFlexClusterName || len(p.FlexClusters[0].Snapshots) != 3 {
		t.Fatalf("default flex clusters %+v", p.FlexClusters)
	}
	const flexSeed = `{"projects":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","clusters":[{"name":"C"}],"flexClusters":[{"name":"F","snapshots":[
		{"id":"bbbbbbbbbbbbbbbbbbbbbbbb","status":"COMPLETED","finishTime":"2026-11-28T12:03:00Z"}],
		"restoreJobs":[{"id":"cccccccccccccccccccccccc","snapshotId":"bbbbbbbbbbbbbbbbbbbbbbbb","status":"COMPLETED","restoreScheduledDate":"2026-11-28T13:00:00Z"}]}]}]}`
	got, err := ParseSeed([]byte(flexSeed))
	if err != nil {
		t.Fatal(err)
	}
	env := newSimEnv(t, Config{Seed: got})
	job := env.client("Accept", mediaTypeFlex).getJSON(http.MethodGet,
		"/api/atlas/v2/groups/aaaaaaaaaaaaaaaaaaaaaaaa/flexClusters/F/backup/restoreJobs/cccccccccccccccccccccccc", "", http.StatusOK)
	if job["instanceName"] != "F" || job["status"] != StatusCompleted {
		t.Errorf("seeded flex job %v", job)
	}
	for _, tc := range []struct{ seed, want string }{
		{strings.Replace(flexSeed, `"name":"F"`, `"name":"C"`, 1), `projects[0].flexClusters[0].name: duplicate cluster name "C" in this project (first at projects[0].clusters[0].name)`},
		{strings.Replace(flexSeed, `"name":"F"`, `"name":"-F"`, 1), `projects[0].flexClusters[0].name: "-F" is not a valid cluster name`},
		{strings.Replace(flexSeed, `"name":"F",`, `"name":"F","tier":"FLEX",`, 1), `projects[0].flexClusters[0]: unknown field "tier"`},
	} {
		if _, err := ParseSeed([]byte(tc.seed)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSeed error %v, want %q", err, tc.want)
		}
	}
}
