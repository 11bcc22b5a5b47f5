// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// roundTripsHeading starts section 1; -only roundtrips replaces the
// section from it to the next heading of the same level.
const roundTripsHeading = "## 1. Round trips per API call"

// onlyReproduceLines are the Reproduce block's lines for the sections that
// run alone; an -only run rewrites them in the report.
const onlyCommandPrefix = "go run ./bench/cmd/atlasbench -only "

var onlyReproduceLines = []string{
	onlyCommandPrefix + "roundtrips   # section 1 alone (under a minute, after `make build`; rewrites only it)",
	onlyCommandPrefix + "polling   # section 5 alone (seconds; rewrites only it)",
	onlyCommandPrefix + "archive   # section 6 alone (about three minutes, Terraform 1.14, 3 GiB free in the temporary directory; rewrites only it)",
}

// renderRoundTrips is section 1 of the report. alone, when not zero, is
// when -only roundtrips measured it, said in the section because the rest
// of the report (the Machine table with it) is from an earlier full run.
// terraformVersion names the Terraform used (the first line of
// `terraform version`); only the alone note shows it.
func renderRoundTrips(o options, ss []sample, alone time.Time, terraformVersion string) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p("%s\n\n", roundTripsHeading)
	p("HTTP requests the simulator saw (`/__sim/stats`) for one Terraform command on N = %d\n", o.n)
	p("`atlas_tenant_snapshot_download` resources, the provider holding the API key, divided by the API\n")
	p("calls made (requests not answered with a digest challenge). Each command starts the provider\n")
	p("afresh, so each learns the digest challenge once. Target: 1.00 requests per API call, at most one\n")
	p("digest challenge per apply.\n\n")
	p("| command | HTTP requests | digest challenges | API calls | requests per API call |\n|---|---|---|---|---|\n")
	for _, row := range []struct {
		name string
		get  func(sample) simStats
	}{
		{fmt.Sprintf("`terraform apply` (%d creates)", o.n), func(s sample) simStats { return s.Apply }},
		{fmt.Sprintf("`terraform plan` afterwards (%d refreshes)", o.n), func(s sample) simStats { return s.Plan }},
	} {
		p("| %s | %s | %s | %s | %s |\n", row.name,
			spreadOf(collect(ss, func(s sample) float64 { return float64(row.get(s).TotalRequests) })).format("%.0f"),
			spreadOf(collect(ss, func(s sample) float64 { return float64(row.get(s).DigestChallenges) })).format("%.0f"),
			spreadOf(collect(ss, func(s sample) float64 { return float64(row.get(s).apiCalls()) })).format("%.0f"),
			spreadOf(collect(ss, func(s sample) float64 { return row.get(s).perAPICall() })).format("%.2f"))
	}
	applyRatio := spreadOf(collect(ss, func(s sample) float64 { return s.Apply.perAPICall() }))
	maxChallenges := spreadOf(collect(ss, func(s sample) float64 { return float64(s.Apply.DigestChallenges) })).hi
	// One request per API call, plus the one challenge allowed: requests
	// never exceed API calls + 1.
	worstExtra := spreadOf(collect(ss, func(s sample) float64 { return float64(s.Apply.TotalRequests - s.Apply.apiCalls()) })).hi
	p("\nTarget for apply, 1.00 requests per API call apart from at most one digest challenge (requests ≤ API calls + 1 in every run): %s",
		verdict(worstExtra <= 1 && maxChallenges <= 1))
	p(" (ratio %s; API calls per resource %s).\n\n", applyRatio.format("%.3f"),
		spreadOf(collect(ss, func(s sample) float64 { return float64(s.Apply.apiCalls()) / float64(o.n) })).format("%.2f"))
	p("Requests by route and status during `terraform apply` (median over the runs):\n\n")
	p("| route | status | requests |\n|---|---|---|\n")
	for _, rs := range routeMedians(collect2(ss, func(s sample) simStats { return s.Apply })) {
		p("| `%s` | %s | %s |\n", rs.route, rs.status, rs.count)
	}
	p("\n")

	// The same with a service account.
	p("### With a service account\n\n")
	p("The same two commands, each on a fresh simulator, with the provider holding a service account\n")
	p("(`MONGODB_ATLAS_CLIENT_ID` and `MONGODB_ATLAS_CLIENT_SECRET`, no API key) and started through the\n")
	p("wrapper of section 3, which counts the provider processes each command starts. The provider asks\n")
	p("for a token (`POST /api/oauth/token`) at its first API call, not when it starts, and sends it as a\n")
	p("Bearer token, which needs no digest challenge. API calls are the requests that are neither token\n")
	p("requests nor digest challenges, and requests per API call leave the token requests out:\n")
	p("(HTTP requests − token requests) / API calls. Target: 1.00 requests per API call once a token is\n")
	p("held, token requests reported apart: about one per provider process that calls the API (at most one\n")
	p("per process, none from a process that makes no call; a token lives an hour, longer than any command\n")
	p("here).\n\n")
	p("| command | HTTP requests | token requests | digest challenges | API calls | requests per API call | provider processes started |\n")
	p("|---|---|---|---|---|---|---|\n")
	type saRow struct {
		name  string
		get   func(sample) simStats
		procs func(sample) int
	}
	saRows := []saRow{
		{fmt.Sprintf("`terraform apply` (%d creates)", o.n), func(s sample) simStats { return s.SAApply }, func(s sample) int { return s.SAApplyProviders }},
		{fmt.Sprintf("`terraform plan` afterwards (%d refreshes)", o.n), func(s sample) simStats { return s.SAPlan }, func(s sample) int { return s.SAPlanProviders }},
	}
	met := true
	for _, row := range saRows {
		p("| %s | %s | %s | %s | %s | %s | %s |\n", row.name,
			spreadOf(collect(ss, func(s sample) float64 { return float64(row.get(s).TotalRequests) })).format("%.0f"),
			spreadOf(collect(ss, func(s sample) float64 { return float64(row.get(s).TokenRequests) })).format("%.0f"),
			spreadOf(collect(ss, func(s sample) float64 { return float64(row.get(s).DigestChallenges) })).format("%.0f"),
			spreadOf(collect(ss, func(s sample) float64 { return float64(row.get(s).apiCalls()) })).format("%.0f"),
			spreadOf(collect(ss, func(s sample) float64 { return row.get(s).perAPICall() })).format("%.2f"),
			spreadOf(collect(ss, func(s sample) float64 { return float64(row.procs(s)) })).format("%.0f"))
		for _, s := range ss {
			st := row.get(s)
			// Once a token is held every request is an API call, and a
			// provider process asks for at most one token.
			if st.DigestChallenges != 0 || st.apiCalls() < 1 || st.TokenRequests < 1 || st.TokenRequests > int64(row.procs(s)) {
				met = false
			}
		}
	}
	p("\nTarget for both commands, 1.00 requests per API call once a token is held (no digest challenge, so\n")
	p("requests − token requests = API calls, in every run) and between one token request and one per\n")
	p("provider process: %s (apply: requests per API call %s, token requests %s from %s provider processes,\n",
		verdict(met),
		spreadOf(collect(ss, func(s sample) float64 { return s.SAApply.perAPICall() })).format("%.3f"),
		spreadOf(collect(ss, func(s sample) float64 { return float64(s.SAApply.TokenRequests) })).format("%.0f"),
		spreadOf(collect(ss, func(s sample) float64 { return float64(s.SAApplyProviders) })).format("%.0f"))
	p("API calls per resource %s).\n\n",
		spreadOf(collect(ss, func(s sample) float64 { return float64(s.SAApply.apiCalls()) / float64(o.n) })).format("%.2f"))
	p("Requests by route and status during `terraform apply` with the service account (median over the runs):\n\n")
	p("| route | status | requests |\n|---|---|---|\n")
	for _, rs := range routeMedians(collect2(ss, func(s sample) simStats { return s.SAApply })) {
		p("| `%s` | %s | %s |\n", rs.route, rs.status, rs.count)
	}
	p("\n")
	if !alone.IsZero() {
		p("This section was measured alone (`-only roundtrips`) on %s: N = %d, median (min–max) over\n",
			alone.UTC().Format("2006-01-02 15:04 UTC"), o.n)
		p("%d runs, `-parallelism=%d`, %s. The other sections, and the Machine table's date and\n", len(ss), o.parallelism, terraformVersion)
		p("settings, are from the last full run.\n\n")
	}
	p("Run this section alone (under a minute, after `make build`): `go run ./bench/cmd/atlasbench -only roundtrips`.\n\n")
	return w.String()
}

// runRoundTripsOnly measures section 1 (both ways to authenticate) and
// rewrites only it, and the Reproduce block's -only lines, in o.out.
func runRoundTripsOnly(ctx context.Context, b *bench, started time.Time) error {
	o := b.o
	var ss []sample
	for i := range o.runs {
		logf("round trips, run %d of %d", i+1, o.runs)
		var s sample
		if err := b.measureRoundTrips(ctx, &s); err != nil {
			return err
		}
		logf("  API key: apply %d requests (%d challenges), plan %d; service account: apply %d requests (%d token requests, %d challenges, %d provider processes), plan %d (%d token requests)",
			s.Apply.TotalRequests, s.Apply.DigestChallenges, s.Plan.TotalRequests,
			s.SAApply.TotalRequests, s.SAApply.TokenRequests, s.SAApply.DigestChallenges, s.SAApplyProviders,
			s.SAPlan.TotalRequests, s.SAPlan.TokenRequests)
		ss = append(ss, s)
	}
	if err := writeJSON(filepath.Join(o.rawDir, "roundtrips.json"), struct {
		Samples []sample `json:"samples"`
	}{ss}); err != nil {
		return err
	}
	old, err := os.ReadFile(o.out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	report := addReproduceLines(spliceSection(string(old), roundTripsHeading, renderRoundTrips(o, ss, time.Now(),
		firstLine(exec.CommandContext(ctx, o.terraform, "version"))))) //nolint:gosec // the harness's own -terraform flag
	if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil { //nolint:gosec // a committed, public report
		return err
	}
	logf("rewrote section 1 of %s after %s", o.out, time.Since(started).Round(time.Second))
	return nil
}

// addReproduceLines puts the lines of onlyReproduceLines at the end of the
// report's Reproduce block, in place of any earlier -only lines, leaving
// the rest of it (the settings of the last full run) as it is.
func addReproduceLines(report string) string {
	i := strings.Index(report, "\n## Reproduce")
	if i < 0 {
		return report
	}
	open := strings.Index(report[i:], "```sh\n")
	if open < 0 {
		return report
	}
	open += i + len("```sh\n")
	end := strings.Index(report[open:], "```")
	if end < 0 {
		return report
	}
	end += open
	var block strings.Builder
	for _, line := range strings.SplitAfter(report[open:end], "\n") {
		if line != "" && !strings.HasPrefix(line, onlyCommandPrefix) {
			block.WriteString(line)
		}
	}
	for _, line := range onlyReproduceLines {
		block.WriteString(line + "\n")
	}
	return report[:open] + block.String() + report[end:]
}
