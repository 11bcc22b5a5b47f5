// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var regexpToken = regexp.MustCompile(`token=[0-9a-f]+`)

func TestJobLifecycle(t *testing.T) {
	env := newSimEnv(t, Config{QueuedFor: time.Minute, RunningFor: 2 * time.Minute})
	c := env.client()
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	id := job["id"].(string)
	if !hexIDPattern.MatchString(id) {
		t.Fatalf("job id %q is not 24 hex", id)
	}
	fixed := map[string]any{
		"clusterName": DefaultClusterName, "projectId": DefaultProjectID, "deliveryType": "DOWNLOAD",
		"snapshotId": DefaultSnapshotID, "restoreScheduledDate": "2026-11-28T14:03:00Z",
		"expirationDate": "2026-11-28T18:03:00Z", "targetDeploymentItemName": DefaultClusterName,
		"targetProjectId": DefaultProjectID,
	}
	steps := []struct {
		advance  time.Duration
		status   string
		finished string // restoreFinishedDate, "" when absent
	}{
		{0, StatusQueued, ""},
		{59 * time.Second, StatusQueued, ""},
		{time.Second, StatusRunning, ""},
		{119 * time.Second, StatusRunning, ""},
		{time.Second, StatusCompleted, "2026-11-28T14:06:00Z"},
		{time.Hour, StatusCompleted, "2026-11-28T14:06:00Z"},
	}
	for i, st := range steps {
		env.clock.Advance(st.advance)
		got := job
		if i > 0 {
			got = c.getJSON(http.MethodGet, tenantBase+"/restores/"+id, "", http.StatusOK)
		}
		if got["status"] != st.status {
			t.Fatalf("step %d: status %v, want %s", i, got["status"], st.status)
		}
		for k, v := range fixed {
			if got[k] != v {
				t.Errorf("step %d: %s = %v, want %v", i, k, got[k], v)
			}
		}
		if _, has := got["instanceName"]; has {
			t.Errorf("step %d: tenant job has instanceName", i)
		}
		finished, _ := got["restoreFinishedDate"].(string)
		if finished != st.finished {
			t.Errorf("step %d: restoreFinishedDate %q, want %q", i, finished, st.finished)
		}
		snapURL, hasURL := got["snapshotUrl"].(string)
		snapFinished, hasSnapFinished := got["snapshotFinishedDate"]
		if completed := st.status == StatusCompleted; hasURL != completed {
			t.Errorf("step %d: snapshotUrl %q; want one only when COMPLETED", i, snapURL)
		}
		// The snapshot finished before the job began: its date shows at
		// every step (README, "The Atlas simulator").
		if !hasSnapFinished || snapFinished != "2026-11-28T12:03:00Z" {
			t.Errorf("step %d: snapshotFinishedDate %v, want the snapshot's finishTime", i, snapFinished)
		}
		links, _ := got["links"].([]any)
		if len(links) != 1 || links[0].(map[string]any)["href"] != env.srv.URL+tenantBase+"/restores/"+id {
			t.Errorf("step %d: links %v", i, got["links"])
		}
		hook, ok := env.sim.Job(DefaultProjectID, DefaultClusterName, id)
		if !ok || hook.Status != st.status || hook.SnapshotURL != snapURL {
			t.Errorf("step %d: Job() = %+v, %v", i, hook, ok)
		}
		if !hook.ExpirationDate.Equal(testStart.Add(4 * time.Hour)) {
			t.Errorf("step %d: Job().ExpirationDate %v", i, hook.ExpirationDate)
		}
	}
}

func TestDownloadCompletesAtOnceByDefault(t *testing.T) {
	env := newSimEnv(t, Config{})
	c := env.client()
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	if job["status"] != StatusCompleted || job["restoreFinishedDate"] != "2026-11-28T14:03:00Z" {
		t.Fatalf("job = %v", job)
	}
	pattern := regexp.MustCompile(`^` + regexp.QuoteMeta(env.srv.URL) + `/backup/restore/([0-9a-f]{24})/restore-` + DefaultSnapshotID +
		`\.tar\.gz\?token=[0-9a-f]{32,}&expires=(\d+)$`)
	m := pattern.FindStringSubmatch(job["snapshotUrl"].(string))
	if m == nil || m[1] != job["id"] || m[2] != strconv.FormatInt(testStart.Add(4*time.Hour).Unix(), 10) {
		t.Errorf("snapshotUrl %q does not have the presigned shape (want expires=%d)", job["snapshotUrl"], testStart.Add(4*time.Hour).Unix())
	}

	// A second request makes a second job, listed first.
	env.clock.Advance(time.Minute)
	second := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultOlderSnapshotID), http.StatusOK)
	list := c.getJSON(http.MethodGet, tenantBase+"/restores", "", http.StatusOK)
	results := list["results"].([]any)
	if len(results) != 2 || results[0].(map[string]any)["id"] != second["id"] || results[1].(map[string]any)["id"] != job["id"] {
		t.Errorf("restores list %v, want the newest job first", results)
	}
	if list["totalCount"] != float64(2) {
		t.Errorf("totalCount %v", list["totalCount"])
	}
	// Jobs of another cluster stay apart.
	other := c.getJSON(http.MethodGet, "/api/atlas/v1.0/groups/"+DefaultProjectID+"/clusters/"+DefaultSecondClusterName+"/backup/tenant/restores", "", http.StatusOK)
	if n := len(other["results"].([]any)); n != 0 {
		t.Errorf("Cluster1 lists %d jobs, want 0", n)
	}
}

func TestPublicBaseURL(t *testing.T) {
	env := newSimEnv(t, Config{PublicBaseURL: "https://downloads.example.test:8443/"})
	job := env.client().getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	if u := job["snapshotUrl"].(string); !strings.HasPrefix(u, "https://downloads.example.test:8443/backup/restore/") {
		t.Errorf("snapshotUrl %q does not use PublicBaseURL", u)
	}
	for _, bad := range []string{"ftp://x", "http://", "http://x/path", "://", "http://x?q=1"} {
		if _, err := New(Config{PublicBaseURL: bad}); err == nil {
			t.Errorf("PublicBaseURL %q accepted", bad)
		}
	}
}

// readArchive opens a tar.gz and returns its regular files.
func readArchive(t *testing.T, data []byte) (map[string][]byte, []string) {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		names = append(names, hdr.Name)
		if hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("tar %s: %v", hdr.Name, err)
			}
			files[hdr.Name] = b
		}
	}
	return files, names
}

// checkBSON walks a stream of BSON documents and returns how many there are
// and the names of the first document's fields.
func checkBSON(t *testing.T, data []byte) (int, []string) {
	t.Helper()
	n := 0
	var fields []string
	for len(data) > 0 {
		if len(data) < 5 {
			t.Fatalf("BSON: %d trailing bytes", len(data))
		}
		size := int(binary.LittleEndian.Uint32(data))
		if size < 5 || size > len(data) || data[size-1] != 0 {
			t.Fatalf("BSON: bad document length %d of %d", size, len(data))
		}
		doc := data[4 : size-1]
		for len(doc) > 0 {
			kind := doc[0]
			end := bytes.IndexByte(doc[1:], 0)
			if end < 0 {
				t.Fatal("BSON: unterminated field name")
			}
			name := string(doc[1 : 1+end])
			doc = doc[2+end:]
			var vlen int
			switch kind {
			case 0x01, 0x09:
				vlen = 8
			case 0x02:
				vlen = 4 + int(binary.LittleEndian.Uint32(doc))
				if doc[vlen-1] != 0 {
					t.Fatalf("BSON: string %s not NUL-terminated", name)
				}
			case 0x07:
				vlen = 12
			case 0x08:
				vlen = 1
			case 0x10:
				vlen = 4
			default:
				t.Fatalf("BSON: unexpected type 0x%02x", kind)
			}
			doc = doc[vlen:]
			if n == 0 {
				fields = append(fields, name)
			}
		}
		data = data[size:]
		n++
	}
	return n, fields
}

func TestDownloadArchive(t *testing.T) {
	env := newSimEnv(t, Config{})
	job := env.client().getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	snapURL := job["snapshotUrl"].(string)

	resp, data := send(t, env.srv.Client(), http.MethodGet, snapURL, "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/gzip" {
		t.Errorf("Content-Type %q", ct)
	}
	files, names := readArchive(t, data)
	wantNames := []string{"dump/", "dump/sample_sim/", "restore-info.json", "dump/sample_sim/items.metadata.json", "dump/sample_sim/items.bson"}
	if strings.Join(names, ",") != strings.Join(wantNames, ",") {
		t.Errorf("archive entries %v, want %v", names, wantNames)
	}
	var info map[string]string
	if err := json.Unmarshal(files["restore-info.json"], &info); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"projectId": DefaultProjectID, "clusterName": DefaultClusterName,
		"snapshotId": DefaultSnapshotID, "restoreJobId": job["id"].(string)} {
		if info[k] != v {
			t.Errorf("restore-info %s = %q, want %q", k, info[k], v)
		}
	}
	var meta map[string]any
	if err := json.Unmarshal(files["dump/sample_sim/items.metadata.json"], &meta); err != nil || meta["collectionName"] != "items" {
		t.Errorf("metadata %s: %v", files["dump/sample_sim/items.metadata.json"], err)
	}
	n, fields := checkBSON(t, files["dump/sample_sim/items.bson"])
	if n != 3 || strings.Join(fields, ",") != "_id,name,qty,price,inStock,snapshotId,updatedAt" {
		t.Errorf("BSON: %d documents, fields %v", n, fields)
	}

	_, again := send(t, env.srv.Client(), http.MethodGet, snapURL, "", "")
	if !bytes.Equal(data, again) {
		t.Error("the same job's archive differs between downloads")
	}
}

func TestDownloadURLRejections(t *testing.T) {
	env := newSimEnv(t, Config{})
	job := env.client().getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	good, err := url.Parse(job["snapshotUrl"].(string))
	if err != nil {
		t.Fatal(err)
	}
	with := func(edit func(u *url.URL, q url.Values)) string {
		u := *good
		q := u.Query()
		edit(&u, q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	cases := []struct {
		name   string
		url    string
		status int
		code   string
	}{
		{"wrong token", with(func(_ *url.URL, q url.Values) { q.Set("token", strings.Repeat("0", 40)) }), 403, codeInvalidDownloadToken},
		{"missing token", with(func(_ *url.URL, q url.Values) { q.Del("token") }), 403, codeInvalidDownloadToken},
		{"edited expires", with(func(_ *url.URL, q url.Values) { q.Set("expires", "99999999999") }), 403, codeInvalidDownloadToken},
		{"wrong file name", with(func(u *url.URL, _ url.Values) { u.Path = strings.Replace(u.Path, "restore-", "other-", 1) }), 404, codeResourceNotFound},
		{"unknown job", with(func(u *url.URL, _ url.Values) {
			u.Path = "/backup/restore/0123456789abcdef01234567/restore-" + DefaultSnapshotID + ".tar.gz"
		}), 404, codeResourceNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := send(t, env.srv.Client(), http.MethodGet, tc.url, "", "")
			apiErrorBody(t, resp, data, tc.status, tc.code)
		})
	}

	resp, data := send(t, env.srv.Client(), http.MethodPost, good.String(), "", "")
	apiErrorBody(t, resp, data, http.StatusMethodNotAllowed, codeMethodNotAllowed)

	env.clock.Advance(4*time.Hour - time.Second)
	if resp, data := send(t, env.srv.Client(), http.MethodGet, good.String(), "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("one second before expiry: status %d: %s", resp.StatusCode, data)
	}
	env.clock.Advance(time.Second)
	resp, data = send(t, env.srv.Client(), http.MethodGet, good.String(), "", "")
	apiErrorBody(t, resp, data, http.StatusGone, codeDownloadExpired)
	// Atlas keeps answering for the job itself.
	again := env.client().getJSON(http.MethodGet, tenantBase+"/restores/"+job["id"].(string), "", http.StatusOK)
	if again["status"] != StatusCompleted {
		t.Errorf("expired job status %v", again["status"])
	}
}

func TestSetJobStatusAndDeleteJob(t *testing.T) {
	env := newSimEnv(t, Config{QueuedFor: time.Minute})
	c := env.client()
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	id := job["id"].(string)

	if err := env.sim.SetJobStatus(DefaultProjectID, DefaultClusterName, id, StatusFailed); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(time.Hour) // the schedule would have completed it
	got := c.getJSON(http.MethodGet, tenantBase+"/restores/"+id, "", http.StatusOK)
	if got["status"] != StatusFailed || got["snapshotUrl"] != nil || got["restoreFinishedDate"] != nil {
		t.Errorf("failed job = %v", got)
	}

	if err := env.sim.SetJobStatus(DefaultProjectID, DefaultClusterName, id, StatusCompleted); err != nil {
		t.Fatal(err)
	}
	got = c.getJSON(http.MethodGet, tenantBase+"/restores/"+id, "", http.StatusOK)
	if got["status"] != StatusCompleted || got["restoreFinishedDate"] != "2026-11-28T14:04:00Z" {
		t.Errorf("completed job = %v", got)
	}
	snapURL := got["snapshotUrl"].(string)

	for _, bad := range []struct{ project, cluster, job, status string }{
		{DefaultProjectID, DefaultClusterName, id, "DONE"},
		{DefaultProjectID, DefaultSecondClusterName, id, StatusFailed},
		{DefaultSecondProjectID, DefaultClusterName, id, StatusFailed},
		{DefaultProjectID, DefaultClusterName, "0123456789abcdef01234567", StatusFailed},
	} {
		if err := env.sim.SetJobStatus(bad.project, bad.cluster, bad.job, bad.status); err == nil {
			t.Errorf("SetJobStatus(%v) succeeded", bad)
		}
	}

	if err := env.sim.DeleteJob(DefaultProjectID, DefaultClusterName, id); err != nil {
		t.Fatal(err)
	}
	resp, data := c.do(http.MethodGet, tenantBase+"/restores/"+id, "")
	apiErrorBody(t, resp, data, http.StatusNotFound, codeTenantRestoreNotFound)
	resp, data = send(t, env.srv.Client(), http.MethodGet, snapURL, "", "")
	apiErrorBody(t, resp, data, http.StatusNotFound, codeResourceNotFound)
	if err := env.sim.DeleteJob(DefaultProjectID, DefaultClusterName, id); err == nil {
		t.Error("deleting twice succeeded")
	}
	if _, ok := env.sim.Job(DefaultProjectID, DefaultClusterName, id); ok {
		t.Error("Job() finds a deleted job")
	}
	if n := len(env.sim.Jobs()); n != 0 {
		t.Errorf("Jobs() has %d jobs", n)
	}
}

func TestSeededRestoreJob(t *testing.T) {
	seed := DefaultSeed()
	const jobID = "6568a1b2c3d4e5f6000000f1"
	seed.Projects[0].Clusters[0].RestoreJobs = []SeedRestoreJob{
		{ID: jobID, SnapshotID: DefaultOlderSnapshotID, Status: StatusCompleted, RestoreScheduledDate: "2026-11-28T13:00:00Z"},
		{ID: "6568a1b2c3d4e5f6000000f2", SnapshotID: DefaultSnapshotID, Status: StatusRunning, RestoreScheduledDate: "2026-11-28T14:00:00Z"},
	}
	env := newSimEnv(t, Config{Seed: seed})
	c := env.client()

	hook, ok := env.sim.Job(DefaultProjectID, DefaultClusterName, jobID)
	if !ok || hook.SnapshotURL != "" || hook.Status != StatusCompleted {
		t.Errorf("before any read, Job() = %+v, %v; want COMPLETED without a URL", hook, ok)
	}
	list := c.getJSON(http.MethodGet, tenantBase+"/restores", "", http.StatusOK)
	results := list["results"].([]any)
	if len(results) != 2 || results[0].(map[string]any)["status"] != StatusRunning {
		t.Fatalf("restores = %v", results)
	}
	done := results[1].(map[string]any)
	if done["id"] != jobID || done["expirationDate"] != "2026-11-28T17:00:00Z" || done["restoreFinishedDate"] != "2026-11-28T13:00:00Z" {
		t.Errorf("seeded job = %v", done)
	}
	resp, data := send(t, env.srv.Client(), http.MethodGet, done["snapshotUrl"].(string), "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d %s", resp.StatusCode, data)
	}
	if hook, _ := env.sim.Job(DefaultProjectID, DefaultClusterName, jobID); hook.SnapshotURL != done["snapshotUrl"] {
		t.Errorf("Job().SnapshotURL %q, want %q", hook.SnapshotURL, done["snapshotUrl"])
	}
}

func TestAddSnapshot(t *testing.T) {
	env := newSimEnv(t, Config{})
	snap := SeedSnapshot{ID: "6568a1b2c3d4e5f6000000a9", Status: StatusCompleted, MongoDBVersion: "8.0.4",
		ScheduledTime: "2026-11-28T13:00:00Z", FinishTime: "2026-11-28T13:02:00Z"}
	if err := env.sim.AddSnapshot(DefaultProjectID, DefaultClusterName, snap); err != nil {
		t.Fatal(err)
	}
	list := env.client().getJSON(http.MethodGet, tenantBase+"/snapshots", "", http.StatusOK)
	if first := list["results"].([]any)[0].(map[string]any); first["id"] != snap.ID || first["mongoDBVersion"] != "8.0.4" {
		t.Errorf("newest snapshot = %v", first)
	}
	bad := []struct {
		project, cluster string
		snap             SeedSnapshot
		want             string
	}{
		{DefaultProjectID, DefaultClusterName, snap, "already exists"},
		{DefaultProjectID, DefaultClusterName, SeedSnapshot{ID: "x", Status: StatusCompleted}, "is not 24 lowercase hex"},
		{DefaultProjectID, "Nope", SeedSnapshot{ID: "6568a1b2c3d4e5f6000000aa", Status: StatusRunning}, "No cluster named Nope"},
		{"0123456789abcdef01234567", DefaultClusterName, SeedSnapshot{ID: "6568a1b2c3d4e5f6000000aa", Status: StatusRunning}, "No group"},
	}
	for _, b := range bad {
		err := env.sim.AddSnapshot(b.project, b.cluster, b.snap)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("AddSnapshot(%s, %s, %s) = %v, want %q", b.project, b.cluster, b.snap.ID, err, b.want)
		}
	}
}
