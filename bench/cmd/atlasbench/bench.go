// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

const (
	providerAddr    = "registry.terraform.io/atlas-community/atlas"
	providerVersion = "0.1.0"
	projectID       = "6568a1b2c3d4e5f601234567"
	clusterName     = "Cluster0"
	snapshotID      = "6568a1b2c3d4e5f6000000a1"
)

// bench holds what the runs share: the provider build, the mirrors, the
// prepared work directories and their CLI configurations.
type bench struct {
	o   options
	tmp string

	providerBin   string // the release-like build the runs use
	providerSize  int64  // its size
	devBinSize    int64  // bin/terraform-provider-atlas, if built
	latencyByFlag bool   // the simulator has -latency

	dirDownloads, dirData, dirSchema, dirEmpty, dirWrapped string
	dirWrappedDownloads, dirFloor                          string
	cliConfig, cliConfigWrapped, cliConfigFloor            string
	wrapOut                                                string
}

// sample is one run's measurements.
type sample struct {
	Apply, Plan  simStats // section 1, with the API key
	ApplySeconds float64  // that apply, no added latency
	// Section 1 with a service account, and the provider processes each
	// of its commands started (counted by the wrapper).
	SAApply, SAPlan                   simStats
	SAApplyProviders, SAPlanProviders int

	// Section 2.
	LatencyApply        simStats
	LatencyApplySeconds float64
	DataApplySeconds    float64
	// Applies of the floor provider (bench/cmd/floorprovider), by the
	// name of the variant in floorVariants.
	FloorApplySeconds  map[string]float64
	SchemaSeconds      float64
	SchemaMaxRSSKiB    int64
	EmptySchemaSeconds float64
	EmptySchemaRSSKiB  int64
	ProviderRSSKiB     int64 // the provider process alone, during schema
	// Provider processes one apply (with latency) starts, and their
	// lifetimes, from an extra untimed apply through the wrapper.
	ApplyProviderStarts     int
	ApplyProviderSeconds    []float64
	ApplyProviderCPUSeconds float64
	// CPU time of the whole timed apply with latency (Terraform and
	// provider processes together).
	LatencyApplyCPUSeconds float64
	// Order is the order in which the timed applies of section 2 ran; it
	// turns from run to run so that none always runs on a warmer machine.
	Order []string
}

type results struct {
	samples []sample
	goBench []goBenchResult
	polling *pollResults
	elapsed time.Duration
}

// newBench prepares the runs: everything, or with roundTripsOnly what
// section 1 needs (the provider, the wrapper and two work directories).
func newBench(ctx context.Context, o options, tmp string, roundTripsOnly bool) (*bench, error) {
	b := &bench{o: o, tmp: tmp}
	osArch := runtime.GOOS + "_" + runtime.GOARCH
	plugin := func(mirror string) string {
		return filepath.Join(mirror, providerAddr, providerVersion, osArch, "terraform-provider-atlas_v"+providerVersion)
	}

	// The provider as a release builds it (.goreleaser.yml: -trimpath,
	// -s -w), so size and start-up are what users get.
	mirror := filepath.Join(tmp, "mirror")
	b.providerBin = plugin(mirror)
	logf("building the provider (release flags) into a filesystem mirror")
	if err := releaseBuild(ctx, b.providerBin, "."); err != nil {
		return nil, err
	}
	// The floor, as its own provider in its own mirror.
	mirrorFloor := filepath.Join(tmp, "mirror-floor")
	if !roundTripsOnly {
		logf("building the floor provider into a second mirror")
		if err := releaseBuild(ctx, plugin(mirrorFloor), "./bench/cmd/floorprovider"); err != nil {
			return nil, err
		}
	}
	fi, err := os.Stat(b.providerBin)
	if err != nil {
		return nil, err
	}
	b.providerSize = fi.Size()
	if fi, err := os.Stat(filepath.Join("bin", "terraform-provider-atlas")); err == nil {
		b.devBinSize = fi.Size()
	}

	// A second mirror holds this program as a stand-in that runs the real
	// provider and records its peak memory (see wrap.go).
	mirrorWrapped := filepath.Join(tmp, "mirror-wrapped")
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := copyFile(self, plugin(mirrorWrapped)); err != nil {
		return nil, err
	}
	b.wrapOut = filepath.Join(tmp, "provider-rss.txt")

	b.cliConfig = filepath.Join(tmp, "terraform.rc")
	b.cliConfigWrapped = filepath.Join(tmp, "terraform-wrapped.rc")
	b.cliConfigFloor = filepath.Join(tmp, "terraform-floor.rc")
	for path, m := range map[string]string{b.cliConfig: mirror, b.cliConfigWrapped: mirrorWrapped, b.cliConfigFloor: mirrorFloor} {
		rc := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [%q]\n  }\n  direct {\n    exclude = [%q]\n  }\n}\n",
			m, providerAddr, providerAddr)
		if err := os.WriteFile(path, []byte(rc), 0o600); err != nil {
			return nil, err
		}
	}

	b.latencyByFlag = simHasLatencyFlag(ctx, b.o.simBin)

	type workDir struct {
		dir    *string
		name   string
		config string
		rc     string
	}
	dirs := []workDir{
		{&b.dirDownloads, "downloads", downloadsConfig(o.n), b.cliConfig},
		{&b.dirData, "terraform-data", terraformDataConfig(o.n), b.cliConfig},
		{&b.dirSchema, "schema", downloadsConfig(1), b.cliConfig},
		{&b.dirEmpty, "empty", terraformDataConfig(1), b.cliConfig},
		{&b.dirWrapped, "schema-wrapped", downloadsConfig(1), b.cliConfigWrapped},
		{&b.dirWrappedDownloads, "downloads-wrapped", downloadsConfig(o.n), b.cliConfigWrapped},
		{&b.dirFloor, "floor", downloadsConfig(o.n), b.cliConfigFloor},
	}
	if roundTripsOnly {
		dirs = []workDir{
			{&b.dirDownloads, "downloads", downloadsConfig(o.n), b.cliConfig},
			{&b.dirWrappedDownloads, "downloads-wrapped", downloadsConfig(o.n), b.cliConfigWrapped},
		}
	}
	for _, d := range dirs {
		*d.dir = filepath.Join(tmp, d.name)
		if err := os.MkdirAll(*d.dir, 0o750); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(*d.dir, "main.tf"), []byte(d.config), 0o600); err != nil {
			return nil, err
		}
		logf("terraform init in %s", d.name)
		if _, err := b.terraform(ctx, *d.dir, d.rc, nil, "init", "-no-color", "-input=false"); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// releaseBuild builds the package pkg of this module to out as a release
// does (.goreleaser.yml: CGO off, -trimpath, -s -w), so that size and
// start-up are what users get.
func releaseBuild(ctx context.Context, out, pkg string) error {
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", //nolint:gosec // builds this module
		"-ldflags", "-s -w -X main.version="+providerVersion, "-o", out, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return nil
}

// floorVariant is one way of running the floor provider: this schema or
// the minimal one, through terraform-plugin-framework or answering the
// protocol itself.
type floorVariant struct {
	name, schema, server string
	env                  []string
}

var floorVariants = []floorVariant{
	{"framework", "this resource's", "terraform-plugin-framework", nil},
	{"raw", "this resource's", "the plugin protocol directly (no framework)", []string{"ATLAS_FLOOR_SERVER=raw"}},
	{"framework-minimal", "minimal", "terraform-plugin-framework", []string{"ATLAS_FLOOR_SCHEMA=minimal"}},
	{"raw-minimal", "minimal", "the plugin protocol directly (no framework)", []string{"ATLAS_FLOOR_SCHEMA=minimal", "ATLAS_FLOOR_SERVER=raw"}},
}

func downloadsConfig(n int) string {
	return fmt.Sprintf(`terraform {
  required_providers {
    atlas = {
      source = "atlas-community/atlas"
    }
  }
}

variable "base_url" {
  type    = string
  default = "http://127.0.0.1:8080"
}

provider "atlas" {
  base_url = var.base_url
}

resource "atlas_tenant_snapshot_download" "bench" {
  count        = %d
  project_id   = %q
  cluster_name = %q
  snapshot_id  = %q
}
`, n, projectID, clusterName, snapshotID)
}

func terraformDataConfig(n int) string {
	return fmt.Sprintf(`resource "terraform_data" "bench" {
  count = %d
  input = count.index
}
`, n)
}

// tfRun is one finished terraform command.
type tfRun struct {
	seconds float64
	maxRSS  int64 // KiB, the largest process of the command's tree
	// cpuSeconds is the CPU time of the command and the children it
	// waited for (the provider processes included).
	cpuSeconds float64
}

// auth is how the provider authenticates in a measured command.
type auth int

const (
	authAPIKey         auth = iota // digest, with the simulator's API key
	authServiceAccount             // Bearer tokens from the simulator's service account
)

// env is the credentials for the provider's environment. Only one way is
// set: the provider refuses an environment that sets two.
func (a auth) env() []string {
	if a == authServiceAccount {
		return []string{"MONGODB_ATLAS_CLIENT_ID=" + simClientID, "MONGODB_ATLAS_CLIENT_SECRET=" + simClientSecret}
	}
	return []string{"MONGODB_ATLAS_PUBLIC_KEY=" + simPublicKey, "MONGODB_ATLAS_PRIVATE_KEY=" + simPrivateKey}
}

// terraform runs one terraform command in dir, the provider holding the
// API key, and times it. Its output is shown when the command fails.
func (b *bench) terraform(ctx context.Context, dir, rc string, extraEnv []string, args ...string) (tfRun, error) {
	return b.terraformAs(ctx, authAPIKey, dir, rc, extraEnv, args...)
}

// terraformAs is terraform with the provider authenticating as a says.
func (b *bench) terraformAs(ctx context.Context, a auth, dir, rc string, extraEnv []string, args ...string) (tfRun, error) {
	cmd := exec.CommandContext(ctx, b.o.terraform, args...) //nolint:gosec // the terraform the caller chose
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(),
		"TF_CLI_CONFIG_FILE="+rc,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
	)
	cmd.Env = append(cmd.Env, a.env()...)
	cmd.Env = append(cmd.Env, extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := tfRun{seconds: time.Since(start).Seconds(), maxRSS: maxRSSKiB(cmd.ProcessState), cpuSeconds: cpuTime(cmd.ProcessState).Seconds()}
	if err != nil {
		tail := out.String()
		if len(tail) > 4000 {
			tail = "..." + tail[len(tail)-4000:]
		}
		return r, fmt.Errorf("terraform %s in %s: %w\n%s", strings.Join(args, " "), filepath.Base(dir), err, tail)
	}
	return r, nil
}

// cleanEnv is the environment without variables that would change what
// Terraform or the provider does (logs, plugin caches, Atlas settings).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_") || strings.HasPrefix(name, "MONGODB_ATLAS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func removeState(dir string) error {
	for _, f := range []string{"terraform.tfstate", "terraform.tfstate.backup"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func (b *bench) measure(ctx context.Context) (*results, error) {
	res := &results{}
	par := fmt.Sprintf("-parallelism=%d", b.o.parallelism)
	for i := range b.o.runs {
		var s sample
		logf("run %d of %d", i+1, b.o.runs)

		// 1. Round trips, with the API key and then with a service account.
		if err := b.measureRoundTrips(ctx, &s); err != nil {
			return nil, err
		}

		// 2. Apply time with latency, next to terraform_data and the
		// floor, in an order that turns from run to run so that none
		// always runs on a warmer machine.
		sm, err := startSim(ctx, b.o.simBin, filepath.Join(b.o.rawDir, "sim-latency.log"), b.o.latency, b.latencyByFlag)
		if err != nil {
			return nil, err
		}
		env := []string{"TF_VAR_base_url=" + sm.baseURL}
		err = func() error {
			defer sm.stop()
			data := func() error {
				if err := removeState(b.dirData); err != nil {
					return err
				}
				r, err := b.terraform(ctx, b.dirData, b.cliConfig, nil, "apply", "-auto-approve", "-no-color", par)
				s.DataApplySeconds = r.seconds
				return err
			}
			downloads := func() error {
				if err := removeState(b.dirDownloads); err != nil {
					return err
				}
				st0, err := sm.stats(ctx)
				if err != nil {
					return err
				}
				r, err := b.terraform(ctx, b.dirDownloads, b.cliConfig, env, "apply", "-auto-approve", "-no-color", par)
				if err != nil {
					return err
				}
				s.LatencyApplySeconds = r.seconds
				s.LatencyApplyCPUSeconds = r.cpuSeconds
				st1, err := sm.stats(ctx)
				s.LatencyApply = st1.minus(st0)
				return err
			}
			s.FloorApplySeconds = map[string]float64{}
			floor := func(v floorVariant) func() error {
				return func() error {
					if err := removeState(b.dirFloor); err != nil {
						return err
					}
					fenv := append([]string{"ATLAS_FLOOR_WAIT=" + b.o.latency.String()}, v.env...)
					r, err := b.terraform(ctx, b.dirFloor, b.cliConfigFloor, fenv, "apply", "-auto-approve", "-no-color", par)
					s.FloorApplySeconds[v.name] = r.seconds
					return err
				}
			}
			type step struct {
				name string
				run  func() error
			}
			steps := []step{{"downloads", downloads}, {"terraform_data", data}}
			for _, v := range floorVariants {
				steps = append(steps, step{"floor-" + v.name, floor(v)})
			}
			for k := range steps {
				step := steps[(i+k)%len(steps)]
				s.Order = append(s.Order, step.name)
				if err := step.run(); err != nil {
					return err
				}
			}
			// Untimed: how many provider processes an apply starts, and
			// for how long each lives.
			_ = os.Remove(b.wrapOut)
			if err := removeState(b.dirWrappedDownloads); err != nil {
				return err
			}
			if _, err := b.terraform(ctx, b.dirWrappedDownloads, b.cliConfigWrapped,
				append([]string{wrapEnvReal + "=" + b.providerBin, wrapEnvOut + "=" + b.wrapOut}, env...),
				"apply", "-auto-approve", "-no-color", par); err != nil {
				return err
			}
			for _, p := range readWrap(b.wrapOut) {
				s.ApplyProviderStarts++
				s.ApplyProviderSeconds = append(s.ApplyProviderSeconds, p.seconds)
				s.ApplyProviderCPUSeconds += p.cpuSeconds
			}
			return nil
		}()
		if err != nil {
			return nil, err
		}

		// 3. Start-up: the schema with the provider, without it, and the
		// provider process's own peak memory.
		r, err := b.terraform(ctx, b.dirSchema, b.cliConfig, nil, "providers", "schema", "-json")
		if err != nil {
			return nil, err
		}
		s.SchemaSeconds, s.SchemaMaxRSSKiB = r.seconds, r.maxRSS
		r, err = b.terraform(ctx, b.dirEmpty, b.cliConfig, nil, "providers", "schema", "-json")
		if err != nil {
			return nil, err
		}
		s.EmptySchemaSeconds, s.EmptySchemaRSSKiB = r.seconds, r.maxRSS
		_ = os.Remove(b.wrapOut)
		if _, err := b.terraform(ctx, b.dirWrapped, b.cliConfigWrapped,
			[]string{wrapEnvReal + "=" + b.providerBin, wrapEnvOut + "=" + b.wrapOut},
			"providers", "schema", "-json"); err != nil {
			return nil, err
		}
		for _, p := range readWrap(b.wrapOut) {
			s.ProviderRSSKiB = max(s.ProviderRSSKiB, p.rssKiB)
		}

		logf("  apply %.2fs (%d requests, %d challenges; service account %d requests, %d token requests), with latency %.2fs vs terraform_data %.2fs, floors %v, schema %.2fs",
			s.ApplySeconds, s.Apply.TotalRequests, s.Apply.DigestChallenges, s.SAApply.TotalRequests, s.SAApply.TokenRequests, s.LatencyApplySeconds, s.DataApplySeconds,
			s.FloorApplySeconds, s.SchemaSeconds)
		res.samples = append(res.samples, s)
	}
	return res, nil
}

// measureRoundTrips is section 1 of one run: `terraform apply` of N
// downloads and then `terraform plan`, each on a fresh simulator with no
// added latency, first with the API key (timed: section 2 compares it) and
// then with a service account, through the wrapper so that the provider
// processes each command starts are counted.
func (b *bench) measureRoundTrips(ctx context.Context, s *sample) error {
	par := fmt.Sprintf("-parallelism=%d", b.o.parallelism)
	roundTrips := func(a auth, logName, dir, rc string, extraEnv []string, afterApply, afterPlan func()) (apply, plan simStats, applyRun tfRun, err error) {
		sm, err := startSim(ctx, b.o.simBin, filepath.Join(b.o.rawDir, logName), 0, false)
		if err != nil {
			return apply, plan, applyRun, err
		}
		defer sm.stop()
		env := append([]string{"TF_VAR_base_url=" + sm.baseURL}, extraEnv...)
		if err := removeState(dir); err != nil {
			return apply, plan, applyRun, err
		}
		st0, err := sm.stats(ctx)
		if err != nil {
			return apply, plan, applyRun, err
		}
		if applyRun, err = b.terraformAs(ctx, a, dir, rc, env, "apply", "-auto-approve", "-no-color", par); err != nil {
			return apply, plan, applyRun, err
		}
		afterApply()
		st1, err := sm.stats(ctx)
		if err != nil {
			return apply, plan, applyRun, err
		}
		if _, err := b.terraformAs(ctx, a, dir, rc, env, "plan", "-no-color", par); err != nil {
			return apply, plan, applyRun, err
		}
		afterPlan()
		st2, err := sm.stats(ctx)
		if err != nil {
			return apply, plan, applyRun, err
		}
		return st1.minus(st0), st2.minus(st1), applyRun, nil
	}

	nop := func() {}
	apply, plan, r, err := roundTrips(authAPIKey, "sim.log", b.dirDownloads, b.cliConfig, nil, nop, nop)
	if err != nil {
		return err
	}
	s.Apply, s.Plan, s.ApplySeconds = apply, plan, r.seconds

	_ = os.Remove(b.wrapOut)
	count := func(n *int) func() {
		return func() {
			*n = len(readWrap(b.wrapOut))
			_ = os.Remove(b.wrapOut)
		}
	}
	s.SAApply, s.SAPlan, _, err = roundTrips(authServiceAccount, "sim-service-account.log", b.dirWrappedDownloads, b.cliConfigWrapped,
		[]string{wrapEnvReal + "=" + b.providerBin, wrapEnvOut + "=" + b.wrapOut},
		count(&s.SAApplyProviders), count(&s.SAPlanProviders))
	return err
}

// wrapped is one provider process the wrapper saw.
type wrapped struct {
	rssKiB     int64
	seconds    float64
	cpuSeconds float64
}

// readWrap reads what the wrapper recorded: one line per provider process
// (Terraform may start the provider more than once in one command).
func readWrap(path string) []wrapped {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []wrapped
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rss, us, cpu int64
		if _, err := fmt.Sscan(line, &rss, &us, &cpu); err == nil {
			out = append(out, wrapped{rss, float64(us) / 1e6, float64(cpu) / 1e6})
		}
	}
	return out
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o700) //nolint:gosec // a program Terraform runs
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

func writeRaw(path string, res *results) error {
	data, err := json.MarshalIndent(struct {
		Samples []sample        `json:"samples"`
		GoBench []goBenchResult `json:"goBench"`
		Polling *pollResults    `json:"polling"`
	}{res.samples, res.goBench, res.polling}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// findTerraform picks the terraform binary: the flag, $TERRAFORM,
// $TF_ACC_TERRAFORM_PATH, then PATH.
func findTerraform(flagValue string) (string, error) {
	for _, c := range []string{flagValue, os.Getenv("TERRAFORM"), os.Getenv("TF_ACC_TERRAFORM_PATH"), "terraform"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", errors.New("no terraform found: pass -terraform, set TERRAFORM, or put terraform on PATH")
}
