// SPDX-License-Identifier: MPL-2.0

package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestSpliceSection(t *testing.T) {
	section := pollSectionHeading + "\n\nnew\n\n"
	tests := []struct{ name, report, want string }{
		{"replaces the old section", "# B\n\n## 4. Go\n\nx\n\n" + pollSectionHeading + "\n\nold\n\n## Reproduce\n\ny\n",
			"# B\n\n## 4. Go\n\nx\n\n" + section + "## Reproduce\n\ny\n"},
		{"replaces the last section", "# B\n\n" + pollSectionHeading + "\n\nold\n", "# B\n\n" + section},
		{"goes before Reproduce", "# B\n\n## 4. Go\n\nx\n\n## Reproduce\n\ny\n", "# B\n\n## 4. Go\n\nx\n\n" + section + "## Reproduce\n\ny\n"},
		{"is appended", "# B\n\nx\n", "# B\n\nx\n\n" + section},
		{"makes a report", "", section},
	}
	for _, tt := range tests {
		if got := spliceSection(tt.report, pollSectionHeading, section); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestFewestPollsAndOldCount(t *testing.T) {
	for _, tt := range []struct {
		runFor time.Duration
		want   int
	}{{5 * time.Second, 1}, {6 * time.Second, 2}, {50 * time.Second, 10}, {55 * time.Second, 11}, {56 * time.Second, 12}} {
		if got := fewestPolls(tt.runFor); got != tt.want {
			t.Errorf("fewestPolls(%s) = %d, want %d", tt.runFor, got, tt.want)
		}
	}
	// 0.375 + 0.75 + 1.5 + 3 + 6 + 12 = 23.625s in six polls, then 22.5s each.
	if got := oldPollCount(23625 * time.Millisecond); got != 6 {
		t.Errorf("oldPollCount(23.625s) = %v, want 6", got)
	}
	if got := oldPollCount(24 * time.Second); got != 7 {
		t.Errorf("oldPollCount(24s) = %v, want 7", got)
	}
}

// TestPollTrialMeasures: one wait of each schedule on the in-process
// simulator ends with the job seen, and the new schedule within the target.
func TestPollTrialMeasures(t *testing.T) {
	const runFor = 2 * time.Minute
	for _, old := range []bool{true, false} {
		latency, gets, err := pollTrial(context.Background(), runFor, old, 1)
		if err != nil {
			t.Fatalf("old=%v: %v", old, err)
		}
		if latency < 0 || gets < 1 {
			t.Errorf("old=%v: latency %s after %d GETs", old, latency, gets)
		}
		if !old && latency > runFor/10 {
			t.Errorf("new schedule: seen %s late, want at most %s", latency, runFor/10)
		}
	}
}

func TestRenderPollingStatesTheRise(t *testing.T) {
	pr := &pollResults{Rows: []pollRow{{
		RunTime:    2 * time.Minute,
		OldLatency: []float64{20}, OldGETs: []float64{11},
		NewLatency: []float64{7}, NewGETs: []float64{21},
	}}}
	out := renderPolling(pr)
	for _, want := range []string{pollSectionHeading, "2m: +10 GETs (+91%)", "old schedule **not met**", "new schedule **met**"} {
		if !strings.Contains(out, want) {
			t.Errorf("section lacks %q:\n%s", want, out)
		}
	}
}
