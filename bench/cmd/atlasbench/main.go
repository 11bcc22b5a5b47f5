// SPDX-License-Identifier: MPL-2.0

// Command atlasbench measures the provider against the Atlas simulator on
// loopback and prints the results as markdown tables: first each stated
// target with its verdict, then one section of tables per measurement.
// bench/README.md says what each section measures and why.
//
// Run it from the module root after `make build` (`make bench` does both).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
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
	runs, n, parallelism int
	latency              time.Duration
	archiveMiB, rateMiB  int64
	terraform, simBin    string
}

// target is one stated target and what the runs measured against it.
type target struct {
	name, want, got string
	met             bool
}

// A section measures one thing and writes its tables; terraform says
// whether it needs the provider build and Terraform.
type section struct {
	name      string
	title     string
	terraform bool
	run       func(ctx context.Context, e *env, w io.Writer) ([]target, error)
}

var sections = []section{
	{"roundtrips", "Round trips", true, roundTrips},
	{"apply", "Apply time", true, applyTime},
	{"polling", "Polling", false, polling},
	{"archive", "Archive download", true, archive},
	{"tokens", "Service-account tokens", true, tokens},
	{"budget", "Parallel waits under a rate limit", false, budget},
}

func run(ctx context.Context, args []string) error {
	var o options
	var only, out string
	fs := flag.NewFlagSet("atlasbench", flag.ContinueOnError)
	fs.IntVar(&o.runs, "runs", 5, "repetitions of each measurement")
	fs.IntVar(&o.n, "n", 100, "resources in the round-trip and apply-time configurations")
	fs.IntVar(&o.parallelism, "parallelism", 10, "terraform -parallelism (Terraform's default)")
	fs.DurationVar(&o.latency, "latency", 50*time.Millisecond, "latency the simulator adds to every request in the apply-time section")
	fs.Int64Var(&o.archiveMiB, "archive-mib", 1024, "size of the archive in the archive section, in MiB")
	fs.Int64Var(&o.rateMiB, "rate-mib", 200, "pace of the paced archive link, in MiB a second")
	fs.StringVar(&o.terraform, "terraform", "terraform", "terraform binary (1.14 or later for the archive section)")
	fs.StringVar(&o.simBin, "sim", "bin/atlas-sim", "atlas-sim binary")
	fs.StringVar(&out, "out", "", "file to write the results to (default: standard output)")
	fs.StringVar(&only, "only", "", "comma-separated sections to run (default: all of roundtrips, apply, polling, archive, tokens, budget)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.runs < 1 || o.n < 1 || o.parallelism < 1 || o.archiveMiB < 1 || o.rateMiB < 1 {
		return errors.New("-runs, -n, -parallelism, -archive-mib and -rate-mib must be positive")
	}
	chosen, err := choose(only)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "atlasbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	started, load := time.Now(), loadAverage()
	e, tfVersion := &env{o: o, tmp: tmp}, "not used"
	if slices.ContainsFunc(chosen, func(s section) bool { return s.terraform }) {
		if e, err = newEnv(ctx, o, tmp); err != nil {
			return err
		}
		tfVersion = e.tfVersion
	}
	var body bytes.Buffer
	var targets []target
	for _, s := range chosen {
		logf("section %s", s.name)
		fmt.Fprintf(&body, "## %s\n\n", s.title)
		ts, err := s.run(ctx, e, &body)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		targets = append(targets, ts...)
	}

	var w bytes.Buffer
	fmt.Fprintf(&w, "# Results\n\n")
	table(&w, []string{"", ""},
		[]string{"date", started.UTC().Format("2006-01-02 15:04 UTC")},
		[]string{"settings", fmt.Sprintf("median (min–max) over %d runs; N = %d, `-parallelism=%d`, latency %s; archive %d MiB, paced to %d MiB/s",
			o.runs, o.n, o.parallelism, o.latency, o.archiveMiB, o.rateMiB)},
		[]string{"CPU", fmt.Sprintf("%s, %d logical", procValue("/proc/cpuinfo", "model name"), runtime.NumCPU())},
		[]string{"load average at start (1, 5, 15 min)", load},
		[]string{"OS, Go, Terraform", fmt.Sprintf("%s/%s, %s, %s", runtime.GOOS, runtime.GOARCH, runtime.Version(), tfVersion)},
		[]string{"harness time", time.Since(started).Round(time.Second).String()})
	var rows [][]string
	for _, t := range targets {
		verdict := "**not met**"
		if t.met {
			verdict = "met"
		}
		rows = append(rows, []string{t.name, t.want, t.got, verdict})
	}
	table(&w, []string{"target", "wanted", "measured", "verdict"}, rows...)
	_, _ = body.WriteTo(&w)
	if out == "" {
		_, err = w.WriteTo(os.Stdout)
		return err
	}
	logf("writing %s", out)
	return os.WriteFile(out, w.Bytes(), 0o644) //nolint:gosec // a committed, public report
}

// choose picks the sections named in only, in their usual order.
func choose(only string) ([]section, error) {
	if only == "" {
		return sections, nil
	}
	var out []section
	names := strings.Split(only, ",")
	for _, s := range sections {
		for i, name := range names {
			if name == s.name {
				out = append(out, s)
				names[i] = ""
			}
		}
	}
	if rest := strings.Join(strings.Fields(strings.Join(names, " ")), ", "); rest != "" {
		return nil, fmt.Errorf("-only: no section %s", rest)
	}
	return out, nil
}

// procValue is the value of the first "name : value" line of a Linux /proc
// file; "unknown" elsewhere.
func procValue(path, name string) string {
	data, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage is the system's load averages over 1, 5 and 15 minutes.
func loadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); len(f) >= 3 {
		return strings.Join(f[:3], ", ")
	}
	return "unknown"
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "atlasbench: "+format+"\n", args...)
}
