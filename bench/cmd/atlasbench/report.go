// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// spread is a median with the smallest and largest value.
type spread struct{ med, lo, hi float64 }

func spreadOf(vs []float64) spread {
	if len(vs) == 0 {
		return spread{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{m, s[0], s[len(s)-1]}
}

func (s spread) format(verb string) string {
	med, lo, hi := fmt.Sprintf(verb, s.med), fmt.Sprintf(verb, s.lo), fmt.Sprintf(verb, s.hi)
	if lo == hi {
		return med
	}
	return fmt.Sprintf("%s (%s–%s)", med, lo, hi)
}

func collect[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

func renderReport(o options, b *bench, res *results) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	ss := res.samples
	waves := int(math.Ceil(float64(o.n) / float64(o.parallelism)))

	p("# Benchmarks\n\n")
	p("Written by `make bench` (the harness is [`cmd/atlasbench`](cmd/atlasbench)); do not edit by hand.\n")
	p("Everything runs on this machine against `atlas-sim` on 127.0.0.1. Each run measures every\n")
	p("comparison side by side; the tables give the **median (min–max) over %d runs**. No test asserts\n", len(ss))
	p("any of these numbers.\n\n")

	p("## Machine\n\n| | |\n|---|---|\n")
	for _, row := range machineRows(b.o.terraform) {
		p("| %s | %s |\n", row[0], row[1])
	}
	p("| date | %s |\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	p("| settings | N = %d resources, %d runs, `-parallelism=%d`, added latency %s |\n", o.n, len(ss), o.parallelism, o.latency)
	p("| harness time | %s |\n\n", res.elapsed.Round(time.Second))

	p("%s", renderRoundTrips(o, ss, time.Time{}, ""))

	// 2. Apply time with latency.
	how := "the simulator's `-latency` flag"
	if !b.latencyByFlag {
		how = "a proxy in the harness that waits before forwarding each request (this `atlas-sim` has no `-latency` flag)"
	}
	p("## 2. Apply time with %s per request\n\n", o.latency)
	p("`terraform apply` of N = %d downloads with %s added to every request (by %s), next to\n", o.n, o.latency, how)
	p("`terraform apply` of N = %d `terraform_data` resources in the same run. The limit is Terraform's own\n", o.n)
	p("time plus one request's latency for each wave of parallel resources: terraform_data + ceil(%d/%d) × %s.\n", o.n, o.parallelism, o.latency)
	p("Target: downloads within 1.2 × the limit. The ratio is computed within each run, then summarized.\n\n")
	limit := func(s sample) float64 { return s.DataApplySeconds + float64(waves)*o.latency.Seconds() }
	ratios := collect(ss, func(s sample) float64 { return s.LatencyApplySeconds / limit(s) })
	p("| measurement | seconds |\n|---|---|\n")
	p("| apply %d downloads, +%s per request | %s |\n", o.n, o.latency, spreadOf(collect(ss, func(s sample) float64 { return s.LatencyApplySeconds })).format("%.2f"))
	p("| apply %d `terraform_data` | %s |\n", o.n, spreadOf(collect(ss, func(s sample) float64 { return s.DataApplySeconds })).format("%.2f"))
	p("| limit: `terraform_data` + %d × %s | %s |\n", waves, o.latency, spreadOf(collect(ss, limit)).format("%.2f"))
	p("| **ratio downloads / limit** | **%s** |\n", spreadOf(ratios).format("%.2f"))
	p("| apply %d downloads, no added latency (section 1, API key) | %s |\n", o.n, spreadOf(collect(ss, func(s sample) float64 { return s.ApplySeconds })).format("%.2f"))
	p("| HTTP requests during the apply with latency | %s |\n", spreadOf(collect(ss, func(s sample) float64 { return float64(s.LatencyApply.TotalRequests) })).format("%.0f"))
	p("| provider processes one apply starts (untimed extra apply through the wrapper) | %s |\n",
		spreadOf(collect(ss, func(s sample) float64 { return float64(s.ApplyProviderStarts) })).format("%.0f"))
	p("| their lifetimes added up | %s |\n",
		spreadOf(collect(ss, func(s sample) float64 {
			var sum float64
			for _, v := range s.ApplyProviderSeconds {
				sum += v
			}
			return sum
		})).format("%.2f"))
	p("| CPU time of the timed apply (Terraform and provider processes) | %s |\n",
		spreadOf(collect(ss, func(s sample) float64 { return s.LatencyApplyCPUSeconds })).format("%.2f"))
	p("| of which provider processes (from the wrapped apply) | %s |\n",
		spreadOf(collect(ss, func(s sample) float64 { return s.ApplyProviderCPUSeconds })).format("%.2f"))
	p("\nTarget (median ratio ≤ 1.20): %s.\n\n", verdict(spreadOf(ratios).med <= 1.2))
	// Where the time goes: what the added latency cost (the same apply with
	// and without it, in the same run), and the rest over terraform_data.
	latencyCost := spreadOf(collect(ss, func(s sample) float64 { return s.LatencyApplySeconds - s.ApplySeconds }))
	overhead := spreadOf(collect(ss, func(s sample) float64 { return s.ApplySeconds - s.DataApplySeconds }))
	p("What the time is made of (medians of per-run differences): the added latency cost %.2f s over the\n", latencyCost.med)
	p("same apply without it (the limit allows %.2f s); the apply without added latency took %.2f s more\n",
		float64(waves)*o.latency.Seconds(), overhead.med)
	p("than `terraform_data`, time spent in Terraform and the provider processes per resource (see the CPU\n")
	p("rows) and in starting the provider, not waiting for the network.\n\n")
	p("### Floors\n\n")
	p("The floor provider (`cmd/floorprovider`) separates what this provider costs from what any provider\n")
	p("of the same shape costs. It serves `atlas_tenant_snapshot_download` with exactly this provider's\n")
	p("schema (validators, defaults, plan modifiers, the timeouts block), and its Create waits %s, as one\n", o.latency)
	p("API call would, then fills the computed attributes without calling anything. It runs in four\n")
	p("variants, timed in the same runs as the rows above: with this schema or a minimal one (the three\n")
	p("required arguments and `id`), and through terraform-plugin-framework or answering the resource's\n")
	p("validate, plan and apply calls from the raw protocol values itself (no validation, defaults\n")
	p("applied, computed attributes unknown until apply), which is what Terraform and the plugin protocol\n")
	p("cost with no framework at all.\n\n")
	p("| schema | served by | apply %d, %s wait per Create (s) | ratio to the limit |\n|---|---|---|---|\n", o.n, o.latency)
	for _, v := range floorVariants {
		p("| %s | %s | %s | %s |\n", v.schema, v.server,
			spreadOf(collect(ss, func(s sample) float64 { return s.FloorApplySeconds[v.name] })).format("%.2f"),
			spreadOf(collect(ss, func(s sample) float64 { return s.FloorApplySeconds[v.name] / limit(s) })).format("%.2f"))
	}
	p("\nThis provider against the floor with its own schema on the framework (its own cost over what the\n")
	p("framework and Terraform cost anyway): %s.\n\n",
		spreadOf(collect(ss, func(s sample) float64 { return s.LatencyApplySeconds / s.FloorApplySeconds["framework"] })).format("%.2f"))

	// 3. Start-up and size.
	p("## 3. Provider start-up and size\n\n")
	p("`terraform providers schema -json` in a configuration with one `atlas_tenant_snapshot_download`,\n")
	p("next to one with a single `terraform_data` (no provider to start). Peak memory is the `maxrss` of the\n")
	p("command, which is that of its largest process; the provider's own is measured by starting it\n")
	p("through a small wrapper that records its child's `maxrss`.\n\n")
	mib := func(kib float64) float64 { return kib / 1024 }
	p("| configuration | wall time (s) | peak RSS (MiB) |\n|---|---|---|\n")
	p("| `terraform_data` only | %s | %s |\n",
		spreadOf(collect(ss, func(s sample) float64 { return s.EmptySchemaSeconds })).format("%.3f"),
		spreadOf(collect(ss, func(s sample) float64 { return mib(float64(s.EmptySchemaRSSKiB)) })).format("%.1f"))
	p("| with the atlas provider | %s | %s |\n",
		spreadOf(collect(ss, func(s sample) float64 { return s.SchemaSeconds })).format("%.3f"),
		spreadOf(collect(ss, func(s sample) float64 { return mib(float64(s.SchemaMaxRSSKiB)) })).format("%.1f"))
	p("| the provider process alone | | %s |\n",
		spreadOf(collect(ss, func(s sample) float64 { return mib(float64(s.ProviderRSSKiB)) })).format("%.1f"))
	p("\n| provider binary | size (MiB) |\n|---|---|\n")
	p("| release build (`-trimpath -ldflags \"-s -w\"`, as `.goreleaser.yml`) | %.1f |\n", float64(b.providerSize)/(1<<20))
	if b.devBinSize > 0 {
		p("| `make build` (`bin/terraform-provider-atlas`, with symbols) | %.1f |\n", float64(b.devBinSize)/(1<<20))
	}
	p("\n")

	// 4. Go benchmarks.
	if len(res.goBench) > 0 {
		p("## 4. Client request path (Go benchmarks)\n\n")
		p("`internal/atlas/bench_test.go`: `GetRestoreJob` and `RequestDownload` against an in-process\n")
		p("digest-checking `httptest` server, with the challenge already learnt, serially and with\n")
		p("`b.RunParallel` (GOMAXPROCS = %d). `reqs/op` and `challenges/op` count what the server saw.\n\n", runtime.GOMAXPROCS(0))
		units := []string{"ns/op", "B/op", "allocs/op", "reqs/op", "challenges/op"}
		p("| benchmark | %s |\n|---|%s\n", strings.Join(units, " | "), strings.Repeat("---|", len(units)))
		for _, r := range res.goBench {
			cells := make([]string, len(units))
			for i, u := range units {
				verb := "%.0f"
				if u == "reqs/op" || u == "challenges/op" {
					verb = "%.2f"
				}
				cells[i] = spreadOf(r.Metrics[u]).format(verb)
			}
			p("| `%s` | %s |\n", r.Name, strings.Join(cells, " | "))
		}
		p("\n")
	}

	// 5. Polling.
	if res.polling != nil {
		p("%s", renderPolling(res.polling))
	}

	p("## Reproduce\n\n```sh\n")
	p("make bench                                   # builds, runs all of the above, rewrites this file\n")
	p("BENCH_RUNS=%d BENCH_N=%d make bench            # the settings of this report\n", len(ss), o.n)
	p("go run ./bench/cmd/atlasbench -h             # flags: -latency, -parallelism, -go-bench=false, -keep, ...\n")
	args := goBenchArgs(o)
	for i, a := range args {
		if strings.ContainsAny(a, "^$") {
			args[i] = "'" + a + "'"
		}
	}
	p("go %s   # section 4 alone\n", strings.Join(args, " "))
	for _, line := range onlyReproduceLines {
		p("%s\n", line)
	}
	p("```\n\nRaw samples of the last run are in `bench/out/` (not committed).\n")
	return w.String()
}

func collect2(ss []sample, f func(sample) simStats) []simStats {
	out := make([]simStats, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

type routeStat struct{ route, status, count string }

func routeMedians(sts []simStats) []routeStat {
	keys := map[[2]string]bool{}
	for _, st := range sts {
		for route, byStatus := range st.Routes {
			for code := range byStatus {
				keys[[2]string{route, code}] = true
			}
		}
	}
	var out []routeStat
	for k := range keys {
		vs := collect(sts, func(st simStats) float64 { return float64(st.Routes[k[0]][k[1]]) })
		out = append(out, routeStat{k[0], k[1], spreadOf(vs).format("%.0f")})
	}
	slices.SortFunc(out, func(a, b routeStat) int {
		return strings.Compare(a.route+" "+a.status, b.route+" "+b.status)
	})
	return out
}

func machineRows(terraform string) [][2]string {
	rows := [][2]string{
		{"CPU", cpuModel()},
		{"logical CPUs (`nproc`)", fmt.Sprint(runtime.NumCPU())},
		{"memory", memTotal()},
		{"OS", runtime.GOOS + "/" + runtime.GOARCH + " " + kernel()},
		{"Go", firstLine(exec.CommandContext(context.Background(), "go", "version"))},
		{"Terraform", firstLine(exec.CommandContext(context.Background(), terraform, "version"))},
	}
	return rows
}

func firstLine(cmd *exec.Cmd) string {
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

func cpuModel() string {
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		return v
	}
	return runtime.GOARCH
}

func memTotal() string {
	v := procField("/proc/meminfo", "MemTotal")
	var kib int64
	if _, err := fmt.Sscanf(v, "%d kB", &kib); err != nil || kib == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
}

func kernel() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// procField returns the value of the first "name : value" line of a /proc
// file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
