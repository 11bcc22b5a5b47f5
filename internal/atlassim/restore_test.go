// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func restoreBody(snapshotID, target, targetProject string) string {
	return `{"snapshotId":"` + snapshotID + `","targetDeploymentItemName":"` + target + `","targetProjectId":"` + targetProject + `"}`
}

// flexTarget is a Flex cluster without snapshots in the second default
// project, added to the default seed as a restore target.
const flexTarget = "FlexTarget"

func restoreSeed() *Seed {
	seed := DefaultSeed()
	seed.Projects[1].FlexClusters = append(seed.Projects[1].FlexClusters, SeedCluster{Name: flexTarget})
	return seed
}

// A restore answers PENDING at once, runs PENDING, RUNNING, COMPLETED over
// RestoreDuration, is listed beside downloads, and shows on its target.
func TestRestoreLifecycle(t *testing.T) {
	cases := []struct {
		name, base, mediaType, jobs, clusterKey string
		source, snapshot, target, targetProject string
		targetRead, targetReadType              string
	}{
		{"flex", flexBase, mediaTypeFlex, "restoreJobs", "instanceName", DefaultFlexClusterName, DefaultFlexSnapshotID, flexTarget, DefaultSecondProjectID,
			"/api/atlas/v2/groups/" + DefaultSecondProjectID + "/flexClusters/" + flexTarget, mediaTypeFlex},
		{"tenant v2", tenantV2Base, mediaTypeTenantV2, "restores", "clusterName", DefaultClusterName, DefaultSnapshotID, DefaultSecondClusterName, DefaultProjectID,
			clustersV2Path + "/" + DefaultSecondClusterName, mediaTypeClusters},
		{"tenant v1.0", tenantBase, "application/json", "restores", "clusterName", DefaultClusterName, DefaultSnapshotID, DefaultSecondClusterName, DefaultProjectID,
			clustersV1Path + "/" + DefaultSecondClusterName, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newSimEnv(t, Config{Seed: restoreSeed(), RestoreDuration: time.Minute})
			c := env.client("Accept", tc.mediaType, "Content-Type", tc.mediaType)
			target := env.client("Accept", tc.targetReadType)
			c.getJSON(http.MethodPost, tc.base+"/download", downloadBody(tc.snapshot), http.StatusOK)
			env.clock.Advance(time.Second)

			path := tc.base + "/restore"
			if tc.jobs == "restoreJobs" {
				path = tc.base + "/restoreJobs"
			}
			resp, data := c.do(http.MethodPost, path, restoreBody(tc.snapshot, tc.target, tc.targetProject))
			var job map[string]any
			if err := json.Unmarshal(data, &job); err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.mediaType {
				t.Fatalf("POST: status %d, Content-Type %q, body %s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
			}
			scheduled := testStart.Add(time.Second)
			want := map[string]any{
				"deliveryType": "RESTORE", "status": StatusPending, tc.clusterKey: tc.source,
				"snapshotId": tc.snapshot, "targetDeploymentItemName": tc.target, "targetProjectId": tc.targetProject,
				"restoreScheduledDate": formatTime(scheduled), "expirationDate": formatTime(scheduled.Add(6 * time.Hour)),
				"projectId": DefaultProjectID,
			}
			for k, v := range want {
				if job[k] != v {
					t.Errorf("POST answer %s = %v, want %v", k, job[k], v)
				}
			}
			for _, absent := range []string{"links", "restoreFinishedDate", "snapshotUrl"} {
				if _, ok := job[absent]; ok {
					t.Errorf("POST answer has %s: %v", absent, job)
				}
			}
			if job["snapshotFinishedDate"] == nil {
				t.Errorf("POST answer lacks snapshotFinishedDate: %v", job)
			}

			id := job["id"].(string)
			for _, step := range []struct {
				after    time.Duration
				status   string
				finished any
			}{
				{0, StatusPending, nil}, {30 * time.Second, StatusRunning, nil},
				{30 * time.Second, StatusCompleted, formatTime(scheduled.Add(time.Minute))},
			} {
				env.clock.Advance(step.after)
				got := c.getJSON(http.MethodGet, tc.base+"/"+tc.jobs+"/"+id, "", http.StatusOK)
				if got["status"] != step.status || got["restoreFinishedDate"] != step.finished || got["links"] == nil {
					t.Errorf("after %s: status %v, restoreFinishedDate %v, links %v; want %s, %v and a link",
						step.after, got["status"], got["restoreFinishedDate"], got["links"], step.status, step.finished)
				}
				restored := target.getJSON(http.MethodGet, tc.targetRead, "", http.StatusOK)["restoredFrom"]
				if (restored != nil) != (step.status == StatusCompleted) {
					t.Errorf("after %s: the target shows restoredFrom %v", step.after, restored)
				}
				if restored != nil && (dig(restored, "snapshotId") != tc.snapshot || dig(restored, "restoreJobId") != id) {
					t.Errorf("restoredFrom %v, want snapshot %s of job %s", restored, tc.snapshot, id)
				}
			}

			list := c.getJSON(http.MethodGet, tc.base+"/"+tc.jobs, "", http.StatusOK)
			kinds := map[any]int{}
			for _, r := range list["results"].([]any) {
				kinds[dig(r, "deliveryType")]++
			}
			if kinds["RESTORE"] != 1 || kinds["DOWNLOAD"] != 1 {
				t.Errorf("job list holds %v, want a RESTORE beside a DOWNLOAD", kinds)
			}
			if j, ok := env.sim.Job(DefaultProjectID, tc.source, id); !ok || j.DeliveryType != deliveryRestore || j.TargetDeploymentItemName != tc.target || j.TargetProjectID != tc.targetProject {
				t.Errorf("Job() = %+v, %v", j, ok)
			}
		})
	}
}

// Refusals answer in Atlas's shape and create no job.
func TestRestoreRefusals(t *testing.T) {
	env := newSimEnv(t, Config{Seed: restoreSeed()})
	flex := env.client("Accept", mediaTypeFlex, "Content-Type", mediaTypeFlex)
	tenant := env.client("Accept", mediaTypeTenantV2, "Content-Type", mediaTypeTenantV2)
	const unknownID = "0123456789abcdef01234567"
	fPath, tPath := flexBase+"/restoreJobs", tenantV2Base+"/restore"
	good := func(target, project string) string { return restoreBody(DefaultFlexSnapshotID, target, project) }
	cases := []struct {
		name   string
		c      *digestClient
		uri    string
		body   string
		status int
		code   string
		detail string
	}{
		{"no targetProjectId", flex, fPath, `{"snapshotId":"` + DefaultFlexSnapshotID + `","targetDeploymentItemName":"` + flexTarget + `"}`,
			400, codeMissingAttribute, "targetProjectId was not specified"},
		{"no target name", flex, fPath, `{"snapshotId":"` + DefaultFlexSnapshotID + `","targetProjectId":"` + DefaultProjectID + `"}`,
			400, codeMissingAttribute, "targetDeploymentItemName was not specified"},
		{"no snapshotId", flex, fPath, `{"targetDeploymentItemName":"F","targetProjectId":"` + DefaultProjectID + `"}`,
			400, codeMissingAttribute, "snapshotId was not specified"},
		{"target name off the pattern", flex, fPath, good("has space", DefaultProjectID), 400, codeInvalidAttribute, "targetDeploymentItemName"},
		{"target name too long", flex, fPath, good(strings.Repeat("a", 65), DefaultProjectID), 400, codeInvalidAttribute, "targetDeploymentItemName"},
		{"target project not an id", flex, fPath, good(flexTarget, "nothex"), 400, codeInvalidAttribute, "targetProjectId"},
		{"not JSON", flex, fPath, `{"snapshotId":`, 400, codeMalformedJSON, "targetDeploymentItemName"},
		{"unknown snapshot", flex, fPath, restoreBody(unknownID, flexTarget, DefaultSecondProjectID), 404, codeSnapshotNotFound, unknownID},
		{"snapshot still running", flex, fPath, restoreBody(DefaultFlexRunningSnapshotID, flexTarget, DefaultSecondProjectID),
			409, codeIncompleteRestore, "RUNNING"},
		{"unknown target project", flex, fPath, good(flexTarget, unknownID), 404, codeGroupNotFound, unknownID},
		{"target not in that project", flex, fPath, good(flexTarget, DefaultProjectID), 404, codeFlexClusterNotFound, flexTarget},
		{"tenant target of a Flex restore", flex, fPath, good(DefaultClusterName, DefaultProjectID), 400, codeNonFlexInFlexAPI, DefaultClusterName},
		{"Flex target of a tenant restore", tenant, tPath, restoreBody(DefaultSnapshotID, DefaultFlexClusterName, DefaultProjectID),
			400, codeFlexInClusterAPI, DefaultFlexClusterName},
		{"unknown source wins over a bad body", flex, "/api/atlas/v2/groups/" + DefaultProjectID + "/flexClusters/Nope/backup/restoreJobs", `{}`,
			404, codeFlexClusterNotFound, "Nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := tc.c.do(http.MethodPost, tc.uri, tc.body)
			m := apiErrorBody(t, resp, data, tc.status, tc.code)
			if !strings.Contains(m["detail"].(string), tc.detail) {
				t.Errorf("detail %q lacks %q", m["detail"], tc.detail)
			}
		})
	}
	if jobs := env.sim.Jobs(); len(jobs) != 0 {
		t.Errorf("refused restores created jobs: %+v", jobs)
	}
}

// Injected faults reach the restore route as every other: FailJobRate and
// FailSnapshotIDs fail the job, rate limits and 5xx refuse the request, a
// dropped answer leaves the job behind.
func TestRestoreFaults(t *testing.T) {
	body := restoreBody(DefaultFlexSnapshotID, flexTarget, DefaultSecondProjectID)
	cases := []struct {
		name    string
		faults  Faults
		posts   int
		status  int // of the last POST; 0: no answer
		jobs    int
		endsAs  string
		counted func(Stats) int64
	}{
		{"fail rate", Faults{FailJobRate: 1}, 1, 200, 1, StatusFailed, nil},
		{"failing snapshot", Faults{FailSnapshotIDs: []string{DefaultFlexSnapshotID}}, 1, 200, 1, StatusFailed, nil},
		{"rate limit", Faults{RateLimitCapacity: 1}, 2, 429, 1, StatusCompleted, func(s Stats) int64 { return s.Faults.RateLimited }},
		{"5xx", Faults{ErrorRate: 1}, 1, 503, 0, "", func(s Stats) int64 { return s.Faults.Injected5xx }},
		{"drop", Faults{DropRate: 1}, 1, 0, 1, StatusCompleted, func(s Stats) int64 { return s.Faults.Dropped }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newSimEnv(t, Config{Seed: restoreSeed(), RestoreDuration: time.Minute})
			tok := env.token() // before the faults, which reach the token endpoint too
			if err := env.sim.SetFaults(tc.faults); err != nil {
				t.Fatal(err)
			}
			status := 0
			for range tc.posts {
				status = 0
				resp, err := postBearer(env, flexBase+"/restoreJobs", body, tok)
				if err == nil {
					status = resp.StatusCode
					if tc.faults.RateLimitCapacity > 0 && resp.Header.Get("RateLimit-Limit") != "1" {
						t.Errorf("RateLimit-Limit %q, want 1", resp.Header.Get("RateLimit-Limit"))
					}
				}
			}
			if status != tc.status {
				t.Fatalf("last POST: status %d, want %d (0: dropped)", status, tc.status)
			}
			env.clock.Advance(time.Minute)
			jobs := env.sim.Jobs()
			if len(jobs) != tc.jobs || (tc.jobs > 0 && jobs[0].Status != tc.endsAs) {
				t.Fatalf("jobs %+v, want %d ending %s", jobs, tc.jobs, tc.endsAs)
			}
			if tc.counted != nil && tc.counted(env.sim.Stats()) != 1 {
				t.Errorf("the fault was not counted: %+v", env.sim.Stats().Faults)
			}
			if tc.endsAs == StatusFailed {
				f := env.client("Accept", mediaTypeFlex).getJSON(http.MethodGet, "/api/atlas/v2/groups/"+DefaultSecondProjectID+"/flexClusters/"+flexTarget, "", 200)
				if f["restoredFrom"] != nil {
					t.Errorf("a FAILED restore shows on its target: %v", f["restoredFrom"])
				}
			}
		})
	}
}

// postBearer sends a POST with a Bearer token; a dropped connection is err.
func postBearer(env *simEnv, uri, body, tok string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, env.srv.URL+uri, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", mediaTypeFlex)
	req.Header.Set("Content-Type", mediaTypeFlex)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// Without a RestoreDuration a restore is done at once, though the POST
// answer still says PENDING; a cluster may be restored onto itself; a job
// the simulator forgets no longer shows on its target.
func TestInstantRestoreOntoItself(t *testing.T) {
	env := newSimEnv(t, Config{Seed: restoreSeed()})
	c := env.client("Accept", mediaTypeFlex, "Content-Type", mediaTypeFlex)
	job := c.getJSON(http.MethodPost, flexBase+"/restoreJobs", restoreBody(DefaultFlexSnapshotID, DefaultFlexClusterName, DefaultProjectID), 200)
	id := job["id"].(string)
	if job["status"] != StatusPending {
		t.Errorf("POST answer status %v, want PENDING", job["status"])
	}
	if got := c.getJSON(http.MethodGet, flexBase+"/restoreJobs/"+id, "", 200); got["status"] != StatusCompleted {
		t.Errorf("status %v right after, want COMPLETED", got["status"])
	}
	read := func() any {
		return c.getJSON(http.MethodGet, flexListPath+"/"+DefaultFlexClusterName, "", 200)["restoredFrom"]
	}
	if read() == nil {
		t.Fatal("a COMPLETED restore of a cluster onto itself does not show")
	}
	if err := env.sim.DeleteJob(DefaultProjectID, DefaultFlexClusterName, id); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != nil {
		t.Errorf("restoredFrom %v after DeleteJob", got)
	}
}
