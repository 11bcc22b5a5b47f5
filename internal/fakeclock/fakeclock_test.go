// SPDX-License-Identifier: MPL-2.0

package fakeclock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 11, 28, 12, 30, 0, 0, time.UTC)
	c := New(start)
	stop := errors.New("stop")
	c.OnSleep(func(n int) error {
		if n == 2 {
			return stop
		}
		return nil
	})
	if err := c.Sleep(context.Background(), time.Second); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	if err := c.Sleep(context.Background(), 2*time.Second); !errors.Is(err, stop) {
		t.Fatalf("second wait ended with %v, want the hook's error", err)
	}
	c.Advance(time.Minute)
	if got, want := c.Now(), start.Add(time.Minute+3*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %s, want %s", got, want)
	}
	if got := c.Sleeps(); len(got) != 2 || got[0] != time.Second || got[1] != 2*time.Second {
		t.Errorf("Sleeps() = %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("a wait in an ended context returned %v", err)
	}
}
