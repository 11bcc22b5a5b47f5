// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// Section 6 downloads one large generated archive (the simulator's
// -archive-size) on loopback three ways in each run: curl, the client's
// DownloadArchive called from this process, and the provider's
// atlas_tenant_snapshot_archive action through Terraform 1.14; then once
// more with the action against a simulator that cuts every download after
// half the archive, to count the bytes fetched twice.

const archiveSectionHeading = "## 6. Archive download"

// archiveBufferBytes is the size of the client's read buffers
// (internal/atlas/archive.go): the most a resume should fetch twice.
const archiveBufferBytes = 1 << 20

// fetchedTwiceTarget is the most a resume may fetch twice: the target was
// set when the client's buffers were 256KiB, and is kept as it was.
const fetchedTwiceTarget = 256 << 10

// archiveSample is one run of section 6. Seconds are wall times; zero
// means not measured.
type archiveSample struct {
	Order []string `json:"order"`

	CurlSeconds float64 `json:"curlSeconds"`
	// CurlCPUSeconds is curl's user and system CPU time; SimCPUSeconds the
	// simulator's while it served curl (0: unknown on this platform).
	CurlCPUSeconds float64 `json:"curlCpuSeconds"`
	SimCPUSeconds  float64 `json:"simCpuSeconds"`
	// After curl, timed apart: fsync of its file, then one read of it
	// through a gzip reader and SHA-256, the checks the client makes.
	CurlSyncSeconds   float64 `json:"curlSyncSeconds"`
	CurlVerifySeconds float64 `json:"curlVerifySeconds"`
	ClientSeconds     float64 `json:"clientSeconds"`
	// The link read into memory by a plain Go GET, nothing written or
	// checked: its time, the harness's CPU time during it and the
	// simulator's (0: unknown on this platform). No download can cost
	// the two processes less.
	RecvSeconds       float64 `json:"recvSeconds"`
	RecvCPUSeconds    float64 `json:"recvCpuSeconds"`
	RecvSimCPUSeconds float64 `json:"recvSimCpuSeconds"`
	// ActionSeconds is the whole `terraform apply -invoke` of the action;
	// ActionBaseSeconds the same command against a simulator with the
	// small built archive (Terraform and provider start-up, the job read,
	// the tiny download), in the same run.
	ActionSeconds     float64 `json:"actionSeconds"`
	ActionBaseSeconds float64 `json:"actionBaseSeconds"`
	// The provider processes the timed invoke started (through the
	// wrapper), the largest peak RSS among them and their lifetimes.
	ActionProviders       int          `json:"actionProviders"`
	ActionProviderRSSKiB  int64        `json:"actionProviderRssKiB"`
	ActionProviderSeconds float64      `json:"actionProviderSeconds"`
	ActionProviderCPU     float64      `json:"actionProviderCpuSeconds"`
	ActionDownload        simDownloads `json:"actionDownload"`

	// Checksums: of curl's file (computed afterwards, untimed), of the
	// client's result and of the action's path.sha256.
	CurlSHA256 string `json:"curlSha256"`
	// SHA256Seconds is SHA-256 of as many bytes as the archive, from
	// memory, on one core: the least time a download that computes the
	// checksum can take on this machine.
	SHA256Seconds float64 `json:"sha256Seconds"`
	// GunzipSeconds is the gzip check of as many bytes of stored deflate
	// blocks (the generated archive's kind), from memory, on one core.
	GunzipSeconds float64 `json:"gunzipSeconds"`
	ClientSHA256  string  `json:"clientSha256"`
	ActionSHA256  string  `json:"actionSha256"`

	// curl and the action (start-up included) on a simulator whose links
	// are paced to archiveBench.rate, as over a real link.
	PacedCurlSeconds   float64 `json:"pacedCurlSeconds"`
	PacedActionSeconds float64 `json:"pacedActionSeconds"`

	// The download against the simulator with -archive-drop-after.
	DropBy      string       `json:"dropBy"` // "action" or "client"
	DropSeconds float64      `json:"dropSeconds"`
	Drop        simDownloads `json:"drop"`
	DropSHA256  string       `json:"dropSha256"`
}

// fetchedTwice is the bytes the drop run fetched more than the archive.
func (s archiveSample) fetchedTwice(size int64) int64 { return s.Drop.Bytes - size }

// throughput is bytes per second in MiB/s; NaN when not measured.
func throughput(size int64, seconds float64) float64 {
	if seconds <= 0 {
		return math.NaN()
	}
	return float64(size) / (1 << 20) / seconds
}

// parseSize reads 1GiB, 512MiB, 64KiB, 1000000 (bytes).
func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a number of bytes, or one with KiB, MiB or GiB", v)
	}
	return n * mult, nil
}

// sizeText writes a size as the flags take it: 1GiB, 512MiB, 1000 B.
func sizeText(n int64) string {
	for _, u := range []struct {
		unit string
		mult int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return fmt.Sprintf("%d%s", n/u.mult, u.unit)
		}
	}
	return fmt.Sprintf("%d B", n)
}

// terraformMinor parses `terraform version -json` and returns the major
// and minor version.
func terraformMinor(versionJSON []byte) (major, minor int, version string, err error) {
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(versionJSON, &v); err != nil || v.Version == "" {
		return 0, 0, "", errors.New("terraform version -json gave no terraform_version")
	}
	parts := strings.SplitN(strings.TrimPrefix(v.Version, "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, v.Version, fmt.Errorf("terraform version %q", v.Version)
	}
	if major, err = strconv.Atoi(parts[0]); err == nil {
		minor, err = strconv.Atoi(parts[1])
	}
	return major, minor, v.Version, err
}

// findActionTerraform picks a Terraform that runs actions (1.14 or later):
// the flag, .tools/bin/terraform-1.14.3, then the report's terraform.
// It returns "" and why when there is none.
func findActionTerraform(ctx context.Context, flagValue, fallback string) (path, version, why string) {
	for _, c := range []string{flagValue, filepath.Join(".tools", "bin", "terraform-1.14.3"), fallback} {
		if c == "" {
			continue
		}
		p, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		out, err := exec.CommandContext(ctx, p, "version", "-json").Output() //nolint:gosec // the terraform the caller chose
		if err != nil {
			continue
		}
		major, minor, v, err := terraformMinor(out)
		if err != nil || major < 1 || (major == 1 && minor < 14) {
			why = fmt.Sprintf("%s is Terraform %s; actions need 1.14 or later", c, v)
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		return abs, v, ""
	}
	if why == "" {
		why = "no Terraform 1.14 or later was found (pass -terraform-actions, or `make terraform-actions`)"
	}
	return "", "", why
}

func actionConfig() string {
	return fmt.Sprintf(`terraform {
  required_providers {
    atlas = {
      source = "atlas-community/atlas"
    }
  }
}

variable "base_url" {
  type = string
}

variable "job_id" {
  type = string
}

variable "archive_path" {
  type = string
}

provider "atlas" {
  base_url = var.base_url
}

action "atlas_tenant_snapshot_archive" "bench" {
  config {
    project_id   = %q
    cluster_name = %q
    snapshot_id  = %q
    job_id       = var.job_id
    path         = var.archive_path
    overwrite    = true
  }
}
`, projectID, clusterName, snapshotID)
}

// archiveBench is what the runs of section 6 share.
type archiveBench struct {
	b         *bench // for terraform, with the action-capable terraform
	size      int64
	dropAfter int64
	rate      int64  // the simulator's -download-rate for the paced pair
	curl      string // "" when curl is absent
	tfVersion string // "" when no Terraform runs actions
	noAction  string // why the action is not measured
	dir       string // the action's work directory
	files     string // where archives are written (and removed)
}

// runArchiveOnly measures section 6 and rewrites only it in o.out.
func runArchiveOnly(ctx context.Context, o options) error {
	started := time.Now()
	if o.runs < 1 {
		return errors.New("-runs must be positive")
	}
	size, err := parseSize(o.archiveSize)
	if err != nil {
		return fmt.Errorf("-archive-size: %w", err)
	}
	if size < 1<<20 {
		return errors.New("-archive-size: at least 1MiB")
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the module root (where go.mod is)")
	}
	if o.simBin, err = filepath.Abs(o.simBin); err != nil {
		return err
	}
	if out, _ := exec.CommandContext(ctx, o.simBin, "-h").CombinedOutput(); !strings.Contains(string(out), "-download-rate") { //nolint:gosec // the simulator the caller chose
		return fmt.Errorf("simulator %s has no -archive-drop-after / -download-rate: run `make build` first", o.simBin)
	}
	if err := os.MkdirAll(o.rawDir, 0o750); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "atlasbench-archive-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// At most two archives exist at once (a finished one being checked
	// and the next one's temporary file), plus room to spare.
	if free := freeBytes(tmp); free >= 0 && free < 3*size {
		return fmt.Errorf("%s has %s free; section 6 needs about %s (three archives of %s)", tmp, sizeText(free), sizeText(3*size), sizeText(size))
	}

	rate, err := parseSize(o.archiveRate)
	if err != nil || rate < 1<<20 {
		return fmt.Errorf("-archive-rate %q: a size of at least 1MiB (a second)", o.archiveRate)
	}
	ab := &archiveBench{size: size, dropAfter: size / 2, rate: rate, files: filepath.Join(tmp, "files")}
	if err := os.MkdirAll(ab.files, 0o750); err != nil {
		return err
	}
	if ab.curl, err = exec.LookPath("curl"); err != nil {
		ab.curl = ""
	}
	tf, tfVersion, why := findActionTerraform(ctx, o.terraformActions, o.terraform)
	ab.tfVersion, ab.noAction = tfVersion, why
	if tf != "" {
		o.terraform = tf
		if ab.b, err = newArchiveTerraform(ctx, o, tmp); err != nil {
			return err
		}
		ab.dir = filepath.Join(tmp, "action")
	} else {
		logf("archive: the action is not measured: %s", why)
	}

	var ss []archiveSample
	for i := range o.runs {
		logf("archive, run %d of %d (%s)", i+1, o.runs, sizeText(size))
		s, err := ab.measure(ctx, o, i)
		if err != nil {
			return err
		}
		logf("  curl %.2fs, client %.2fs, action %.2fs (start-up %.2fs, provider peak RSS %.1f MiB), drop run: %d bytes sent, %d cuts, fetched twice %d; at %s/s: curl %.2fs, action %.2fs",
			s.CurlSeconds, s.ClientSeconds, s.ActionSeconds, s.ActionBaseSeconds, float64(s.ActionProviderRSSKiB)/1024,
			s.Drop.Bytes, s.Drop.Cut, s.fetchedTwice(size), sizeText(rate), s.PacedCurlSeconds, s.PacedActionSeconds)
		ss = append(ss, s)
	}
	if err := writeJSON(filepath.Join(o.rawDir, "archive.json"), struct {
		Size      int64           `json:"size"`
		DropAfter int64           `json:"dropAfter"`
		Samples   []archiveSample `json:"samples"`
	}{size, ab.dropAfter, ss}); err != nil {
		return err
	}
	old, err := os.ReadFile(o.out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	section := renderArchive(archiveReport{
		Size: size, DropAfter: ab.dropAfter, Rate: rate, Cores: runtime.NumCPU(), Samples: ss, When: time.Now(), Terraform: ab.tfVersion,
		NoAction: ab.noAction, NoCurl: ab.curl == "",
	})
	report := addReproduceLines(spliceSection(string(old), archiveSectionHeading, section))
	if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil { //nolint:gosec // a committed, public report
		return err
	}
	logf("rewrote section 6 of %s after %s", o.out, time.Since(started).Round(time.Second))
	return nil
}

// newArchiveTerraform builds the provider (release flags) behind the
// wrapper, which records each provider process's peak RSS, and prepares
// the action's work directory.
func newArchiveTerraform(ctx context.Context, o options, tmp string) (*bench, error) {
	b := &bench{o: o, tmp: tmp}
	osArch := runtime.GOOS + "_" + runtime.GOARCH
	plugin := func(mirror string) string {
		return filepath.Join(mirror, providerAddr, providerVersion, osArch, "terraform-provider-atlas_v"+providerVersion)
	}
	b.providerBin = filepath.Join(tmp, "provider", "terraform-provider-atlas")
	logf("building the provider (release flags)")
	if err := releaseBuild(ctx, b.providerBin, "."); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	mirror := filepath.Join(tmp, "mirror-wrapped")
	if err := copyFile(self, plugin(mirror)); err != nil {
		return nil, err
	}
	b.wrapOut = filepath.Join(tmp, "provider-rss.txt")
	b.cliConfigWrapped = filepath.Join(tmp, "terraform-wrapped.rc")
	rc := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [%q]\n  }\n  direct {\n    exclude = [%q]\n  }\n}\n",
		mirror, providerAddr, providerAddr)
	if err := os.WriteFile(b.cliConfigWrapped, []byte(rc), 0o600); err != nil {
		return nil, err
	}
	dir := filepath.Join(tmp, "action")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(actionConfig()), 0o600); err != nil {
		return nil, err
	}
	logf("terraform init in action (%s)", o.terraform)
	if _, err := b.terraform(ctx, dir, b.cliConfigWrapped, nil, "init", "-no-color", "-input=false"); err != nil {
		return nil, err
	}
	return b, nil
}

// archiveClient is a client of sm with the simulator's API key.
func archiveClient(sm *sim) (*atlas.Client, error) {
	return atlas.New(atlas.Config{BaseURL: sm.baseURL, PublicKey: simPublicKey, PrivateKey: simPrivateKey})
}

// simWithJob starts a simulator with the extra flags (its log in o.rawDir
// as logName), and returns it with a client of it and a download job whose
// link is ready. The caller stops the simulator.
func simWithJob(ctx context.Context, o options, logName string, extra ...string) (*sim, *atlas.Client, *atlas.RestoreJob, error) {
	sm, err := startSim(ctx, o.simBin, filepath.Join(o.rawDir, logName), 0, false, extra...)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := archiveClient(sm)
	if err == nil {
		var job *atlas.RestoreJob
		if job, err = readyJob(ctx, c); err == nil {
			return sm, c, job, nil
		}
	}
	sm.stop()
	return nil, nil, nil, err
}

// readyJob requests a download job of the bench snapshot and waits for
// its link.
func readyJob(ctx context.Context, c *atlas.Client) (*atlas.RestoreJob, error) {
	cl := atlas.Cluster{Family: atlas.TenantV1, ProjectID: projectID, Name: clusterName}
	job, err := c.RequestDownload(ctx, cl, snapshotID)
	if err != nil {
		return nil, err
	}
	job, err = c.WaitForJob(ctx, cl, job, c.Now().Add(time.Minute))
	if err != nil {
		return nil, err
	}
	if job.Status != atlas.StatusCompleted || job.SnapshotURL == "" {
		return nil, fmt.Errorf("download job %s ended %s without a link", job.ID, job.Status)
	}
	return job, nil
}

// measure is one run: the three timed downloads of one job on a simulator
// with the large archive, in an order that turns from run to run, the
// action's start-up on a simulator with the small archive, and the drop
// run on a third.
func (ab *archiveBench) measure(ctx context.Context, o options, run int) (archiveSample, error) {
	var s archiveSample
	sm, c, job, err := simWithJob(ctx, o, "sim-archive.log", "-archive-size", strconv.FormatInt(ab.size, 10))
	if err != nil {
		return s, err
	}
	err = func() error {
		defer sm.stop()
		steps := []struct {
			name string
			run  func() error
		}{
			{"curl", func() error { return ab.curlOnce(ctx, sm, job.SnapshotURL, &s) }},
			{"client", func() error { return ab.clientOnce(ctx, c, job.SnapshotURL, &s) }},
			{"receive", func() error { return ab.receiveOnce(ctx, sm, job.SnapshotURL, &s) }},
			{"action", func() error { return ab.actionOnce(ctx, sm, job.ID, &s) }},
		}
		for k := range steps {
			step := steps[(run+k)%len(steps)]
			s.Order = append(s.Order, step.name)
			settle()
			if err := step.run(); err != nil {
				return fmt.Errorf("%s: %w", step.name, err)
			}
		}
		settle()
		s.SHA256Seconds = sha256Seconds(ab.size)
		if s.GunzipSeconds, err = gunzipSeconds(ab.size); err != nil {
			return err
		}
		return nil
	}()
	if err != nil {
		return s, err
	}

	// The action's fixed cost: the same command on the small built archive.
	if ab.b != nil {
		small, _, job, err := simWithJob(ctx, o, "sim-archive-small.log")
		if err != nil {
			return s, err
		}
		err = func() error {
			defer small.stop()
			r, _, err := ab.invoke(ctx, small, job.ID)
			s.ActionBaseSeconds = r.seconds
			return err
		}()
		if err != nil {
			return s, fmt.Errorf("action on the small archive: %w", err)
		}
	}

	// The paced pair.
	if err := ab.measurePaced(ctx, o, run, &s); err != nil {
		return s, fmt.Errorf("at %s/s: %w", sizeText(ab.rate), err)
	}

	// The drop run.
	drop, c, job, err := simWithJob(ctx, o, "sim-archive-drop.log",
		"-archive-size", strconv.FormatInt(ab.size, 10), "-archive-drop-after", strconv.FormatInt(ab.dropAfter, 10))
	if err != nil {
		return s, err
	}
	defer drop.stop()
	st0, err := drop.stats(ctx)
	if err != nil {
		return s, err
	}
	if ab.b != nil {
		s.DropBy = "action"
		r, sum, err := ab.invoke(ctx, drop, job.ID)
		if err != nil {
			return s, fmt.Errorf("action with drops: %w", err)
		}
		s.DropSeconds, s.DropSHA256 = r.seconds, sum
	} else {
		s.DropBy = "client"
		path := filepath.Join(ab.files, "drop.tar.gz")
		start := time.Now()
		res, err := c.DownloadArchive(ctx, job.SnapshotURL, atlas.ArchiveOptions{Path: path, Overwrite: true})
		if err != nil {
			return s, fmt.Errorf("client with drops: %w", err)
		}
		s.DropSeconds, s.DropSHA256 = time.Since(start).Seconds(), res.SHA256
		removeArchive(path)
	}
	st1, err := drop.stats(ctx)
	if err != nil {
		return s, err
	}
	s.Drop = st1.minus(st0).Downloads
	return s, nil
}

// measurePaced times curl and the action (each in turn first) on one job
// of a simulator whose download answers are held to ab.rate.
func (ab *archiveBench) measurePaced(ctx context.Context, o options, run int, s *archiveSample) error {
	if ab.curl == "" || ab.b == nil {
		return nil
	}
	sm, _, job, err := simWithJob(ctx, o, "sim-archive-paced.log",
		"-archive-size", strconv.FormatInt(ab.size, 10), "-download-rate", strconv.FormatInt(ab.rate, 10))
	if err != nil {
		return err
	}
	defer sm.stop()
	steps := []func() error{
		func() error {
			path := filepath.Join(ab.files, "curl-paced.tar.gz")
			defer removeArchive(path)
			start := time.Now()
			out, err := exec.CommandContext(ctx, ab.curl, "-sS", "-o", path, job.SnapshotURL).CombinedOutput() //nolint:gosec // curl on the simulator's loopback link
			s.PacedCurlSeconds = time.Since(start).Seconds()
			if err != nil {
				return fmt.Errorf("curl: %w: %s", err, strings.TrimSpace(string(out)))
			}
			return nil
		},
		func() error {
			r, sum, err := ab.invoke(ctx, sm, job.ID)
			if err != nil {
				return fmt.Errorf("action: %w", err)
			}
			if s.CurlSHA256 != "" && sum != s.CurlSHA256 {
				return fmt.Errorf("action: sha256 %s, curl's file %s", sum, s.CurlSHA256)
			}
			s.PacedActionSeconds = r.seconds
			return nil
		},
	}
	for k := range steps {
		settle()
		if err := steps[(run+k)%len(steps)](); err != nil {
			return err
		}
	}
	return nil
}

func removeArchive(path string) {
	_ = os.Remove(path)
	_ = os.Remove(path + ".sha256")
}

// curlOnce times `curl -sS -o FILE LINK`, then, timed apart, the checks
// the client makes after its download: fsync, and one read through a gzip
// reader computing the SHA-256.
func (ab *archiveBench) curlOnce(ctx context.Context, sm *sim, link string, s *archiveSample) error {
	if ab.curl == "" {
		return nil
	}
	path := filepath.Join(ab.files, "curl.tar.gz")
	defer removeArchive(path)
	cmd := exec.CommandContext(ctx, ab.curl, "-sS", "-o", path, link) //nolint:gosec // curl on the simulator's loopback link
	simBefore := procCPUSeconds(sm.cmd.Process.Pid)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	s.CurlSeconds = time.Since(start).Seconds()
	s.CurlCPUSeconds = cpuTime(cmd.ProcessState).Seconds()
	if simAfter := procCPUSeconds(sm.cmd.Process.Pid); simBefore >= 0 && simAfter >= simBefore {
		s.SimCPUSeconds = simAfter - simBefore
	}
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	start = time.Now()
	if err := syncFile(path); err != nil {
		return err
	}
	s.CurlSyncSeconds = time.Since(start).Seconds()
	start = time.Now()
	sum, n, err := verifyFile(path)
	s.CurlVerifySeconds = time.Since(start).Seconds()
	if err != nil {
		return fmt.Errorf("curl's file: %w", err)
	}
	if n != ab.size {
		return fmt.Errorf("curl wrote %d bytes, want %d", n, ab.size)
	}
	s.CurlSHA256 = sum
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// clientOnce times the client's DownloadArchive, called from here.
func (ab *archiveBench) clientOnce(ctx context.Context, c *atlas.Client, link string, s *archiveSample) error {
	path := filepath.Join(ab.files, "client.tar.gz")
	defer removeArchive(path)
	start := time.Now()
	res, err := c.DownloadArchive(ctx, link, atlas.ArchiveOptions{Path: path, Overwrite: true})
	s.ClientSeconds = time.Since(start).Seconds()
	if err != nil {
		return err
	}
	if res.Size != ab.size {
		return fmt.Errorf("the client wrote %d bytes, want %d", res.Size, ab.size)
	}
	s.ClientSHA256 = res.SHA256
	return nil
}

// receiveOnce times a plain GET of the link read into memory and dropped,
// with this process's CPU time and the simulator's during it.
func (ab *archiveBench) receiveOnce(ctx context.Context, sm *sim, link string, s *archiveSample) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return err
	}
	self, simBefore := procCPUSeconds(os.Getpid()), procCPUSeconds(sm.cmd.Process.Pid)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return errors.New("receive: the request failed") // the error would hold the link
	}
	n, err := io.CopyBuffer(io.Discard, resp.Body, make([]byte, archiveBufferBytes))
	_ = resp.Body.Close()
	s.RecvSeconds = time.Since(start).Seconds()
	if selfAfter, simAfter := procCPUSeconds(os.Getpid()), procCPUSeconds(sm.cmd.Process.Pid); self >= 0 && simBefore >= 0 {
		s.RecvCPUSeconds, s.RecvSimCPUSeconds = selfAfter-self, simAfter-simBefore
	}
	if err != nil || resp.StatusCode != http.StatusOK || n != ab.size {
		return fmt.Errorf("receive: status %d, %d bytes of %d", resp.StatusCode, n, ab.size)
	}
	return nil
}

// actionOnce times the action on the job and reads what the wrapper saw.
func (ab *archiveBench) actionOnce(ctx context.Context, sm *sim, jobID string, s *archiveSample) error {
	if ab.b == nil {
		return nil
	}
	st0, err := sm.stats(ctx)
	if err != nil {
		return err
	}
	r, sum, err := ab.invoke(ctx, sm, jobID)
	if err != nil {
		return err
	}
	st1, err := sm.stats(ctx)
	if err != nil {
		return err
	}
	s.ActionSeconds, s.ActionSHA256, s.ActionDownload = r.seconds, sum, st1.minus(st0).Downloads
	for _, p := range readWrap(ab.b.wrapOut) {
		s.ActionProviders++
		s.ActionProviderRSSKiB = max(s.ActionProviderRSSKiB, p.rssKiB)
		s.ActionProviderSeconds += p.seconds
		s.ActionProviderCPU += p.cpuSeconds
	}
	return nil
}

// invoke runs `terraform apply -invoke` of the action on job jobID of sm,
// through the wrapper, and returns the checksum the action wrote.
func (ab *archiveBench) invoke(ctx context.Context, sm *sim, jobID string) (tfRun, string, error) {
	path := filepath.Join(ab.files, "action.tar.gz")
	defer removeArchive(path)
	_ = os.Remove(ab.b.wrapOut)
	env := []string{
		"TF_VAR_base_url=" + sm.baseURL, "TF_VAR_job_id=" + jobID, "TF_VAR_archive_path=" + path,
		wrapEnvReal + "=" + ab.b.providerBin, wrapEnvOut + "=" + ab.b.wrapOut,
	}
	r, err := ab.b.terraform(ctx, ab.dir, ab.b.cliConfigWrapped, env,
		"apply", "-auto-approve", "-no-color", "-input=false", "-invoke=action.atlas_tenant_snapshot_archive.bench")
	if err != nil {
		return r, "", err
	}
	line, err := os.ReadFile(path + ".sha256")
	if err != nil {
		return r, "", fmt.Errorf("the action wrote no checksum: %w", err)
	}
	sum, _, _ := strings.Cut(string(line), " ")
	return r, sum, nil
}

// leastSeconds is the least time a download of the archive that does
// curl's work and computes SHA-256 could take on cores cores: the larger
// of SHA-256 alone (sequential) and all the CPU time it needs spread over
// every core. NaN when a part was not measured.
func leastSeconds(s archiveSample, cores int) float64 {
	return checkedBound(s.CurlCPUSeconds, s.SimCPUSeconds, s, cores)
}

// anyWaySeconds is the least time any download of the archive that
// computes SHA-256 and checks the gzip stream could take on cores cores,
// whatever way it writes (writing is counted as free): the bound of
// checkedBound with the CPU time of receiving the bytes (the plain GET's
// and the simulator's). NaN when a part was not measured.
func anyWaySeconds(s archiveSample, cores int) float64 {
	return checkedBound(s.RecvCPUSeconds, s.RecvSimCPUSeconds, s, cores)
}

// checkedBound is the larger of the two sequential checks (SHA-256 and the
// gzip check, each on one core) and the CPU time of a transfer (the
// client's and the simulator's) plus the checks, spread over cores. NaN
// when a part is unknown (0).
func checkedBound(clientCPU, simCPU float64, s archiveSample, cores int) float64 {
	if clientCPU <= 0 || simCPU <= 0 || s.SHA256Seconds <= 0 || s.GunzipSeconds <= 0 || cores < 1 {
		return math.NaN()
	}
	return max(s.SHA256Seconds, s.GunzipSeconds, (clientCPU+s.SHA256Seconds+s.GunzipSeconds+simCPU)/float64(cores))
}

// settle waits for the writes of the downloads before to reach the disk
// (and the blocks of their removed files to be released), so that a
// download does not pay for the one before it.
func settle() {
	syncAll()
	time.Sleep(time.Second)
}

// sha256Seconds times SHA-256 of size bytes on one core, from a buffer
// that stays in the processor's caches as the archive's bytes do in a
// download.
func sha256Seconds(size int64) float64 {
	buf := make([]byte, archiveBufferBytes)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	h := sha256.New()
	start := time.Now()
	for n := size; n > 0; n -= int64(len(buf)) {
		_, _ = h.Write(buf[:min(n, int64(len(buf)))])
	}
	_ = h.Sum(nil)
	return time.Since(start).Seconds()
}

// gunzipSeconds times the gzip check of size bytes of stored deflate
// blocks on one core: one member of archiveBufferBytes, read again and
// again from memory, as the client's check reads buffers just written.
func gunzipSeconds(size int64) (float64, error) {
	raw := make([]byte, archiveBufferBytes)
	for i := range raw {
		raw[i] = byte(i*131 + i>>9) //nolint:gosec // wraps on purpose: filler bytes
	}
	var member bytes.Buffer
	zw, err := gzip.NewWriterLevel(&member, gzip.NoCompression)
	if err != nil {
		return 0, err
	}
	_, _ = zw.Write(raw)
	if err := zw.Close(); err != nil {
		return 0, err
	}
	out := make([]byte, 64<<10)
	var zr gzip.Reader
	start := time.Now()
	for n := int64(0); n < size; n += int64(member.Len()) {
		if err := zr.Reset(bytes.NewReader(member.Bytes())); err != nil {
			return 0, err
		}
		zr.Multistream(false)
		for {
			_, err := zr.Read(out)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return 0, err
			}
		}
	}
	return time.Since(start).Seconds(), nil
}

// verifyFile reads path once through a gzip reader, as the client's check
// does, and returns the SHA-256 and size of its bytes.
func verifyFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(bufio.NewReaderSize(f, archiveBufferBytes), h)}
	zr, err := gzip.NewReader(cr)
	if err != nil {
		return "", 0, fmt.Errorf("not a gzip stream: %w", err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil { //nolint:gosec // the simulator's archive, decompressed to nowhere
		return "", cr.n, fmt.Errorf("not a complete gzip stream: %w", err)
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return "", cr.n, err
	}
	return hex.EncodeToString(h.Sum(nil)), cr.n, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// archiveReport is what section 6 is rendered from.
type archiveReport struct {
	Size, DropAfter int64
	Samples         []archiveSample
	When            time.Time
	Terraform       string // the version that ran the action
	NoAction        string // why the action was not measured
	NoCurl          bool
	Cores           int   // runtime.NumCPU() of the machine measured
	Rate            int64 // -download-rate of the paced pair
}

// renderArchive is section 6 of the report.
func renderArchive(r archiveReport) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	ss := r.Samples
	size := r.Size
	mibps := func(get func(archiveSample) float64) spread {
		return spreadOf(collect(ss, func(s archiveSample) float64 { return throughput(size, get(s)) }))
	}
	secs := func(get func(archiveSample) float64) spread { return spreadOf(collect(ss, get)) }
	curl := func(s archiveSample) float64 { return s.CurlSeconds }
	client := func(s archiveSample) float64 { return s.ClientSeconds }
	action := func(s archiveSample) float64 { return s.ActionSeconds }
	actionNet := func(s archiveSample) float64 {
		if s.ActionSeconds <= 0 {
			return 0
		}
		return s.ActionSeconds - s.ActionBaseSeconds
	}
	haveCurl, haveAction := !r.NoCurl, r.NoAction == ""

	p("%s\n\n", archiveSectionHeading)
	p("One snapshot archive of %s (the simulator's `-archive-size %s`: a generated .tar.gz, streamed,\n", sizeText(size), sizeText(size))
	p("the same bytes every time) downloaded on loopback from one download job's link, in the same run,\n")
	p("by `curl -sS -o FILE LINK`, by the client's `DownloadArchive` (`internal/atlas`) called from the\n")
	p("harness, and by the provider's `atlas_tenant_snapshot_archive` action with that job's `job_id`,\n")
	p("run by `terraform apply -invoke` (Terraform %s) with the provider started through the wrapper\n", orUnknown(r.Terraform))
	p("of section 3. The three take turns going first. The harness requests the job and waits for its\n")
	p("link with `internal/atlas`. Files go to the temporary directory (the harness first checks that it\n")
	p("has room for three archives) and are removed after each download; before each download the harness\n")
	p("syncs the file systems and waits a second, so none pays for the writes of the one before.\n\n")
	p("curl only writes the bytes (the system writes them to disk after curl has exited). The client and the\n")
	p("action write the file with direct I/O where the file system allows it (Linux, ext4 and XFS: whole\n")
	p("1MiB buffers, from a goroutine of their own; elsewhere each read of at most 32KiB through the page\n")
	p("cache, starting its writeback as they go), and check, while the bytes arrive, that they are one complete\n")
	p("gzip stream and compute their SHA-256 (in another goroutine, from the buffers just written), then\n")
	p("fsync the file, rename it into place and write `path.sha256`. The action's time is the whole\n")
	p("Terraform command, so Terraform's and the provider's start-up are **included** in the ratio. The row\n")
	p("with start-up subtracted takes away the same command on a simulator with the small built archive, in\n")
	p("the same run.\n\n")
	p("Targets: the action at ≥ 0.9 × curl's throughput; the provider's peak RSS during the action\n")
	p("≤ 64 MiB; after one dropped connection mid-way, bytes fetched twice ≤ %s (one buffer of the client\n", sizeText(fetchedTwiceTarget))
	p("when the target was set; its buffers are %s now, and a buffer that is not full waits across a drop).\n\n", sizeText(archiveBufferBytes))

	p("| download of %s | seconds | MiB/s | ratio to curl (within each run) |\n|---|---|---|---|\n", sizeText(size))
	ratioTo := func(get func(archiveSample) float64) string {
		if !haveCurl {
			return "–"
		}
		return spreadOf(collect(ss, func(s archiveSample) float64 {
			if get(s) <= 0 {
				return math.NaN()
			}
			return s.CurlSeconds / get(s)
		})).format("%.2f")
	}
	if haveCurl {
		p("| `curl -sS -o FILE LINK` | %s | %s | 1 |\n", secs(curl).format("%.2f"), mibps(curl).format("%.0f"))
		p("| curl's CPU time, user + system | %s | | |\n", secs(func(s archiveSample) float64 { return s.CurlCPUSeconds }).format("%.2f"))
		p("| the simulator's CPU time while it serves curl | %s | | |\n", secs(func(s archiveSample) float64 { return s.SimCPUSeconds }).format("%.2f"))
	} else {
		p("| `curl` | not run: no curl on PATH | | |\n")
	}
	curlChecked := func(s archiveSample) float64 {
		if s.CurlSeconds <= 0 {
			return 0
		}
		return s.CurlSeconds + s.CurlSyncSeconds + s.CurlVerifySeconds
	}
	if haveCurl {
		p("| curl's file: fsync | %s | | |\n", secs(func(s archiveSample) float64 { return s.CurlSyncSeconds }).format("%.2f"))
		p("| curl's file: one read through gzip and SHA-256, in the harness | %s | | |\n", secs(func(s archiveSample) float64 { return s.CurlVerifySeconds }).format("%.2f"))
		p("| curl + those checks (the same work as the client) | %s | %s | %s |\n", secs(curlChecked).format("%.2f"), mibps(curlChecked).format("%.0f"), ratioTo(curlChecked))
	}
	sha := func(s archiveSample) float64 { return s.SHA256Seconds }
	p("| SHA-256 of %s from memory on one core, in the harness (no download) | %s | %s | %s |\n",
		sizeText(size), secs(sha).format("%.2f"), mibps(sha).format("%.0f"), ratioTo(sha))
	gunzip := func(s archiveSample) float64 { return s.GunzipSeconds }
	p("| gzip check of %s of stored blocks from memory on one core, in the harness | %s | %s | %s |\n",
		sizeText(size), secs(gunzip).format("%.2f"), mibps(gunzip).format("%.0f"), ratioTo(gunzip))
	recv := func(s archiveSample) float64 { return s.RecvSeconds }
	p("| the link read into memory by a plain Go GET, nothing written or checked, in the harness | %s | %s | %s |\n",
		secs(recv).format("%.2f"), mibps(recv).format("%.0f"), ratioTo(recv))
	p("| that GET's CPU time, user + system; the simulator's while it served it | %s; %s | | |\n",
		secs(func(s archiveSample) float64 { return s.RecvCPUSeconds }).format("%.2f"),
		secs(func(s archiveSample) float64 { return s.RecvSimCPUSeconds }).format("%.2f"))
	p("| client `DownloadArchive` in the harness (verify, SHA-256, fsync included) | %s | %s | %s |\n",
		secs(client).format("%.2f"), mibps(client).format("%.0f"), ratioTo(client))
	if haveAction {
		p("| **action through `terraform apply -invoke`, start-up included** | %s | %s | **%s** |\n",
			secs(action).format("%.2f"), mibps(action).format("%.0f"), ratioTo(action))
		p("| the same command on the small built archive (start-up) | %s | | |\n",
			secs(func(s archiveSample) float64 { return s.ActionBaseSeconds }).format("%.2f"))
		p("| action, start-up subtracted | %s | %s | %s |\n",
			secs(actionNet).format("%.2f"), mibps(actionNet).format("%.0f"), ratioTo(actionNet))
	} else {
		p("| action | not run: %s | | |\n", r.NoAction)
	}
	p("\n")

	pacedCurl := func(s archiveSample) float64 { return s.PacedCurlSeconds }
	pacedAction := func(s archiveSample) float64 { return s.PacedActionSeconds }
	if haveCurl && haveAction && r.Rate > 0 {
		p("The same archive on a simulator whose download answers are paced to %s/s (`-download-rate %s`,\n", sizeText(r.Rate), sizeText(r.Rate))
		p("about %.1f Gbit/s), as over a real link: curl, and the action with start-up included, taking turns.\n\n", float64(r.Rate)*8/1e9)
		p("| on links paced to %s/s | seconds | MiB/s | ratio to curl (within each run) |\n|---|---|---|---|\n", sizeText(r.Rate))
		p("| `curl -sS -o FILE LINK` | %s | %s | 1 |\n", secs(pacedCurl).format("%.2f"), mibps(pacedCurl).format("%.0f"))
		p("| action through `terraform apply -invoke`, start-up included | %s | %s | %s |\n\n",
			secs(pacedAction).format("%.2f"), mibps(pacedAction).format("%.0f"),
			spreadOf(collect(ss, func(s archiveSample) float64 {
				if s.PacedActionSeconds <= 0 {
					return math.NaN()
				}
				return s.PacedCurlSeconds / s.PacedActionSeconds
			})).format("%.2f"))
	}

	sameBytes := true
	for _, s := range ss {
		for _, sum := range []string{s.ClientSHA256, s.ActionSHA256, s.DropSHA256} {
			if sum != "" && s.CurlSHA256 != "" && sum != s.CurlSHA256 {
				sameBytes = false
			}
		}
	}
	if haveCurl {
		if sameBytes {
			p("Every download's SHA-256 (the client's result, the action's `path.sha256`, the drop run's) matched that of curl's file, in every run.\n\n")
		} else {
			p("**The SHA-256 of some download differed from that of curl's file** (see `bench/out/archive.json`).\n\n")
		}
	}

	var ratioMet, rssMet, twiceMet bool
	if haveAction {
		p("| the action's provider | |\n|---|---|\n")
		p("| provider processes the invoke started | %s |\n", spreadOf(collect(ss, func(s archiveSample) float64 { return float64(s.ActionProviders) })).format("%.0f"))
		p("| **peak RSS, largest provider process (MiB)** | **%s** |\n",
			spreadOf(collect(ss, func(s archiveSample) float64 { return float64(s.ActionProviderRSSKiB) / 1024 })).format("%.1f"))
		p("| their lifetimes added up (s) | %s |\n", secs(func(s archiveSample) float64 { return s.ActionProviderSeconds }).format("%.2f"))
		p("| their CPU time added up, user + system (s) | %s |\n", secs(func(s archiveSample) float64 { return s.ActionProviderCPU }).format("%.2f"))
		p("| bytes the simulator's download links sent during the invoke | %s |\n",
			spreadOf(collect(ss, func(s archiveSample) float64 { return float64(s.ActionDownload.Bytes) })).format("%.0f"))
		p("\n")
		rssMet = spreadOf(collect(ss, func(s archiveSample) float64 { return float64(s.ActionProviderRSSKiB) / 1024 })).med <= 64
	}

	by := "the action (through Terraform)"
	if len(ss) > 0 && ss[0].DropBy == "client" {
		by = "the client's `DownloadArchive` (the action could not run)"
	}
	p("With drops: a fresh simulator with `-archive-size %s -archive-drop-after %s` cuts every download\n", sizeText(size), sizeText(r.DropAfter))
	p("response after %s of its body; %s downloads a new job's link once, so the first response\n", sizeText(r.DropAfter), by)
	p("is cut mid-way and the download resumes with a Range request. Bytes fetched twice = the\n")
	p("simulator's `downloads.bytes` (`/__sim/stats`) − the archive's size.\n\n")
	p("| with one drop mid-way | |\n|---|---|\n")
	p("| bytes the download links sent | %s |\n", spreadOf(collect(ss, func(s archiveSample) float64 { return float64(s.Drop.Bytes) })).format("%.0f"))
	p("| answers cut | %s |\n", spreadOf(collect(ss, func(s archiveSample) float64 { return float64(s.Drop.Cut) })).format("%.0f"))
	p("| requests with a Range header | %s |\n", spreadOf(collect(ss, func(s archiveSample) float64 { return float64(s.Drop.RangedRequests) })).format("%.0f"))
	p("| **bytes fetched twice** | **%s** |\n", spreadOf(collect(ss, func(s archiveSample) float64 { return float64(s.fetchedTwice(size)) })).format("%.0f"))
	p("| seconds (whole command) | %s |\n\n", secs(func(s archiveSample) float64 { return s.DropSeconds }).format("%.2f"))
	worstTwice := spreadOf(collect(ss, func(s archiveSample) float64 { return float64(s.fetchedTwice(size)) })).hi
	cutOnce := true
	for _, s := range ss {
		if s.Drop.Cut < 1 {
			cutOnce = false
		}
	}
	twiceMet = cutOnce && worstTwice <= fetchedTwiceTarget

	if haveAction && haveCurl {
		incl := spreadOf(collect(ss, func(s archiveSample) float64 { return s.CurlSeconds / s.ActionSeconds })).med
		net := spreadOf(collect(ss, func(s archiveSample) float64 { return s.CurlSeconds / actionNet(s) })).med
		fastest := spreadOf(collect(ss, curl)).lo
		vsFastest, netVsFastest := fastest/secs(action).lo, fastest/secs(actionNet).lo
		vsFastestMed := fastest / secs(action).med
		// curl's time follows the cost of this machine's page cache, which
		// changes from minute to minute: a slow curl must not make the
		// target look met, so the fastest runs are compared too. Fastest
		// with fastest: curl's fastest against the action's median would
		// hold one tool's luckiest run of several against the other's
		// typical one.
		ratioMet = incl >= 0.9 && vsFastest >= 0.9
		p("Throughput target (the action's throughput ≥ 0.90 of curl's, start-up included, both as the median of\n")
		p("the ratios within each run and fastest run against fastest run): %s (within each run %.2f, fastest against fastest %.2f;\n", verdict(ratioMet), incl, vsFastest)
		p("with start-up subtracted %.2f and %.2f, %s).\n", net, netVsFastest, plainVerdict(net >= 0.9 && netVsFastest >= 0.9))
		p("curl's own time varies from run to run here (%s s, fastest %.2f s), with the cost of this machine's\n", secs(curl).format("%.2f"), fastest)
		p("page cache, and so does the action's (%s s, fastest %.2f s). Fastest is held against fastest:\n", secs(action).format("%.2f"), secs(action).lo)
		p("curl's fastest run against the action's median would hold one tool's luckiest run of %d against\n", len(ss))
		p("the other's typical one (%.2f here).\n", vsFastestMed)
		checked := spreadOf(collect(ss, func(s archiveSample) float64 { return curlChecked(s) / s.ActionSeconds })).med
		p("Against curl followed by the same checks (fsync, gzip read-back, SHA-256) the action's throughput\n")
		p("is %.2f of it with start-up included, %.2f with it subtracted.\n",
			checked, spreadOf(collect(ss, func(s archiveSample) float64 { return curlChecked(s) / actionNet(s) })).med)
		if bound := spreadOf(collect(ss, func(s archiveSample) float64 { return leastSeconds(s, r.Cores) })); !math.IsNaN(bound.med) {
			best := spreadOf(collect(ss, func(s archiveSample) float64 { return s.CurlSeconds / leastSeconds(s, r.Cores) })).med
			p("The least time a download can take here if it receives and writes the bytes as curl does (with\n")
			p("curl's CPU time), checks the gzip stream and computes SHA-256 (no fsync, no start-up), with no core\n")
			p("ever idle, is the largest of SHA-256 on one\n")
			p("core (it is sequential), the gzip check on one core (so is it) and (curl's CPU time + SHA-256 + gzip\n")
			p("check + the simulator's CPU time) / %d cores: %s s, so\n", r.Cores, bound.format("%.2f"))
			p("at best %.2f of curl's throughput.", best)
			if !ratioMet && best < 0.9 {
				p(" Such a download cannot meet the throughput target on this machine.")
			}
			p("\n")
		}
		if bound := spreadOf(collect(ss, func(s archiveSample) float64 { return anyWaySeconds(s, r.Cores) })); !math.IsNaN(bound.med) {
			withStart := func(s archiveSample) float64 { return anyWaySeconds(s, r.Cores) + s.ActionBaseSeconds }
			best := min(spreadOf(collect(ss, func(s archiveSample) float64 { return s.CurlSeconds / withStart(s) })).med,
				fastest/spreadOf(collect(ss, withStart)).lo)
			bestNet := min(spreadOf(collect(ss, func(s archiveSample) float64 { return s.CurlSeconds / anyWaySeconds(s, r.Cores) })).med,
				fastest/bound.lo)
			p("Whatever way a download writes (direct I/O included, and even if writing cost nothing), it\n")
			p("must receive the bytes, which costs at least what the plain GET above and the simulator serving it\n")
			p("spent, and compute SHA-256 and check the gzip stream: the largest of SHA-256 on one core, the gzip\n")
			p("check on one core and (the GET's CPU time + the simulator's + SHA-256 + gzip check) / %d cores is\n", r.Cores)
			p("%s s. With the action's start-up added, that is at best %.2f of curl's throughput, within each run\n", bound.format("%.2f"), best)
			p("or fastest against fastest, whichever is lower (%.2f without start-up).", bestNet)
			if !ratioMet && best < 0.9 {
				p(" **No download that computes SHA-256 and checks the gzip stream, whatever way it writes, can\n")
				p("meet the throughput target, start-up included, on this machine in these runs.**")
			}
			p("\n")
		}
		if paced := spreadOf(collect(ss, func(s archiveSample) float64 {
			if s.PacedActionSeconds <= 0 {
				return math.NaN()
			}
			return s.PacedCurlSeconds / s.PacedActionSeconds
		})); !math.IsNaN(paced.med) {
			p("On links paced to %s/s (the second table above), where the network and not this machine's\n", sizeText(r.Rate))
			p("processors sets the pace,")
			p(" the action's throughput is %s of curl's, start-up included.\n", paced.format("%.2f"))
		}
	} else {
		p("Throughput target: not measured (%s).\n", firstNonEmpty(r.NoAction, "no curl"))
	}
	if haveAction {
		p("Peak RSS target (median ≤ 64 MiB): %s.\n", verdict(rssMet))
	} else {
		p("Peak RSS target: not measured (%s).\n", r.NoAction)
	}
	p("Bytes fetched twice target (≤ %d bytes in every run, with at least one cut): %s (most: %.0f).\n\n", fetchedTwiceTarget, verdict(twiceMet), worstTwice)

	if !r.When.IsZero() {
		p("This section was measured alone (`-only archive`) on %s: median (min–max) over %d runs. The full\n", r.When.UTC().Format("2006-01-02 15:04 UTC"), len(ss))
		p("`make bench` does not measure it (%s of disk writes per sample, and Terraform 1.14) and keeps it as it is.\n\n", sizeText(4*size))
	}
	p("Run this section alone (about three minutes, after `make build`; needs Terraform 1.14 for the action and %s free in the temporary directory): `go run ./bench/cmd/atlasbench -only archive`.\n\n", sizeText(3*size))
	return w.String()
}

func plainVerdict(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

func orUnknown(s string) string {
	if s == "" {
		return "none found"
	}
	return s
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// keepArchiveSection carries section 6 of the old report into a freshly
// rendered one (the full run does not measure it).
func keepArchiveSection(old, fresh string) string {
	i := strings.Index(old, archiveSectionHeading)
	if i < 0 {
		return fresh
	}
	end := len(old)
	if j := strings.Index(old[i+len(archiveSectionHeading):], "\n## "); j >= 0 {
		end = i + len(archiveSectionHeading) + j + 1
	}
	section := old[i:end]
	if !strings.HasSuffix(section, "\n\n") {
		section = strings.TrimRight(section, "\n") + "\n\n"
	}
	return spliceSection(fresh, archiveSectionHeading, section)
}
