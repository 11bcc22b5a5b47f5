// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"math"
)

// applyTarget is the most an apply of N downloads, each request delayed by
// the simulator, may take against its limit: Terraform's own time for N
// terraform_data resources plus one request's latency per wave of
// parallel resources.
const applyTarget = 1.2

// applyTime times, on a simulator that delays every request, `terraform
// apply` of N downloads next to `terraform apply` of N terraform_data
// resources, in turns.
func applyTime(ctx context.Context, e *env, w io.Writer) ([]target, error) {
	downloads, err := e.workDir(ctx, "apply-downloads", e.rc, downloadsConfig(e.o.n))
	if err != nil {
		return nil, err
	}
	data, err := e.workDir(ctx, "apply-data", e.rc, fmt.Sprintf("resource \"terraform_data\" \"bench\" {\n  count = %d\n  input = count.index\n}\n", e.o.n))
	if err != nil {
		return nil, err
	}
	par := fmt.Sprintf("-parallelism=%d", e.o.parallelism)
	waves := math.Ceil(float64(e.o.n) / float64(e.o.parallelism))
	var dl, td, limit, ratio []float64
	for run := range e.o.runs {
		sm, err := e.startSim(ctx, "-latency", e.o.latency.String())
		if err != nil {
			return nil, err
		}
		removeState(downloads)
		removeState(data)
		var d, t float64
		for k := range 2 {
			if (run+k)%2 == 0 {
				_, d, err = e.tf(ctx, downloads, e.rc, append([]string{"TF_VAR_base_url=" + sm.url}, apiKey...), "apply", "-auto-approve", par)
			} else {
				_, t, err = e.tf(ctx, data, e.rc, nil, "apply", "-auto-approve", par)
			}
			if err != nil {
				break
			}
		}
		sm.stop()
		if err != nil {
			return nil, err
		}
		l := t + waves*e.o.latency.Seconds()
		dl, td, limit, ratio = append(dl, d), append(td, t), append(limit, l), append(ratio, d/l)
		logf("  run %d: downloads %.2fs, terraform_data %.2fs", run+1, d, t)
	}
	table(w, []string{"measurement", "seconds"},
		[]string{fmt.Sprintf("apply %d downloads, %s per request", e.o.n, e.o.latency), spreadOf(dl).format("%.2f")},
		[]string{fmt.Sprintf("apply %d `terraform_data`", e.o.n), spreadOf(td).format("%.2f")},
		[]string{fmt.Sprintf("limit: `terraform_data` + %.0f × %s", waves, e.o.latency), spreadOf(limit).format("%.2f")},
		[]string{"downloads ÷ limit", spreadOf(ratio).format("%.2f")})
	r := spreadOf(ratio)
	return []target{{name: "apply time", want: fmt.Sprintf("downloads ÷ limit ≤ %.2f (median)", applyTarget),
		got: r.format("%.2f"), met: r.med <= applyTarget}}, nil
}
