// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// planConfig reads the snapshots of the seeded cluster: a plan that calls
// Atlas once.
func planConfig() string {
	return fmt.Sprintf(`terraform {
  required_providers {
    atlas = { source = "atlas-community/atlas" }
  }
}

variable "base_url" { type = string }

provider "atlas" {
  base_url = var.base_url
}

data "atlas_tenant_snapshots" "bench" {
  project_id   = %q
  cluster_name = %q
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName)
}

const (
	sequentialPlans = 30
	parallelPlans   = 12
)

// tokenSample is one batch of plans against a fresh simulator.
type tokenSample struct {
	requests, live, failed int64
	seconds                float64
}

// tokens runs, with a service account against a simulator with Atlas's
// token limits (10 token requests a minute, 100 live tokens), 30
// sequential and 12 parallel `terraform plan`s, without and with the
// token cache.
func tokens(ctx context.Context, e *env, w io.Writer) ([]target, error) {
	dirs := make([]string, parallelPlans)
	for i := range dirs {
		d, err := e.workDir(ctx, "tokens"+strconv.Itoa(i), e.rc, planConfig())
		if err != nil {
			return nil, err
		}
		dirs[i] = d
	}
	type key struct{ cached, parallel bool }
	samples := map[key][]tokenSample{}
	for run := range e.o.runs {
		for _, k := range []key{{false, false}, {true, false}, {false, true}, {true, true}} {
			logf("tokens: run %d, cache %v, parallel %v", run+1, k.cached, k.parallel)
			s, err := e.planBatch(ctx, dirs, k.cached, k.parallel)
			if err != nil {
				return nil, err
			}
			samples[k] = append(samples[k], s)
		}
	}
	var rows [][]string
	worst := map[key]tokenSample{}
	for _, k := range []key{{false, false}, {true, false}, {false, true}, {true, true}} {
		var req, live, secs []float64
		for _, s := range samples[k] {
			req, live, secs = append(req, float64(s.requests)), append(live, float64(s.live)), append(secs, s.seconds)
			wk := worst[k]
			wk.requests, wk.live, wk.failed = max(wk.requests, s.requests), max(wk.live, s.live), wk.failed+s.failed
			worst[k] = wk
		}
		what := fmt.Sprintf("%d sequential", sequentialPlans)
		if k.parallel {
			what = fmt.Sprintf("%d parallel", parallelPlans)
		}
		cache := "no"
		if k.cached {
			cache = "yes"
		}
		rows = append(rows, []string{what, cache, spreadOf(req).format("%.0f"), spreadOf(live).format("%.0f"),
			spreadOf(secs).format("%.1f"), strconv.FormatInt(worst[k].failed, 10)})
	}
	table(w, []string{"plans", "token cache", "token requests", "live tokens after", "wall time (s)", "failed plans"}, rows...)
	failed := worst[key{false, false}].failed + worst[key{true, false}].failed + worst[key{false, true}].failed + worst[key{true, true}].failed
	cachedMax := max(worst[key{true, false}].requests, worst[key{true, true}].requests)
	return []target{
		{name: "live tokens after 30 plans", want: "≤ 1 without the cache",
			got: fmt.Sprintf("%d at most", worst[key{false, false}].live), met: worst[key{false, false}].live <= 1},
		{name: "token requests with the cache", want: "≤ 2 for 30 sequential or 12 parallel plans",
			got: fmt.Sprintf("%d at most", cachedMax), met: cachedMax <= 2},
		{name: "plans failed on the token endpoint's limit", want: "none",
			got: strconv.FormatInt(failed, 10), met: failed == 0},
	}, nil
}

// planBatch runs the plans of one row on a fresh simulator: sequential
// ones in the first directory, parallel ones one per directory.
func (e *env) planBatch(ctx context.Context, dirs []string, cached, parallel bool) (tokenSample, error) {
	s, err := e.startSim(ctx, "-token-rate-limit", "10", "-max-live-tokens", "100")
	if err != nil {
		return tokenSample{}, err
	}
	defer s.stop()
	vars := append([]string{"TF_VAR_base_url=" + s.url}, serviceAccount...)
	if cached {
		cache, err := os.MkdirTemp(e.tmp, "token-cache-")
		if err != nil {
			return tokenSample{}, err
		}
		defer os.RemoveAll(cache)
		vars = append(vars, "MONGODB_ATLAS_TOKEN_CACHE_DIR="+filepath.Join(cache, "tokens"))
	}
	var failed int64
	var mu sync.Mutex
	plan := func(dir string) {
		if _, _, err := e.tf(ctx, dir, e.rc, vars, "plan", "-input=false"); err != nil {
			logf("a plan failed: %v", err)
			mu.Lock()
			failed++
			mu.Unlock()
		}
	}
	start := time.Now()
	if parallel {
		var wg sync.WaitGroup
		for _, d := range dirs[:parallelPlans] {
			wg.Add(1)
			go func() { defer wg.Done(); plan(d) }()
		}
		wg.Wait()
	} else {
		for range sequentialPlans {
			plan(dirs[0])
		}
	}
	seconds := time.Since(start).Seconds()
	st, err := s.stats(ctx)
	if err != nil {
		return tokenSample{}, err
	}
	return tokenSample{requests: st.TokenRequests, live: st.LiveTokens, failed: failed, seconds: seconds}, ctx.Err()
}
