// SPDX-License-Identifier: MPL-2.0

package main

import (
	"math"
	"testing"
	"time"
)

func TestSpread(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want spread
	}{
		{[]float64{3, 1, 2}, spread{2, 1, 3}},
		{[]float64{4, 1, 2, 3}, spread{2.5, 1, 4}},
		{[]float64{7}, spread{7, 7, 7}},
	} {
		if got := spreadOf(tt.in); got != tt.want {
			t.Errorf("spreadOf(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if got := spreadOf(nil); !math.IsNaN(got.med) {
		t.Errorf("spreadOf(nil) = %v, want NaN", got)
	}
}

func TestRoundTripTarget(t *testing.T) {
	for _, tt := range []struct {
		name string
		sa   bool
		s    rtSample
		want bool
	}{
		{"API key, one challenge", false, rtSample{requests: 101, challenges: 1, processes: 4}, true},
		{"API key, a challenge per call", false, rtSample{requests: 200, challenges: 100, processes: 4}, false},
		{"API key, a token request", false, rtSample{requests: 101, tokens: 1, processes: 4}, false},
		{"service account, one token", true, rtSample{requests: 101, tokens: 1, processes: 4}, true},
		{"service account, a token per process", true, rtSample{requests: 104, tokens: 4, processes: 4}, true},
		{"service account, more tokens than processes", true, rtSample{requests: 105, tokens: 5, processes: 4}, false},
		{"service account, no token", true, rtSample{requests: 100, processes: 4}, false},
		{"service account, a challenge", true, rtSample{requests: 102, challenges: 1, tokens: 1, processes: 4}, false},
	} {
		if got := tt.s.met(tt.sa); got != tt.want {
			t.Errorf("%s: met = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := (rtSample{requests: 104, challenges: 1, tokens: 3}).apiCalls(); got != 100 {
		t.Errorf("apiCalls = %d, want 100", got)
	}
}

func TestArchiveTargets(t *testing.T) {
	// curl takes 5.2 s and its fsync 0.3 s: 5.5 s against the action's.
	sample := func(action float64, rssMiB ...int64) archiveSample {
		s := archiveSample{curl: 5.2, fsync: 0.3, action: action}
		for _, m := range rssMiB {
			s.rssKiB = append(s.rssKiB, m<<10)
		}
		return s
	}
	for _, tt := range []struct {
		name                string
		paced, loopback     []archiveSample
		throughput, peakRSS bool
	}{
		{"both met", []archiveSample{sample(5.6, 20, 30)}, []archiveSample{sample(1.5, 40)}, true, true},
		{"exactly 0.95", []archiveSample{sample(5.5/0.95, 30)}, nil, true, true},
		{"action too slow", []archiveSample{sample(5.9, 30)}, nil, false, true},
		{"the median run counts", []archiveSample{sample(9, 30), sample(5.5, 30), sample(5.6, 30)}, nil, true, true},
		{"too much memory on loopback", []archiveSample{sample(5.6, 30)}, []archiveSample{sample(1.5, 65)}, true, false},
		{"no provider process recorded", []archiveSample{sample(5.6)}, nil, true, false},
	} {
		got := archiveTargets("paced", tt.paced, tt.loopback)
		if got[0].met != tt.throughput || got[1].met != tt.peakRSS {
			t.Errorf("%s: throughput met %v (%s), peak RSS met %v (%s); want %v, %v",
				tt.name, got[0].met, got[0].got, got[1].met, got[1].got, tt.throughput, tt.peakRSS)
		}
	}
}

func TestPollBound(t *testing.T) {
	for runTime, want := range map[time.Duration]time.Duration{
		time.Second: 5 * time.Second, 50 * time.Second: 5 * time.Second, 2 * time.Minute: 12 * time.Second, time.Hour: 6 * time.Minute,
	} {
		if got := pollBound(runTime); got != want {
			t.Errorf("pollBound(%s) = %s, want %s", runTime, got, want)
		}
	}
}

func TestChoose(t *testing.T) {
	got, err := choose("archive,roundtrips")
	if err != nil || len(got) != 2 || got[0].name != "roundtrips" || got[1].name != "archive" {
		t.Errorf("choose = %v, %v; want roundtrips then archive", got, err)
	}
	if _, err := choose("roundtrips,nosuch"); err == nil {
		t.Error("choose accepted an unknown section")
	}
}
