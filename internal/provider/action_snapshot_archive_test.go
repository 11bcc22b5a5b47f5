// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// Terraform runs actions from 1.14 on; terraform-plugin-testing cannot
// pass -invoke, so the tests trigger the action after a terraform_data
// resource is created.
var needsActions = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)}

// archiveConfig is the provider block, the action and its trigger; attrs
// go inside the action's config block after the cluster and snapshot.
func (e *testEnv) archiveConfig(kind downloadKind, attrs string) string {
	cluster, snapshot := atlassim.DefaultClusterName, atlassim.DefaultSnapshotID
	if kind.family == atlas.Flex {
		cluster, snapshot = atlassim.DefaultFlexClusterName, atlassim.DefaultFlexSnapshotID
	}
	name := "atlas_" + kind.family.Name + "_snapshot_archive"
	return e.providerBlock() + fmt.Sprintf(`
resource "terraform_data" "trigger" {
  # A change of the action's settings creates it again, and so runs it.
  triggers_replace = %[6]q
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.%[1]s.test]
    }
  }
}

action %[1]q "test" {
  config {
    project_id = %[2]q
    %[3]s = %[4]q
    snapshot_id = %[5]q
%[6]s
  }
}
`, name, atlassim.DefaultProjectID, kind.clusterAttr, cluster, snapshot, attrs)
}

// simArchive is what the simulator serves at a job's link.
func (e *testEnv) simArchive(job atlassim.Job) []byte {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.sim.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, job.SnapshotURL, nil))
	if rec.Code != http.StatusOK {
		e.t.Fatalf("the simulator answers %d at job %s's link", rec.Code, job.ID)
	}
	return rec.Body.Bytes()
}

// checkArchive checks that path holds what the simulator serves for the
// newest job, and that path.sha256 is its sha256sum line.
func (e *testEnv) checkArchive(path string, jobs int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		all := e.sim.Jobs()
		if len(all) != jobs {
			return fmt.Errorf("the simulator holds %d jobs, want %d", len(all), jobs)
		}
		newest := all[0]
		for _, j := range all {
			if j.RestoreScheduledDate.After(newest.RestoreScheduledDate) {
				newest = j
			}
		}
		want := e.simArchive(newest)
		got, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(want)
		if string(got) != string(want) {
			return fmt.Errorf("%s has %d bytes, want the simulator's %d (sha256 %x)", path, len(got), len(want), sum)
		}
		line, err := os.ReadFile(path + ".sha256")
		if err != nil {
			return err
		}
		if wantLine := hex.EncodeToString(sum[:]) + "  " + filepath.Base(path) + "\n"; string(line) != wantLine {
			return fmt.Errorf("checksum file = %q, want %q", line, wantLine)
		}
		return nil
	}
}

// linkFront serves the simulator's download links with Range and ETag
// support of its own, and drops connections on demand.
type linkFront struct {
	mu sync.Mutex
	// drops responses are cut after dropAt bytes; afterDrop runs after each.
	drops     int
	dropAt    int
	afterDrop func()
	ranges    []string // the Range header of every download request
	sent      int
}

func (e *testEnv) frontLinks(f *linkFront) {
	e.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/backup/restore/") {
			return false
		}
		whole := r.Clone(r.Context())
		whole.Header.Del("Range")
		whole.Header.Del("If-Range")
		rec := httptest.NewRecorder()
		e.sim.ServeHTTP(rec, whole)
		f.mu.Lock()
		f.ranges = append(f.ranges, r.Header.Get("Range"))
		drop := f.drops > 0
		if drop {
			f.drops--
		}
		f.mu.Unlock()
		if rec.Code != http.StatusOK {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return true
		}
		body := rec.Body.Bytes()
		sum := sha256.Sum256(body)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		w.Header().Set("ETag", etag)
		status := http.StatusOK
		if rg := r.Header.Get("Range"); rg != "" && r.Header.Get("If-Range") == etag {
			start, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
			if err != nil || start >= len(body) {
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return true
			}
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(body)-1, len(body)))
			body, status = body[start:], http.StatusPartialContent
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		if drop && f.dropAt < len(body) {
			_, _ = w.Write(body[:f.dropAt])
			f.mu.Lock()
			f.sent += f.dropAt
			after := f.afterDrop
			f.mu.Unlock()
			w.(http.Flusher).Flush()
			if after != nil {
				after()
			}
			panic(http.ErrAbortHandler)
		}
		_, _ = w.Write(body)
		f.mu.Lock()
		f.sent += len(body)
		f.mu.Unlock()
		return true
	})
}

func (f *linkFront) seen() ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ranges...), f.sent
}

// TestAccArchiveAction_download: each family's action fetches the archive
// and its checksum.
func TestAccArchiveAction_download(t *testing.T) {
	for _, tt := range []struct {
		kind downloadKind
		cfg  atlassim.Config
	}{
		{tenantDownload, atlassim.Config{QueuedFor: time.Minute, RunningFor: time.Minute}},
		{flexDownload, atlassim.Config{QueuedFor: time.Minute}},
	} {
		t.Run(tt.kind.family.Name, func(t *testing.T) {
			env := newTestEnv(t, tt.cfg)
			path := filepath.Join(t.TempDir(), "snap.tar.gz")
			resource.ParallelTest(t, resource.TestCase{
				TerraformVersionChecks:   needsActions,
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config: env.archiveConfig(tt.kind, fmt.Sprintf("path = %q", path)),
					Check:  env.checkArchive(path, 1),
				}},
			})
		})
	}
}

// TestAccArchiveAction_reusesJob: triggered by the download resource and
// given its job_id, the action requests no second job.
func TestAccArchiveAction_reusesJob(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute})
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	cfg := env.providerBlock() + fmt.Sprintf(`
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %[1]q
  cluster_name = %[2]q
  snapshot_id  = %[3]q
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.atlas_tenant_snapshot_archive.test]
    }
  }
}

action "atlas_tenant_snapshot_archive" "test" {
  config {
    project_id   = %[1]q
    cluster_name = %[2]q
    snapshot_id  = %[3]q
    job_id       = atlas_tenant_snapshot_download.test.id
    path         = %[4]q
  }
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, path)
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps:                    []resource.TestStep{{Config: cfg, Check: env.checkArchive(path, 1)}},
	})
}

// TestAccArchiveAction_existingFileWithoutOverwrite: the action fails on
// path before any job is requested, and the file is left alone; with
// overwrite it is replaced.
func TestAccArchiveAction_existingFileWithoutOverwrite(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	if err := os.WriteFile(path, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:      env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q", path)),
				ExpectError: wrapped(`(?s)Archive File Already Exists.*` + regexp.QuoteMeta(filepath.Base(path)) + `.*overwrite`),
			},
			{
				PreConfig: func() {
					if got, _ := os.ReadFile(path); string(got) != "mine" || len(env.sim.Jobs()) != 0 {
						t.Fatalf("after the refusal the file holds %q and the simulator %d jobs", got, len(env.sim.Jobs()))
					}
				},
				Config: env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q\n    overwrite = true", path)),
				Check:  env.checkArchive(path, 1),
			},
		},
	})
}

func TestAccArchiveAction_badPath(t *testing.T) {
	dir := t.TempDir()
	unwritable := filepath.Join(dir, "locked")
	if err := os.Mkdir(unwritable, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		unwritable = "/sys" // read-only even for root
	}
	if f, err := os.CreateTemp(unwritable, "probe-*"); err == nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		t.Skip("no unwritable directory to test with")
	}
	for name, tc := range map[string]struct{ path, says string }{
		"missing directory": {filepath.Join(dir, "nope", "snap.tar.gz"), `nope.* does not exist`},
		"not writable":      {filepath.Join(unwritable, "snap.tar.gz"), ` not writable`},
		"a directory":       {dir, ` is a directory`},
	} {
		t.Run(name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			resource.Test(t, resource.TestCase{
				TerraformVersionChecks:   needsActions,
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config: env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q", tc.path)),
					// At plan time, on the attribute: not "Error when
					// invoking action".
					ExpectError: wrapped(`(?s)Error: Invalid Archive Path with action.atlas_tenant_snapshot_archive.test.*path = .*` + tc.says),
				}},
			})
			if n := len(env.sim.Jobs()); n != 0 {
				t.Errorf("a bad path requested %d jobs", n)
			}
		})
	}
}

// TestAccArchiveAction_zeroTimeout: a timeout that would end the action
// before it asks Atlas anything is refused at plan time, on the attribute.
func TestAccArchiveAction_zeroTimeout(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q\n timeouts {\n invoke = \"0s\"\n }", filepath.Join(t.TempDir(), "a.tar.gz"))),
			ExpectError: wrapped(`(?s)Invalid Timeout.*timeouts.invoke is "0s"`),
		}},
	})
	if n := len(env.sim.Jobs()); n != 0 {
		t.Errorf("a zero timeout requested %d jobs", n)
	}
}

// TestAccArchiveAction_timeoutSaysHowToGoOn: a job still queued when the
// invocation's time runs out is named, with how to go on waiting for it
// (job_id), not with the resources' wait_for_completion, which the action
// does not have.
func TestAccArchiveAction_timeoutSaysHowToGoOn(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Hour})
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q\n timeouts {\n invoke = \"2m\"\n }", path)),
			ExpectError: wrapped(`(?s)Timed Out Waiting for the Download Link.*still QUEUED when the 2m0s timeout ran out.*invoke again with job_id`),
		}},
	})
	if n := len(env.sim.Jobs()); n != 1 {
		t.Errorf("the action requested %d jobs, want 1", n)
	}
}

func TestAccArchiveAction_failedJob(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Hour})
	env.clock.OnSleep(func(n int) error {
		if n == 1 {
			job := env.onlyJob()
			return env.sim.SetJobStatus(job.ProjectID, job.ClusterName, job.ID, "FAILED")
		}
		return nil
	})
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q", path)),
			ExpectError: regexp.MustCompile(`(?s)Download Job Failed.*FAILED`),
		}},
	})
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a failed job left a file at %s", path)
	}
}

// TestAccArchiveAction_resumeAfterDrops: two dropped connections; the
// download resumes with Range each time and fetches no byte twice.
func TestAccArchiveAction_resumeAfterDrops(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	front := &linkFront{drops: 2, dropAt: 100}
	env.frontLinks(front)
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q", path)),
			Check: resource.ComposeTestCheckFunc(env.checkArchive(path, 1), func(*terraform.State) error {
				ranges, sent := front.seen()
				if want := []string{"", "bytes=100-", "bytes=200-"}; strings.Join(ranges, ",") != strings.Join(want, ",") {
					return fmt.Errorf("download requests had Range %q, want %q", ranges, want)
				}
				if size := len(env.simArchive(env.onlyJob())); sent != size {
					return fmt.Errorf("the link sent %d bytes for a %d-byte archive", sent, size)
				}
				return nil
			}),
		}},
	})
}

// TestAccArchiveAction_linkExpiresMidway: the link expires after the
// first part; the action requests a new job, and since the new job's
// archive is another file (ETag differs) it starts over with the new link.
func TestAccArchiveAction_linkExpiresMidway(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	front := &linkFront{drops: 1, dropAt: 100}
	// The link lives four hours, on the clock the action's timeout is
	// counted on too: the action is given longer.
	front.afterDrop = func() { env.clock.Advance(5 * time.Hour) }
	env.frontLinks(front)
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q\n    timeouts {\n      invoke = \"6h\"\n    }", path)),
			Check: resource.ComposeTestCheckFunc(env.checkArchive(path, 2), func(*terraform.State) error {
				ranges, _ := front.seen()
				// The first link, cut; the first link again, now expired
				// (410); the new link, resumed with If-Range, which the
				// other archive's ETag turns into the whole file.
				if len(ranges) != 3 || ranges[0] != "" || ranges[1] != "bytes=100-" || ranges[2] != "bytes=100-" {
					return fmt.Errorf("download requests had Range %q", ranges)
				}
				return nil
			}),
		}},
	})
}

// TestAccArchiveAction_renewsJobWithoutExpirationDate: given a job whose
// answer has no expirationDate and that was requested more than four hours
// ago, the action counts its link as expired, as the download resource
// does, and requests a new job instead of trying the old link.
func TestAccArchiveAction_renewsJobWithoutExpirationDate(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	old := env.outsideJob(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID)
	env.clock.Advance(4*time.Hour + time.Minute)
	var mu sync.Mutex
	var links []string // the path of every download request
	env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		if strings.HasPrefix(r.URL.Path, "/backup/restore/") {
			mu.Lock()
			links = append(links, r.URL.Path)
			mu.Unlock()
			return false
		}
		if !strings.HasSuffix(r.URL.Path, "/restores/"+old.ID) {
			return false
		}
		rec := httptest.NewRecorder()
		env.sim.ServeHTTP(rec, r)
		var job map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &job); err != nil {
			t.Errorf("simulator job is not JSON: %v", err)
		}
		delete(job, "expirationDate")
		body, _ := json.Marshal(job)
		rec.Body.Reset()
		rec.Body.Write(body)
		rec.Header().Del("Content-Length")
		copyAnswer(w, rec)
		return true
	})
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q\n    job_id = %q", path, old.ID)),
			Check: resource.ComposeTestCheckFunc(env.checkArchive(path, 2), func(*terraform.State) error {
				var oldLink *url.URL
				for _, j := range env.sim.Jobs() {
					if j.ID == old.ID {
						oldLink, _ = url.Parse(j.SnapshotURL)
					}
				}
				if oldLink == nil || oldLink.Path == "" {
					return fmt.Errorf("the simulator has no link for job %s", old.ID)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(links) == 0 {
					return errors.New("the action made no download request")
				}
				for _, l := range links {
					if l == oldLink.Path {
						return fmt.Errorf("the action tried job %s's link, expired four hours after its request", old.ID)
					}
				}
				return nil
			}),
		}},
	})
}

func TestArchiveProgressLine(t *testing.T) {
	for _, tc := range []struct {
		p    atlas.ArchiveProgress
		want string
	}{
		{atlas.ArchiveProgress{Done: 512 << 20, Total: 1 << 30, Rate: 64 << 20, ETA: 8 * time.Second}, "Downloaded 512.0 MiB of 1.0 GiB (50%), 64.0 MiB/s, about 8s left."},
		{atlas.ArchiveProgress{Done: 100, Total: -1, ETA: -1}, "Downloaded 100 B."},
		{atlas.ArchiveProgress{Event: atlas.ArchiveResumed, Done: 5, Total: 10}, "The download resumes at byte 5."},
		{atlas.ArchiveProgress{Event: atlas.ArchiveRetrying, Done: 7, Err: &atlas.ArchiveStatusError{StatusCode: 503}, Delay: time.Second}, "The download was interrupted at byte 7 (HTTP 503); retrying in 1s."},
		{atlas.ArchiveProgress{Event: atlas.ArchiveRestarted, Err: atlas.ErrArchiveChanged}, "The download starts again from the beginning: the archive changed on the server, or the server does not resume downloads."},
	} {
		if got := progressLine(tc.p); got != tc.want {
			t.Errorf("progressLine(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestAccArchiveAction_linkNeverLogged runs a download with a drop and a
// renewal, every log at TRACE, and searches the log for the links' tokens.
func TestAccArchiveAction_linkNeverLogged(t *testing.T) {
	logDir := t.TempDir()
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG", "TRACE")
	t.Setenv("TF_LOG_PROVIDER_ATLAS_HTTP", "TRACE")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
	unsetAtlasEnv(t)

	env := newTestEnv(t, atlassim.Config{})
	front := &linkFront{drops: 1, dropAt: 100}
	// The link lives four hours, on the clock the action's timeout is
	// counted on too: the action is given longer.
	front.afterDrop = func() { env.clock.Advance(5 * time.Hour) }
	env.frontLinks(front)
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   needsActions,
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.archiveConfig(tenantDownload, fmt.Sprintf("path = %q\n    timeouts {\n      invoke = \"6h\"\n    }", path)),
			Check:  env.checkArchive(path, 2),
		}},
	})
	data, err := os.ReadFile(filepath.Join(logDir, t.Name()+".log"))
	if err != nil {
		t.Fatal(err)
	}
	log := withoutHarnessConfig(t, string(data))
	lines := strings.Split(log, "\n")
	// The search must have something to search: the retry after the drop
	// and the renewal's request are in the log.
	for _, want := range [][]string{
		{"retrying archive download", "bytes_done=100"},
		{".atlas_http: Atlas HTTP exchange:", "method=POST", "status=200", "/backup/tenant/download"},
		{"archive downloaded", "renewals=1", "requests="},
	} {
		if !anyLineHasAll(lines, want) {
			t.Errorf("the log (%d lines) has no line with all of %q", len(lines), want)
		}
	}
	if n := len(env.linkTokens()); n != 2 {
		t.Errorf("want two links (the first and its renewal), got %d", n)
	}
	for _, leak := range env.secretsIn(log) {
		t.Errorf("the log holds %s", leak)
	}
}

func TestArchiveActionErrors(t *testing.T) {
	done := &atlas.ArchiveResult{Path: "/x/a.tgz", ChecksumPath: "/x/a.tgz.sha256", SHA256: "ab12", Size: 3 << 20}
	for _, tc := range []struct {
		res     *atlas.ArchiveResult
		err     error
		summary string
		onPath  bool
		says    []string
	}{
		{nil, &atlas.ArchiveError{Path: "/x/a.tgz", At: "/x/a.tgz", Kind: atlas.ArchiveExists}, "Archive File Already Exists", true, []string{"overwrite = true"}},
		{nil, &atlas.ArchiveError{Path: "/x/a.tgz", At: "/x/a.tgz.sha256", Kind: atlas.ArchiveExists}, "Archive File Already Exists", true, []string{"/x/a.tgz.sha256, where the checksum of /x/a.tgz goes, already exists"}},
		{nil, &atlas.ArchiveError{Path: "/x/a.tgz", At: "/x/a.tgz", Kind: atlas.ArchiveExists, Found: atlas.ArchiveFoundDangling, Target: "/old/a.tgz"},
			"Archive File Already Exists", true, []string{"/x/a.tgz is a dangling symbolic link (to /old/a.tgz, which does not exist)"}},
		{nil, &atlas.ArchiveError{Path: "/x/a.tgz", At: "/x/a.tgz", Kind: atlas.ArchiveExists, Found: atlas.ArchiveFoundSymlink, Target: "/y/b.tgz"},
			"Archive File Already Exists", true, []string{"/x/a.tgz is a symbolic link to /y/b.tgz"}},
		{nil, &atlas.ArchiveError{Path: "/x/a.tgz", At: "/x", Kind: atlas.ArchiveNoDir}, "Invalid Archive Path", true, []string{"/x does not exist"}},
		{nil, &atlas.ArchiveError{Path: "/x/a.tgz", Kind: atlas.ArchiveStopped, Err: context.DeadlineExceeded}, "Timed Out Downloading the Snapshot Archive", false, []string{"nothing was kept"}},
		{nil, &atlas.ArchiveError{Path: "/x/a.tgz", Kind: atlas.ArchiveCorrupt, Err: errors.New("gzip: invalid header")}, "Snapshot Archive Download Failed", false, []string{"not a complete gzip", "Nothing was kept"}},
		{nil, &atlas.ArchiveError{Path: "/x/a.tgz", Kind: atlas.ArchiveRenewFailed, Err: &atlas.ArchiveError{Path: "/x/a.tgz", At: "/x/a.tgz", Kind: atlas.ArchiveBadLink}},
			"Snapshot Archive Download Failed", false, []string{"no new one could be obtained (the new link Atlas gave is not an https URL)"}},
		{nil, &atlas.ArchiveError{Path: "/x/a.tgz", Kind: atlas.ArchiveUnreachable, Attempts: 1, Err: errors.New("tls: failed to verify certificate"),
			Permanent: &atlas.PermanentFailure{Kind: atlas.UntrustedCertificate, Detail: "x509: certificate signed by unknown authority"}},
			"Snapshot Archive Download Failed", false, []string{"TLS certificate is not trusted: x509: certificate signed by unknown authority", "did not retry"}},
		// The archive is in place: the detail says so, and where it is.
		{done, &atlas.ArchiveError{Path: "/x/a.tgz", At: "/x/a.tgz.sha256", Kind: atlas.ArchiveChecksumFailed, Err: syscall.EISDIR},
			"Snapshot Archive Checksum Not Written", false, []string{"complete at /x/a.tgz (3.0 MiB, sha256 ab12)", "/x/a.tgz.sha256 could not be written: is a directory"}},
	} {
		var d diag.Diagnostics
		addArchiveError(&d, atlassim.DefaultSnapshotID, "6b0ac948c9c2faf635551dde", tc.res, tc.err)
		if len(d) != 1 || d[0].Summary() != tc.summary {
			t.Errorf("%v: diagnostics %v, want one %q", tc.err, d, tc.summary)
			continue
		}
		_, onPath := d[0].(diag.DiagnosticWithPath)
		if onPath != tc.onPath || !strings.Contains(d[0].Detail(), "/x/a.tgz") {
			t.Errorf("%v: on path %v (want %v), detail %q", tc.err, onPath, tc.onPath, d[0].Detail())
		}
		for _, want := range tc.says {
			if !strings.Contains(d[0].Detail(), want) {
				t.Errorf("%v: detail %q does not say %q", tc.err, d[0].Detail(), want)
			}
		}
		if tc.res != nil && strings.Contains(d[0].Detail(), "othing was kept") {
			t.Errorf("%v: detail %q says nothing was kept", tc.err, d[0].Detail())
		}
	}
}

// invokeArchive invokes the tenant archive action through the provider's
// protocol server, configured for env, with the given path, and returns
// its progress lines and final diagnostics. It reads every event, as
// Terraform does until it stops an action.
func (e *testEnv) invokeArchive(ctx context.Context, path string) (progress []string, diags []*tfprotov6.Diagnostic) {
	t := e.t
	t.Helper()
	server := providerserver.NewProtocol6(New("test", WithClock(e.clock.Now, e.clock.Sleep))())()
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	cfg, err := server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: dynamicValue(t, schemas.Provider, map[string]tftypes.Value{
		"base_url": str(e.url), "public_key": str(atlassim.DefaultPublicKey), "private_key": str(atlassim.DefaultPrivateKey),
	})})
	if err != nil || len(cfg.Diagnostics) > 0 {
		t.Fatalf("configuring the provider: %v %v", err, cfg.Diagnostics)
	}
	stream, err := server.(tfprotov6.ActionServer).InvokeAction(ctx, &tfprotov6.InvokeActionRequest{
		ActionType: "atlas_tenant_snapshot_archive",
		Config: dynamicValue(t, schemas.ActionSchemas["atlas_tenant_snapshot_archive"].Schema, map[string]tftypes.Value{
			"project_id": str(atlassim.DefaultProjectID), "cluster_name": str(atlassim.DefaultClusterName),
			"snapshot_id": str(atlassim.DefaultSnapshotID), "path": str(path),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for ev := range stream.Events {
		switch ev := ev.Type.(type) {
		case tfprotov6.ProgressInvokeActionEventType:
			progress = append(progress, ev.Message)
		case tfprotov6.CompletedInvokeActionEventType:
			diags = ev.Diagnostics
		}
	}
	return progress, diags
}

// dynamicValue is a value of schema's type, with set's attributes and the
// others null.
func dynamicValue(t *testing.T, schema *tfprotov6.Schema, set map[string]tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	typ := schema.ValueType().(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
		if v, ok := set[name]; ok {
			vals[name] = v
		}
	}
	dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

// TestArchiveActionStopped: Terraform stops an action by ending its
// context mid-download. The last progress line then says the download did
// not finish and what is on disk, which is nothing: no file at path, no
// part file beside it.
func TestArchiveActionStopped(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var once sync.Once
	env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/backup/restore/") {
			return false
		}
		w.Header().Set("Content-Length", "100000")
		w.Header().Set("ETag", `"x"`)
		_, _ = w.Write(make([]byte, 100))
		w.(http.Flusher).Flush()
		once.Do(stop) // Terraform stops the action while the body is on its way
		<-r.Context().Done()
		return true
	})
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.tar.gz")
	progress, diags := env.invokeArchive(ctx, path)
	if len(diags) != 1 || diags[0].Summary != "Snapshot Archive Download Stopped" {
		t.Errorf("diagnostics %+v, want the download stopped", diags)
	}
	if len(progress) == 0 {
		t.Fatal("no progress line")
	}
	last := progress[len(progress)-1]
	for _, want := range []string{"did not finish", "Nothing was written to " + path, "the part downloaded so far was deleted"} {
		if !strings.Contains(last, want) {
			t.Errorf("the last progress line %q does not say %q", last, want)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left on disk: %v", left)
	}
	// Terraform may drop that line: the first line of the download tells
	// the same.
	if !slices.ContainsFunc(progress, func(l string) bool {
		return strings.HasPrefix(l, "Downloading snapshot") && strings.Contains(l, "temporary file beside it that is deleted if the download does not finish")
	}) {
		t.Errorf("no line says what becomes of an unfinished download: %q", progress)
	}
}

// TestSendProgressGivesUpWhenStopped: once Terraform stops an action,
// nothing may read its events any more; a send then returns when the
// context ends instead of waiting for ever (and holding up the clean-up).
func TestSendProgressGivesUpWhenStopped(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	unread := make(chan action.InvokeProgressEvent) // as the framework's, once nothing reads it
	blocked, returned := make(chan struct{}), make(chan struct{})
	go func() {
		sendProgress(func(ev action.InvokeProgressEvent) { close(blocked); unread <- ev }, ctx.Done(), "Downloaded 1 B.")
		close(returned)
	}()
	<-blocked
	stop()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the send still waits 10s after the action was stopped")
	}
}
