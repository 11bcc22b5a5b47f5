// SPDX-License-Identifier: MPL-2.0

// Command atlasbench measures the provider against the Atlas simulator on
// loopback and writes bench/README.md.
//
// It measures, side by side in each of several runs:
//
//  1. round trips: HTTP requests the simulator saw per API call for
//     `terraform apply` (and a later `terraform plan`) of N downloads,
//     with the API key and with a service account (token requests
//     counted apart). `-only roundtrips` runs this alone and rewrites
//     only its section;
//  2. apply time with a fixed latency added to every request, against the
//     limit of Terraform's own time for N terraform_data resources plus one
//     request's latency per wave of parallel resources;
//  3. start-up: `terraform providers schema -json` time and peak memory, with
//     and without the provider, and the provider binary's size;
//  4. the client's Go benchmarks (go test -bench ./internal/atlas);
//  5. polling: how soon a wait sees a finished download job and how many
//     GETs it costs, old schedule against new, on an in-process simulator
//     and a fake clock (polling.go). `-only polling` runs this alone and
//     rewrites only its section;
//  6. archive: a large generated archive (the simulator's -archive-size)
//     downloaded by curl, by the client and by the provider's
//     atlas_tenant_snapshot_archive action through Terraform 1.14, the
//     provider's peak RSS, and the bytes fetched twice after a drop
//     (archive.go). Only `-only archive` measures it; a full run keeps the
//     section of the report as it is.
//
// Run it from the module root after `make build` (`make bench` does both).
// Nothing leaves the machine: the simulator and any proxy listen on
// 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if provider := os.Getenv(wrapEnvReal); provider != "" {
		os.Exit(wrapProvider(provider))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "atlasbench:", err)
		os.Exit(1)
	}
}

type options struct {
	runs        int
	n           int
	parallelism int
	latency     time.Duration
	terraform   string
	simBin      string
	out         string
	rawDir      string
	goBench     bool
	benchtime   string
	keepTmp     bool
	only        string
	// Section 6 (-only archive).
	archiveSize      string
	archiveRate      string
	terraformActions string
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func run(ctx context.Context, args []string) error {
	var o options
	fs := flag.NewFlagSet("atlasbench", flag.ContinueOnError)
	fs.IntVar(&o.runs, "runs", envInt("BENCH_RUNS", 5), "repetitions of each measurement (env BENCH_RUNS)")
	fs.IntVar(&o.n, "n", envInt("BENCH_N", 100), "resources per configuration (env BENCH_N)")
	fs.IntVar(&o.parallelism, "parallelism", envInt("BENCH_PARALLELISM", 10), "terraform -parallelism (Terraform's default is 10)")
	fs.DurationVar(&o.latency, "latency", 50*time.Millisecond, "latency added to every simulator request for the apply-time comparison")
	fs.StringVar(&o.terraform, "terraform", "", "terraform binary (default: $TERRAFORM, $TF_ACC_TERRAFORM_PATH, then terraform on PATH)")
	fs.StringVar(&o.simBin, "sim", "bin/atlas-sim", "atlas-sim binary")
	fs.StringVar(&o.out, "out", "bench/README.md", "report to write")
	fs.StringVar(&o.rawDir, "raw", "bench/out", "directory for raw samples (ignored by git)")
	fs.BoolVar(&o.goBench, "go-bench", true, "also run the client's Go benchmarks")
	fs.StringVar(&o.benchtime, "benchtime", "1s", "go test -benchtime for the Go benchmarks")
	fs.BoolVar(&o.keepTmp, "keep", false, "keep the temporary directory (mirrors, work directories) for inspection")
	fs.StringVar(&o.only, "only", "", `run one section and rewrite only it in the report: "roundtrips" (section 1, both ways to authenticate; under a minute), "polling" (section 5; seconds, needs no terraform) or "archive" (section 6; about three minutes, Terraform 1.14 for the action)`)
	fs.StringVar(&o.archiveSize, "archive-size", "1GiB", "with -only archive: the simulator's -archive-size (the drop run cuts after half of it)")
	fs.StringVar(&o.archiveRate, "archive-rate", "200MiB", "with -only archive: the simulator's -download-rate (a second) for the paced pair of curl and the action")
	fs.StringVar(&o.terraformActions, "terraform-actions", "", "with -only archive: a Terraform 1.14 or later for the action (default .tools/bin/terraform-1.14.3, then -terraform)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch o.only {
	case "", "roundtrips":
	case "polling":
		return runPollingOnly(ctx, o)
	case "archive":
		if tf, err := findTerraform(o.terraform); err == nil {
			o.terraform = tf
		}
		return runArchiveOnly(ctx, o)
	default:
		return fmt.Errorf("-only %q: the sections that run alone are \"roundtrips\", \"polling\" and \"archive\"", o.only)
	}
	if o.runs < 1 || o.n < 1 || o.parallelism < 1 || o.latency < 0 {
		return errors.New("-runs, -n and -parallelism must be positive and -latency not negative")
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the module root (where go.mod is), for example with `make bench`")
	}
	tf, err := findTerraform(o.terraform)
	if err != nil {
		return err
	}
	o.terraform = tf
	if o.simBin, err = filepath.Abs(o.simBin); err != nil {
		return err
	}
	if _, err := os.Stat(o.simBin); err != nil {
		return fmt.Errorf("simulator binary %s not found: run `make build` first", o.simBin)
	}
	if err := os.MkdirAll(o.rawDir, 0o750); err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "atlasbench-")
	if err != nil {
		return err
	}
	if o.keepTmp {
		fmt.Fprintln(os.Stderr, "atlasbench: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	started := time.Now()
	b, err := newBench(ctx, o, tmp, o.only == "roundtrips")
	if err != nil {
		return err
	}
	if o.only == "roundtrips" {
		return runRoundTripsOnly(ctx, b, started)
	}
	res, err := b.measure(ctx)
	if err != nil {
		return err
	}
	logf("polling schedules on a fake clock")
	if res.polling, err = measurePolling(ctx); err != nil {
		return err
	}
	if o.goBench {
		logf("Go benchmarks of internal/atlas (%d runs, -benchtime %s)", o.runs, o.benchtime)
		if res.goBench, err = runGoBench(ctx, o, filepath.Join(o.rawDir, "gobench.txt")); err != nil {
			return err
		}
	}
	res.elapsed = time.Since(started)
	if err := writeRaw(filepath.Join(o.rawDir, "samples.json"), res); err != nil {
		return err
	}
	report := renderReport(o, b, res)
	if old, err := os.ReadFile(o.out); err == nil {
		report = keepArchiveSection(string(old), report)
	}
	if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil { //nolint:gosec // a committed, public report
		return err
	}
	logf("wrote %s (raw samples in %s) after %s", o.out, o.rawDir, res.elapsed.Round(time.Second))
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "atlasbench: "+format+"\n", args...)
}
