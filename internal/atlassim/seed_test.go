// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultSeedRoundTrips(t *testing.T) {
	data, err := json.Marshal(DefaultSeed())
	if err != nil {
		t.Fatal(err)
	}
	seed, err := ParseSeed(data)
	if err != nil {
		t.Fatalf("ParseSeed(default seed): %v", err)
	}
	if len(seed.Projects) != 2 || seed.Projects[0].ID != DefaultProjectID || len(seed.Projects[0].Clusters) != 2 {
		t.Errorf("seed = %+v", seed)
	}
	if seed.Projects[0].Clusters[0].Snapshots[0].FinishTime != "2026-11-28T12:03:00Z" {
		t.Errorf("snapshot = %+v", seed.Projects[0].Clusters[0].Snapshots[0])
	}
	// DefaultSeed hands out copies: editing one does not change the next.
	a := DefaultSeed()
	a.Projects[0].ID = "x"
	if DefaultSeed().Projects[0].ID != DefaultProjectID {
		t.Error("DefaultSeed shares state between calls")
	}
}

const goodSeed = `{"projects":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","clusters":[{"name":"C-1","snapshots":[
  {"id":"bbbbbbbbbbbbbbbbbbbbbbbb","status":"COMPLETED","mongoDBVersion":"7.0.14",
   "scheduledTime":"2026-11-28T12:00:00Z","startTime":"2026-11-28T12:00:04Z",
   "finishTime":"2026-11-28T12:03:00+00:00","expiration":"2026-12-05T12:03:00Z"}],
  "restoreJobs":[{"id":"cccccccccccccccccccccccc","snapshotId":"bbbbbbbbbbbbbbbbbbbbbbbb","status":"FAILED",
   "deliveryType":"DOWNLOAD","restoreScheduledDate":"2026-11-28T13:00:00Z"}]}]}]}`

func TestParseSeedErrors(t *testing.T) {
	// edit turns goodSeed into a bad one by replacing old.
	edit := func(old, replacement string) string {
		if !strings.Contains(goodSeed, old) {
			t.Fatalf("goodSeed lacks %q", old)
		}
		return strings.Replace(goodSeed, old, replacement, 1)
	}
	const snap = "projects[0].clusters[0].snapshots[0]"
	const job = "projects[0].clusters[0].restoreJobs[0]"
	cases := []struct {
		name, seed, want string
	}{
		{"empty", "", "empty seed"},
		{"not json", "{projects", "invalid JSON at line 1, column 2"},
		{"truncated", `{"projects":[`, "unexpected end"},
		{"trailing data", goodSeed + "{}", "unexpected data after"},
		{"top-level array", `[]`, "seed: want a JSON object, got an array"},
		{"unknown top-level field", `{"projects":[],"keys":1}`, `seed: unknown field "keys"`},
		{"unknown project field", edit(`"clusters":[`, `"nickname":"p","clusters":[`), `projects[0]: unknown field "nickname"`},
		{"unknown snapshot field", edit(`"mongoDBVersion"`, `"size":1,"mongoDBVersion"`), snap + `: unknown field "size"`},
		{"unknown job field", edit(`"deliveryType"`, `"snapshotUrl":"x","deliveryType"`), job + `: unknown field "snapshotUrl"`},
		{"number as id", edit(`"id":"aaaaaaaaaaaaaaaaaaaaaaaa"`, `"id":12`), "projects[0].id: want a string, got a number"},
		{"object as snapshots", `{"projects":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","clusters":[{"name":"C","snapshots":{}}]}]}`, "projects[0].clusters[0].snapshots: want a JSON array, got an object"},
		{"uppercase project id", edit("aaaaaaaaaaaaaaaaaaaaaaaa", "AAAAAAAAAAAAAAAAAAAAAAAA"), `projects[0].id: "AAAAAAAAAAAAAAAAAAAAAAAA" is not 24 lowercase hex digits`},
		{"short snapshot id", edit(`"id":"bbbbbbbbbbbbbbbbbbbbbbbb"`, `"id":"ABC"`), snap + `.id: "ABC" is not 24 lowercase hex digits`},
		{"missing project id", edit(`"id":"aaaaaaaaaaaaaaaaaaaaaaaa",`, ``), "projects[0].id: required"},
		{"bad cluster name", edit(`"name":"C-1"`, `"name":"-C1"`), `projects[0].clusters[0].name: "-C1" is not a valid cluster name`},
		{"cluster name with space", edit(`"name":"C-1"`, `"name":"C 1"`), `"C 1" is not a valid cluster name`},
		{"missing cluster name", edit(`"name":"C-1",`, ``), "projects[0].clusters[0].name: required"},
		{"bad snapshot status", edit(`"status":"COMPLETED"`, `"status":"DONE"`), snap + `.status: "DONE" is not one of PENDING, QUEUED, RUNNING, FAILED, COMPLETED`},
		{"lowercase status", edit(`"status":"COMPLETED"`, `"status":"completed"`), snap + `.status: "completed" is not one of`},
		{"bad date", edit(`"scheduledTime":"2026-11-28T12:00:00Z"`, `"scheduledTime":"2026-11-28 12:00"`), snap + `.scheduledTime: "2026-11-28 12:00" is not an RFC 3339 date`},
		{"completed without finish", edit(`"finishTime":"2026-11-28T12:03:00+00:00",`, ``), snap + ".finishTime: required when status is COMPLETED"},
		{"bad job status", edit(`"status":"FAILED"`, `"status":"CLOSED"`), job + `.status: "CLOSED" is not one of`},
		{"bad delivery type", edit(`"deliveryType":"DOWNLOAD"`, `"deliveryType":"EMAIL"`), job + `.deliveryType: "EMAIL" is not one of DOWNLOAD, RESTORE`},
		{"job without date", edit(`,"restoreScheduledDate":"2026-11-28T13:00:00Z"`, ``), job + ".restoreScheduledDate: required"},
		{"job of unknown snapshot", edit(`"snapshotId":"bbbbbbbbbbbbbbbbbbbbbbbb"`, `"snapshotId":"dddddddddddddddddddddddd"`), job + `.snapshotId: no snapshot "dddddddddddddddddddddddd" in this cluster`},
		{"duplicate project", `{"projects":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa"},{"id":"aaaaaaaaaaaaaaaaaaaaaaaa"}]}`,
			`projects[1].id: duplicate project id "aaaaaaaaaaaaaaaaaaaaaaaa" (first at projects[0].id)`},
		{"duplicate cluster", `{"projects":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","clusters":[{"name":"C"},{"name":"C"}]}]}`,
			`projects[0].clusters[1].name: duplicate cluster name "C"`},
		{"duplicate snapshot across clusters", `{"projects":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","clusters":[
			{"name":"A","snapshots":[{"id":"bbbbbbbbbbbbbbbbbbbbbbbb","status":"RUNNING"}]},
			{"name":"B","snapshots":[{"id":"bbbbbbbbbbbbbbbbbbbbbbbb","status":"RUNNING"}]}]}]}`,
			`projects[0].clusters[1].snapshots[0].id: duplicate snapshot id`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSeed([]byte(tc.seed))
			if err == nil {
				t.Fatalf("ParseSeed accepted %s", tc.seed)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseSeedReportsEveryProblem(t *testing.T) {
	_, err := ParseSeed([]byte(`{"projects":[{"id":"x","clusters":[{"name":"-","snapshots":[{"id":"y","status":"z"}]}]}]}`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"projects[0].id", "projects[0].clusters[0].name", "snapshots[0].id", "snapshots[0].status"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %s", err, want)
		}
	}
}

func TestLoadSeedFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(goodSeed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"projects":[{"id":"nope"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	seed, err := LoadSeedFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Seed: seed}); err != nil {
		t.Errorf("New with a loaded seed: %v", err)
	}
	for _, tc := range []struct{ path, want string }{
		{bad, bad + `: projects[0].id: "nope" is not 24 lowercase hex digits`},
		{filepath.Join(dir, "missing.json"), filepath.Join(dir, "missing.json") + ": no such file or directory"},
	} {
		_, err := LoadSeedFile(tc.path)
		if err == nil || err.Error() != tc.want {
			t.Errorf("LoadSeedFile(%s) = %v, want %q", tc.path, err, tc.want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	seed := DefaultSeed()
	seed.Projects[0].Clusters[0].Snapshots[0].Status = "WHATEVER"
	if _, err := New(Config{Seed: seed}); err == nil || !strings.Contains(err.Error(), "projects[0].clusters[0].snapshots[0].status") {
		t.Errorf("New with a bad seed: %v", err)
	}
	if _, err := New(Config{QueuedFor: -1}); err == nil {
		t.Error("New accepted a negative QueuedFor")
	}
}
