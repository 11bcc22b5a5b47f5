// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestErrorCodes(t *testing.T) {
	env := newSimEnv(t, Config{})
	c := env.client()
	const otherProject = "0123456789abcdef01234567"
	cluster1Base := "/api/atlas/v1.0/groups/" + DefaultProjectID + "/clusters/" + DefaultSecondClusterName + "/backup/tenant"
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)

	cases := []struct {
		name         string
		method, uri  string
		body         string
		status       int
		code         string
		detail       string // substring, when set
		allow        string // Allow header, when set
		unauthorized bool   // send without credentials
	}{
		{name: "unknown project", method: "GET", uri: "/api/atlas/v1.0/groups/" + otherProject + "/clusters/Cluster0/backup/tenant/snapshots",
			status: 404, code: codeGroupNotFound, detail: otherProject},
		{name: "malformed project id", method: "GET", uri: "/api/atlas/v1.0/groups/NOTHEX/clusters/Cluster0/backup/tenant/snapshots",
			status: 404, code: codeInvalidGroupID},
		{name: "unknown cluster", method: "GET", uri: "/api/atlas/v1.0/groups/" + DefaultProjectID + "/clusters/Nope/backup/tenant/restores",
			status: 404, code: codeClusterNotFound, detail: "No cluster named Nope exists in group " + DefaultProjectID + "."},
		{name: "cluster of another project", method: "GET", uri: "/api/atlas/v1.0/groups/" + DefaultSecondProjectID + "/clusters/Cluster0/backup/tenant/snapshots",
			status: 404, code: codeClusterNotFound},
		{name: "unknown snapshot", method: "GET", uri: tenantBase + "/snapshots/0123456789abcdef01234567",
			status: 404, code: codeTenantSnapshotNotFound},
		{name: "malformed snapshot id", method: "GET", uri: tenantBase + "/snapshots/xyz",
			status: 404, code: codeInvalidSnapshotID},
		{name: "snapshot of another cluster", method: "GET", uri: tenantBase + "/snapshots/" + DefaultSecondClusterSnapshotID,
			status: 404, code: codeTenantSnapshotNotFound},
		{name: "unknown job", method: "GET", uri: tenantBase + "/restores/0123456789abcdef01234567",
			status: 404, code: codeTenantRestoreNotFound},
		{name: "job of another cluster", method: "GET", uri: cluster1Base + "/restores/" + job["id"].(string),
			status: 404, code: codeTenantRestoreNotFound},
		{name: "download incomplete snapshot", method: "POST", uri: tenantBase + "/download", body: downloadBody(DefaultRunningSnapshotID),
			status: 409, code: codeIncompleteSnapshot, detail: "RUNNING"},
		{name: "download unknown snapshot", method: "POST", uri: tenantBase + "/download", body: downloadBody("0123456789abcdef01234567"),
			status: 404, code: codeTenantSnapshotNotFound},
		{name: "download in unknown cluster wins over bad body", method: "POST", uri: "/api/atlas/v1.0/groups/" + DefaultProjectID + "/clusters/Nope/backup/tenant/download", body: "{",
			status: 404, code: codeClusterNotFound},
		{name: "malformed json", method: "POST", uri: tenantBase + "/download", body: `{"snapshotId":`,
			status: 400, code: codeMalformedJSON},
		{name: "empty body", method: "POST", uri: tenantBase + "/download",
			status: 400, code: codeMalformedJSON},
		{name: "trailing data", method: "POST", uri: tenantBase + "/download", body: downloadBody(DefaultSnapshotID) + "{}",
			status: 400, code: codeMalformedJSON},
		{name: "json array", method: "POST", uri: tenantBase + "/download", body: `["x"]`,
			status: 400, code: codeInvalidJSON},
		{name: "json null", method: "POST", uri: tenantBase + "/download", body: `null`,
			status: 400, code: codeInvalidJSON},
		{name: "missing snapshotId", method: "POST", uri: tenantBase + "/download", body: `{"targetProjectId":"x"}`,
			status: 400, code: codeValidationError, detail: "snapshotId"},
		{name: "null snapshotId", method: "POST", uri: tenantBase + "/download", body: `{"snapshotId":null}`,
			status: 400, code: codeValidationError},
		{name: "snapshotId not hex", method: "POST", uri: tenantBase + "/download", body: `{"snapshotId":"6568A1B2C3D4E5F6000000A1"}`,
			status: 400, code: codeInvalidAttribute},
		{name: "snapshotId a number", method: "POST", uri: tenantBase + "/download", body: `{"snapshotId":12}`,
			status: 400, code: codeInvalidAttribute},
		{name: "wrong method on collection", method: "DELETE", uri: tenantBase + "/snapshots",
			status: 405, code: codeMethodNotAllowed, allow: "GET"},
		{name: "GET on download", method: "GET", uri: tenantBase + "/download",
			status: 405, code: codeMethodNotAllowed, allow: "POST"},
		{name: "PUT on a job", method: "PUT", uri: tenantBase + "/restores/0123456789abcdef01234567",
			status: 405, code: codeMethodNotAllowed, allow: "GET"},
		{name: "wrong method and a bad pretty", method: "DELETE", uri: tenantBase + "/snapshots?pretty=x",
			status: 405, code: codeMethodNotAllowed, allow: "GET"},
		{name: "unknown api path and a bad pretty", method: "GET", uri: "/api/atlas/v1.0/x?pretty=x",
			status: 404, code: codeResourceNotFound},
		{name: "unknown api path", method: "GET", uri: "/api/atlas/v1.0/groups/" + DefaultProjectID + "/nothing",
			status: 404, code: codeResourceNotFound},
		{name: "unknown path outside the api needs no credentials", method: "GET", uri: "/nothing/here",
			status: 404, code: codeResourceNotFound, unauthorized: true},
		{name: "pageNum not a number", method: "GET", uri: clustersV1Path + "?pageNum=abc",
			status: 400, code: codeInvalidQueryParameter, detail: "pageNum"},
		{name: "pageNum zero", method: "GET", uri: clustersV1Path + "?pageNum=0",
			status: 400, code: codeInvalidQueryParameter},
		{name: "itemsPerPage too big", method: "GET", uri: clustersV1Path + "?itemsPerPage=501",
			status: 400, code: codeInvalidQueryParameter, detail: "itemsPerPage"},
		{name: "itemsPerPage zero", method: "GET", uri: clustersV1Path + "?itemsPerPage=0",
			status: 400, code: codeInvalidQueryParameter},
		{name: "includeCount not a bool", method: "GET", uri: clustersV1Path + "?includeCount=maybe",
			status: 400, code: codeInvalidQueryParameter},
		{name: "pretty not a bool", method: "GET", uri: tenantBase + "/snapshots?pretty=very",
			status: 400, code: codeInvalidQueryParameter},
		{name: "no credentials on an api path", method: "GET", uri: tenantBase + "/restores",
			status: 401, code: codeUserUnauthorized, unauthorized: true},
		{name: "no credentials on an unknown api path", method: "GET", uri: "/api/atlas/v1.0/nothing",
			status: 401, code: codeUserUnauthorized, unauthorized: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			var data []byte
			if tc.unauthorized {
				resp, data = env.plain(tc.method, tc.uri, tc.body)
			} else {
				resp, data = c.do(tc.method, tc.uri, tc.body)
			}
			m := apiErrorBody(t, resp, data, tc.status, tc.code)
			if tc.detail != "" && !strings.Contains(m["detail"].(string), tc.detail) {
				t.Errorf("detail %q does not contain %q", m["detail"], tc.detail)
			}
			if tc.allow != "" && resp.Header.Get("Allow") != tc.allow {
				t.Errorf("Allow %q, want %q", resp.Header.Get("Allow"), tc.allow)
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	env := newSimEnv(t, Config{})
	body := `{"snapshotId":"` + DefaultSnapshotID + `","pad":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	resp, data := env.client().do(http.MethodPost, tenantBase+"/download", body)
	apiErrorBody(t, resp, data, http.StatusRequestEntityTooLarge, codeBodyTooLarge)
}

// manySnapshotsSeed is a seed whose only cluster, a Flex one, has n
// COMPLETED snapshots, snapshot i scheduled i hours after a fixed time.
func manySnapshotsSeed(n int) *Seed {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var snaps []SeedSnapshot
	for i := range n {
		at := base.Add(time.Duration(i) * time.Hour)
		snaps = append(snaps, SeedSnapshot{
			ID: fmt.Sprintf("%024x", i+1), Status: StatusCompleted, MongoDBVersion: "7.0.14",
			ScheduledTime: formatTime(at), StartTime: formatTime(at), FinishTime: formatTime(at.Add(time.Minute)),
		})
	}
	return &Seed{Projects: []SeedProject{{ID: DefaultProjectID, FlexClusters: []SeedCluster{{Name: DefaultFlexClusterName, Snapshots: snaps}}}}}
}

type listBody struct {
	Results    []map[string]any `json:"results"`
	TotalCount *int             `json:"totalCount"`
	Status     *int             `json:"status"`
	Links      []link           `json:"links"`
}

// TestPagination pages a Flex list: the tenant lists take no paging
// parameters (TestTenantListsAreUnpaged).
func TestPagination(t *testing.T) {
	env := newSimEnv(t, Config{Seed: manySnapshotsSeed(7)})
	c := env.client("Accept", mediaTypeFlex)
	cases := []struct {
		query     string
		ids       []int // snapshot numbers on the page, newest first
		rels      []string
		nextPage  string
		noCount   bool
		wantCount int
	}{
		{query: "", ids: []int{7, 6, 5, 4, 3, 2, 1}, rels: []string{"self"}, wantCount: 7},
		{query: "?itemsPerPage=3", ids: []int{7, 6, 5}, rels: []string{"self", "next"}, nextPage: "2", wantCount: 7},
		{query: "?itemsPerPage=3&pageNum=2", ids: []int{4, 3, 2}, rels: []string{"self", "next", "previous"}, nextPage: "3", wantCount: 7},
		{query: "?itemsPerPage=3&pageNum=3", ids: []int{1}, rels: []string{"self", "previous"}, wantCount: 7},
		{query: "?itemsPerPage=3&pageNum=4", ids: []int{}, rels: []string{"self", "previous"}, wantCount: 7},
		{query: "?itemsPerPage=7", ids: []int{7, 6, 5, 4, 3, 2, 1}, rels: []string{"self"}, wantCount: 7},
		{query: "?itemsPerPage=500&pageNum=99999999999", ids: []int{}, rels: []string{"self", "previous"}, wantCount: 7},
		{query: "?includeCount=false&itemsPerPage=2", ids: []int{7, 6}, rels: []string{"self", "next"}, nextPage: "2", noCount: true},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			resp, data := c.do(http.MethodGet, flexBase+"/snapshots"+tc.query, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, data)
			}
			if ct := resp.Header.Get("Content-Type"); ct != mediaTypeFlex {
				t.Errorf("Content-Type %q", ct)
			}
			var body listBody
			if err := json.Unmarshal(data, &body); err != nil {
				t.Fatal(err)
			}
			if body.Results == nil {
				t.Errorf("results is null or missing, want an array: %s", data)
			}
			var got []string
			for _, r := range body.Results {
				got = append(got, r["id"].(string))
			}
			var want []string
			for _, n := range tc.ids {
				want = append(want, fmt.Sprintf("%024x", n))
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("ids %v, want %v", got, want)
			}
			switch {
			case tc.noCount && strings.Contains(string(data), "totalCount"):
				t.Errorf("totalCount present with includeCount=false: %s", data)
			case !tc.noCount && (body.TotalCount == nil || *body.TotalCount != tc.wantCount):
				t.Errorf("totalCount %v, want %d", body.TotalCount, tc.wantCount)
			}
			var rels []string
			for _, l := range body.Links {
				rels = append(rels, l.Rel)
				u, err := url.Parse(l.Href)
				if err != nil || u.Scheme != "http" || u.Host != strings.TrimPrefix(env.srv.URL, "http://") || u.Path != flexBase+"/snapshots" {
					t.Errorf("%s link %q is not an absolute URL of this list", l.Rel, l.Href)
				}
				if l.Rel == "next" && u.Query().Get("pageNum") != tc.nextPage {
					t.Errorf("next link %q, want pageNum=%s", l.Href, tc.nextPage)
				}
			}
			if strings.Join(rels, ",") != strings.Join(tc.rels, ",") {
				t.Errorf("link rels %v, want %v", rels, tc.rels)
			}
			for _, r := range body.Results {
				links, _ := r["links"].([]any)
				if len(links) != 1 || !strings.HasSuffix(links[0].(map[string]any)["href"].(string), "/snapshots/"+r["id"].(string)) {
					t.Errorf("snapshot links %v lack a self link", r["links"])
				}
			}
		})
	}
}

func TestPrettyAndEnvelope(t *testing.T) {
	env := newSimEnv(t, Config{})
	c := env.client()
	snapURI := tenantBase + "/snapshots/" + DefaultSnapshotID

	_, compact := c.do(http.MethodGet, snapURI, "")
	if strings.Contains(string(compact), "\n  ") {
		t.Errorf("compact output is indented: %s", compact)
	}
	_, pretty := c.do(http.MethodGet, snapURI+"?pretty=true", "")
	if !strings.Contains(string(pretty), "{\n  \"id\": \""+DefaultSnapshotID+"\"") {
		t.Errorf("pretty output not indented: %s", pretty)
	}

	obj := c.getJSON(http.MethodGet, snapURI+"?envelope=true", "", http.StatusOK)
	content, _ := obj["content"].(map[string]any)
	if obj["status"] != float64(200) || content == nil || content["id"] != DefaultSnapshotID || len(obj) != 2 {
		t.Errorf("enveloped object = %v", obj)
	}
	want := map[string]any{
		"id": DefaultSnapshotID, "status": "COMPLETED", "mongoDBVersion": "7.0.14",
		"scheduledTime": "2026-11-28T12:00:00Z", "startTime": "2026-11-28T12:00:04Z",
		"finishTime": "2026-11-28T12:03:00Z", "expiration": "2026-12-05T12:03:00Z",
	}
	for k, v := range want {
		if content[k] != v {
			t.Errorf("snapshot %s = %v, want %v", k, content[k], v)
		}
	}

	list := c.getJSON(http.MethodGet, tenantBase+"/snapshots?envelope=true", "", http.StatusOK)
	if list["status"] != float64(200) || list["results"] == nil || list["totalCount"] != float64(3) {
		t.Errorf("enveloped list = %v", list)
	}

	resp, data := c.do(http.MethodGet, tenantBase+"/snapshots/0123456789abcdef01234567?envelope=true", "")
	m := apiErrorBody(t, resp, data, http.StatusNotFound, codeTenantSnapshotNotFound)
	if _, ok := m["content"]; ok {
		t.Errorf("error was enveloped: %s", data)
	}
}

func TestSnapshotsNewestFirst(t *testing.T) {
	env := newSimEnv(t, Config{})
	list := env.client().getJSON(http.MethodGet, tenantBase+"/snapshots", "", http.StatusOK)
	var ids []string
	for _, r := range list["results"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	want := []string{DefaultSnapshotID, DefaultOlderSnapshotID, DefaultRunningSnapshotID}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("ids %v, want %v", ids, want)
	}
}

func TestStats(t *testing.T) {
	env := newSimEnv(t, Config{})
	c := env.client()
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	c.getJSON(http.MethodGet, tenantBase+"/restores/"+job["id"].(string), "", http.StatusOK)
	c.do(http.MethodGet, tenantBase+"/restores/0123456789abcdef01234567", "")
	send(t, env.srv.Client(), http.MethodGet, job["snapshotUrl"].(string), "", "")
	env.plain(http.MethodGet, "/nowhere", "")
	env.plain(http.MethodGet, "/__sim/stats", "") // not counted

	resp, data := env.plain(http.MethodGet, "/__sim/stats", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stats: %d %s", resp.StatusCode, data)
	}
	var st Stats
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	prefix := "/api/atlas/v1.0/groups/{groupId}/clusters/{clusterName}/backup/tenant"
	want := map[string]map[string]int64{
		"POST " + prefix + "/download":            {"401": 1, "200": 1},
		"GET " + prefix + "/restores/{restoreId}": {"200": 1, "404": 1},
		"GET /backup/restore/{jobId}/{file}":      {"200": 1},
		"GET (no route)":                          {"404": 1},
	}
	if st.TotalRequests != 6 || st.DigestChallenges != 1 {
		t.Errorf("totals = %d requests, %d challenges; want 6, 1", st.TotalRequests, st.DigestChallenges)
	}
	if fmt.Sprint(st.Routes) != fmt.Sprint(want) {
		t.Errorf("routes = %v\nwant %v", st.Routes, want)
	}
	if fmt.Sprint(env.sim.Stats()) != fmt.Sprint(st) {
		t.Errorf("Stats() = %+v, /__sim/stats = %+v", env.sim.Stats(), st)
	}
	var raw map[string]any
	_ = json.Unmarshal(data, &raw)
	for _, k := range []string{"totalRequests", "digestChallenges", "routes"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("stats JSON lacks %q: %s", k, data)
		}
	}
}

// TestConcurrentClients runs many clients at once; with -race it checks
// the locking of state, nonces and stats.
func TestConcurrentClients(t *testing.T) {
	env := newSimEnv(t, Config{})
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := env.client()
			for range each {
				resp, data := c.do(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID))
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Sprintf("status %d: %s", resp.StatusCode, data)
				}
				_ = env.sim.Stats()
				_ = env.sim.Jobs()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(env.sim.Jobs()); n != workers*each {
		t.Errorf("%d jobs, want %d", n, workers*each)
	}
	st := env.sim.Stats()
	if st.TotalRequests != workers*each+workers || st.DigestChallenges != workers {
		t.Errorf("stats %+v", st)
	}
}

func TestLogfKeepsSecretsOut(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	env := newSimEnv(t, Config{Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}})
	c := env.client()
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	snapURL := job["snapshotUrl"].(string)
	send(t, env.srv.Client(), http.MethodGet, snapURL, "", "")
	token := strings.TrimPrefix(regexpToken.FindString(snapURL), "token=")

	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 3 { // challenge, POST, download
		t.Errorf("%d log lines, want 3: %q", len(lines), lines)
	}
	for _, l := range lines {
		for _, secret := range []string{DefaultPrivateKey, token, "Digest", "response="} {
			if strings.Contains(l, secret) {
				t.Errorf("log line %q contains %q", l, secret)
			}
		}
	}
}
