// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// The archive targets: the action at this share of the throughput of curl
// followed by an fsync of its file, on the paced link; and the provider's
// peak RSS during any invoke.
const (
	archiveThroughputTarget = 0.95
	archiveRSSTargetMiB     = 64
)

// jobOutputs, after downloadsConfig(1), show the download job's id and link.
const jobOutputs = `
output "job_id" {
  value = atlas_tenant_snapshot_download.bench[0].id
}

output "snapshot_url" {
  value     = atlas_tenant_snapshot_download.bench[0].snapshot_url
  sensitive = true
}
`

// actionInvoke, after downloadsConfig(0), is the action on a given job.
const actionInvoke = `
variable "job_id" { type = string }
variable "archive_path" { type = string }

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
`

// archiveSample is one run on one link: the seconds of curl, of the fsync
// of its file after it, and of the action's whole Terraform command; and
// the peak RSS (KiB) of each provider process the command started.
type archiveSample struct {
	curl, fsync, action float64
	rssKiB              []int64
}

// archive downloads one generated archive per run with curl and with the
// atlas_tenant_snapshot_archive action through `terraform apply -invoke`,
// in turns, from two simulators: one whose links are paced as a real link
// would be, and one unpaced on loopback.
func archive(ctx context.Context, e *env, w io.Writer) ([]target, error) {
	var major, minor int
	if _, err := fmt.Sscanf(e.tfVersion, "%d.%d", &major, &minor); err != nil || major < 1 || (major == 1 && minor < 14) {
		return nil, fmt.Errorf("actions need Terraform 1.14 or later; %s is %s", e.o.terraform, e.tfVersion)
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		return nil, errors.New("no curl on PATH")
	}
	jobDir, err := e.workDir(ctx, "archive-job", e.rc, downloadsConfig(1)+jobOutputs)
	if err != nil {
		return nil, err
	}
	actionDir, err := e.workDir(ctx, "archive-action", e.rcWrapped, downloadsConfig(0)+
		fmt.Sprintf(actionInvoke, atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID))
	if err != nil {
		return nil, err
	}
	files := filepath.Join(e.tmp, "files")
	if err := os.MkdirAll(files, 0o750); err != nil {
		return nil, err
	}
	size := e.o.archiveMiB << 20
	links := []struct {
		name      string
		flags     []string
		sim       *sim
		job, link string
		samples   []archiveSample
	}{
		{name: fmt.Sprintf("%d MiB paced to %d MiB/s", e.o.archiveMiB, e.o.rateMiB),
			flags: []string{"-archive-size", fmt.Sprint(size), "-download-rate", fmt.Sprint(e.o.rateMiB << 20)}},
		{name: fmt.Sprintf("%d MiB unpaced on loopback (no target)", e.o.archiveMiB), flags: []string{"-archive-size", fmt.Sprint(size)}},
	}
	for i := range links {
		l := &links[i]
		if l.sim, err = e.startSim(ctx, l.flags...); err != nil {
			return nil, err
		}
		defer l.sim.stop()
		if l.job, l.link, err = e.readyJob(ctx, jobDir, l.sim.url); err != nil {
			return nil, err
		}
	}

	for run := range e.o.runs {
		for i := range links {
			l := &links[i]
			var s archiveSample
			for k := range 2 {
				if (run+k)%2 == 0 {
					s.curl, s.fsync, err = curlOnce(ctx, curl, l.link, filepath.Join(files, "curl.tar.gz"), size)
				} else {
					s.action, s.rssKiB, err = e.invoke(ctx, actionDir, l.sim.url, l.job, filepath.Join(files, "action.tar.gz"), size)
				}
				if err != nil {
					return nil, err
				}
			}
			l.samples = append(l.samples, s)
			logf("  run %d, %s: curl %.2fs, fsync %.2fs, action %.2fs, provider RSS %v KiB", run+1, l.name, s.curl, s.fsync, s.action, s.rssKiB)
		}
	}

	var procs [][]string
	for _, l := range links {
		ss := l.samples
		row := func(name string, secs func(archiveSample) float64) []string {
			t := spreadOf(collect(ss, secs))
			mibps := spreadOf(collect(ss, func(s archiveSample) float64 { return float64(e.o.archiveMiB) / secs(s) }))
			rel := spreadOf(collect(ss, func(s archiveSample) float64 { return secs(s) / s.action }))
			return []string{name, t.format("%.2f"), mibps.format("%.0f"), rel.format("%.2f")}
		}
		table(w, []string{"download of " + l.name, "seconds", "MiB/s", "action's throughput ÷ this"},
			row("`curl -o FILE`", func(s archiveSample) float64 { return s.curl }),
			row("`curl -o FILE`, then fsync of FILE", func(s archiveSample) float64 { return s.curl + s.fsync }),
			row("action, `terraform apply -invoke` (whole command)", func(s archiveSample) float64 { return s.action }))
		procs = append(procs, []string{l.name,
			spreadOf(collect(ss, func(s archiveSample) float64 { return float64(len(s.rssKiB)) })).format("%.0f"),
			spreadOf(collect(ss, func(s archiveSample) float64 { return float64(slices.Max(append(s.rssKiB, 0))) / 1024 })).format("%.1f")})
	}
	table(w, []string{"the action's provider", "processes per invoke", "peak RSS of the largest (MiB)"}, procs...)
	return archiveTargets(links[0].name, links[0].samples, links[1].samples), nil
}

// archiveTargets holds the samples against the archive targets: the
// throughput on the paced link, and the peak RSS on both.
func archiveTargets(paced string, pacedSamples, loopback []archiveSample) []target {
	r := spreadOf(collect(pacedSamples, func(s archiveSample) float64 { return (s.curl + s.fsync) / s.action }))
	var peak int64
	for _, s := range slices.Concat(pacedSamples, loopback) {
		peak = max(peak, slices.Max(append(s.rssKiB, 0)))
	}
	return []target{
		{name: "archive throughput", want: fmt.Sprintf("action ≥ %.2f × curl then fsync, %s (median)", archiveThroughputTarget, paced),
			got: r.format("%.2f"), met: r.med >= archiveThroughputTarget},
		{name: "archive peak RSS", want: fmt.Sprintf("provider ≤ %d MiB in every invoke", archiveRSSTargetMiB),
			got: fmt.Sprintf("%.1f MiB", float64(peak)/1024), met: peak > 0 && peak <= archiveRSSTargetMiB<<10},
	}
}

// readyJob requests a download job through the provider on the simulator
// at baseURL and returns its id and link.
func (e *env) readyJob(ctx context.Context, dir, baseURL string) (id, link string, err error) {
	removeState(dir)
	vars := append([]string{"TF_VAR_base_url=" + baseURL}, apiKey...)
	if _, _, err := e.tf(ctx, dir, e.rc, vars, "apply", "-auto-approve"); err != nil {
		return "", "", err
	}
	out, _, err := e.tf(ctx, dir, e.rc, vars, "output", "-json")
	if err != nil {
		return "", "", err
	}
	var v struct {
		ID   struct{ Value string } `json:"job_id"`
		Link struct{ Value string } `json:"snapshot_url"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.ID.Value == "" || v.Link.Value == "" {
		return "", "", errors.New("the download job has no id or no link")
	}
	return v.ID.Value, v.Link.Value, nil
}

// curlOnce times `curl -o path link`, then the fsync of path.
func curlOnce(ctx context.Context, curl, link, path string, size int64) (curlSeconds, fsyncSeconds float64, err error) {
	defer os.Remove(path)
	start := time.Now()
	if out, err := exec.CommandContext(ctx, curl, "-sS", "-o", path, link).CombinedOutput(); err != nil { //nolint:gosec // curl on the simulator's link
		return 0, 0, fmt.Errorf("curl: %w: %s", err, out)
	}
	curlSeconds, start = time.Since(start).Seconds(), time.Now()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		err = firstErr(f.Sync(), f.Close())
	}
	if err != nil {
		return 0, 0, err
	}
	return curlSeconds, time.Since(start).Seconds(), checkSize(path, size)
}

// invoke times the action on job, writing path, and returns the peak RSS
// of each provider process it started.
func (e *env) invoke(ctx context.Context, dir, baseURL, job, path string, size int64) (float64, []int64, error) {
	defer os.Remove(path)
	defer os.Remove(path + ".sha256")
	e.providerRSS()
	vars := append([]string{"TF_VAR_base_url=" + baseURL, "TF_VAR_job_id=" + job, "TF_VAR_archive_path=" + path}, apiKey...)
	_, seconds, err := e.tf(ctx, dir, e.rcWrapped, vars, "apply", "-auto-approve", "-invoke=action.atlas_tenant_snapshot_archive.bench")
	rss := e.providerRSS()
	if err == nil {
		err = checkSize(path, size)
	}
	return seconds, rss, err
}

func checkSize(path string, size int64) error {
	fi, err := os.Stat(path)
	if err == nil && fi.Size() != size {
		err = fmt.Errorf("%s has %d bytes, want %d", filepath.Base(path), fi.Size(), size)
	}
	return err
}
