// SPDX-License-Identifier: MPL-2.0

package fakeclock

import (
	"context"
	"testing"
	"time"
)

// Parallel waits overlap: two goroutines that wait 3s and 5s, then 1s,
// end 6s after the start, not 9s, and each wakes at its own time.
func TestSchedOverlapsParallelWaits(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewSched(start)
	woke := make([]time.Duration, 2)
	for i, d := range []time.Duration{3 * time.Second, 5 * time.Second} {
		s.Go(func() {
			_ = s.Sleep(context.Background(), d)
			_ = s.Sleep(context.Background(), time.Second)
			woke[i] = s.Now().Sub(start)
		})
	}
	s.Wait()
	if woke[0] != 4*time.Second || woke[1] != 6*time.Second || s.Now().Sub(start) != 6*time.Second {
		t.Errorf("woke at %v, clock at +%s; want [4s 6s] and +6s", woke, s.Now().Sub(start))
	}
}
