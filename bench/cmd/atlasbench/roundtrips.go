// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// downloadsConfig is n atlas_tenant_snapshot_download resources of the
// simulator's seeded snapshot.
func downloadsConfig(n int) string {
	return fmt.Sprintf(`terraform {
  required_providers {
    atlas = { source = "atlas-community/atlas" }
  }
}

variable "base_url" { type = string }

provider "atlas" {
  base_url = var.base_url
}

resource "atlas_tenant_snapshot_download" "bench" {
  count        = %d
  project_id   = %q
  cluster_name = %q
  snapshot_id  = %q
}
`, n, atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID)
}

// rtSample is what the simulator saw during one Terraform command, and the
// provider processes the command started.
type rtSample struct {
	requests, challenges, tokens int64
	processes                    int
}

// apiCalls is the requests that were neither token requests nor answered
// with a digest challenge.
func (s rtSample) apiCalls() int64 { return s.requests - s.tokens - s.challenges }

// met is the round-trip target for one command: one request per API call
// apart from, with the API key, one digest challenge, and with a service
// account, between one token request and one per provider process.
func (s rtSample) met(sa bool) bool {
	if sa {
		return s.challenges == 0 && s.tokens >= 1 && s.tokens <= int64(s.processes)
	}
	return s.challenges <= 1 && s.tokens == 0
}

var credentials = []struct {
	name string
	sa   bool
	vars []string
}{{"API key", false, apiKey}, {"service account", true, serviceAccount}}

// roundTrips runs, for each way to authenticate and on a fresh simulator,
// `terraform apply` of N downloads and then `terraform plan`.
func roundTrips(ctx context.Context, e *env, w io.Writer) ([]target, error) {
	dir, err := e.workDir(ctx, "roundtrips", e.rcWrapped, downloadsConfig(e.o.n))
	if err != nil {
		return nil, err
	}
	par := fmt.Sprintf("-parallelism=%d", e.o.parallelism)
	commands := []struct {
		name string
		args []string
	}{
		{fmt.Sprintf("`terraform apply`, %d creates", e.o.n), []string{"apply", "-auto-approve", par}},
		{fmt.Sprintf("`terraform plan` afterwards, %d refreshes", e.o.n), []string{"plan", par}},
	}
	samples := map[[2]int][]rtSample{} // by credentials and command
	for run := range e.o.runs {
		for ci, c := range credentials {
			sm, err := e.startSim(ctx)
			if err != nil {
				return nil, err
			}
			removeState(dir)
			e.providerRSS()
			for k, cmd := range commands {
				st0, err := sm.stats(ctx)
				if err == nil {
					_, _, err = e.tf(ctx, dir, e.rcWrapped, append([]string{"TF_VAR_base_url=" + sm.url}, c.vars...), cmd.args...)
				}
				st1, err2 := sm.stats(ctx)
				if err = firstErr(err, err2); err != nil {
					sm.stop()
					return nil, err
				}
				s := rtSample{st1.TotalRequests - st0.TotalRequests, st1.DigestChallenges - st0.DigestChallenges,
					st1.TokenRequests - st0.TokenRequests, len(e.providerRSS())}
				samples[[2]int{ci, k}] = append(samples[[2]int{ci, k}], s)
				logf("  run %d, %s, %s: %+v", run+1, c.name, cmd.args[0], s)
			}
			sm.stop()
		}
	}

	var rows [][]string
	var targets []target
	for ci, c := range credentials {
		met, worst := true, rtSample{processes: 1 << 30}
		for k, cmd := range commands {
			ss := samples[[2]int{ci, k}]
			col := func(f func(rtSample) float64) string { return spreadOf(collect(ss, f)).format("%.0f") }
			rows = append(rows, []string{c.name, cmd.name,
				col(func(s rtSample) float64 { return float64(s.requests) }),
				col(func(s rtSample) float64 { return float64(s.challenges) }),
				col(func(s rtSample) float64 { return float64(s.tokens) }),
				col(func(s rtSample) float64 { return float64(s.apiCalls()) }),
				col(func(s rtSample) float64 { return float64(s.processes) })})
			for _, s := range ss {
				met = met && s.met(c.sa)
				worst.challenges, worst.tokens = max(worst.challenges, s.challenges), max(worst.tokens, s.tokens)
				worst.processes = min(worst.processes, s.processes)
			}
		}
		t := target{name: "round trips, " + c.name, met: met,
			want: "one request per API call; at most one digest challenge per command",
			got:  fmt.Sprintf("digest challenges per command: at most %d", worst.challenges)}
		if c.sa {
			t.want = "one request per API call; no digest challenge; per command, between one token request and one per provider process"
			t.got = fmt.Sprintf("per command: digest challenges at most %d, token requests at most %d, provider processes at least %d",
				worst.challenges, worst.tokens, worst.processes)
		}
		targets = append(targets, t)
	}
	table(w, []string{"credentials", "command", "HTTP requests", "digest challenges", "token requests", "API calls", "provider processes"}, rows...)
	return targets, nil
}

func collect[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
