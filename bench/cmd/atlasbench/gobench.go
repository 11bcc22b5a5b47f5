// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// goBenchResult is one benchmark's runs: metric unit -> one value per run.
type goBenchResult struct {
	Name    string               `json:"name"`
	Metrics map[string][]float64 `json:"metrics"`
	Order   []string             `json:"order"`
}

// runGoBench runs the client's benchmarks o.runs times and keeps the raw
// output in rawPath.
func runGoBench(ctx context.Context, o options, rawPath string) ([]goBenchResult, error) {
	cmd := exec.CommandContext(ctx, "go", goBenchArgs(o)...) //nolint:gosec // fixed arguments
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if werr := os.WriteFile(rawPath, out.Bytes(), 0o600); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, out.String())
	}
	return parseGoBench(out.String()), nil
}

func goBenchArgs(o options) []string {
	return []string{"test", "-run", "^$", "-bench", ".", "-benchmem",
		"-count", strconv.Itoa(o.runs), "-benchtime", o.benchtime, "./internal/atlas/"}
}

// parseGoBench reads the standard benchmark lines:
//
//	BenchmarkX-8  1000  1234 ns/op  1.000 reqs/op  56 B/op  7 allocs/op
func parseGoBench(text string) []goBenchResult {
	var out []goBenchResult
	index := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		i, ok := index[f[0]]
		if !ok {
			i = len(out)
			index[f[0]] = i
			out = append(out, goBenchResult{Name: f[0], Metrics: map[string][]float64{}})
		}
		r := &out[i]
		for j := 2; j+1 < len(f); j += 2 {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				continue
			}
			unit := f[j+1]
			if _, seen := r.Metrics[unit]; !seen {
				r.Order = append(r.Order, unit)
			}
			r.Metrics[unit] = append(r.Metrics[unit], v)
		}
	}
	return out
}
