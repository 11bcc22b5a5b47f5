// SPDX-License-Identifier: MPL-2.0

// Package fakeclock is the one clock of a test or a measurement: the
// simulator, the client and the provider all read it, and a wait moves it
// on instead of passing real time, so nothing sleeps.
package fakeclock

import (
	"context"
	"sync"
	"time"
)

// Clock is safe for concurrent use. Parallel waits each move it by their
// own length, one after the other.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	onSleep func(n int) error
}

// New is a clock that starts at start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep is a wait of d: it moves the clock on, records d, runs the hook
// set with OnSleep and returns its error, else ctx's.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	n, hook := len(c.sleeps), c.onSleep
	c.mu.Unlock()
	if hook != nil {
		if err := hook(n); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Sleeps are the waits so far, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// OnSleep sets a hook that runs after each wait with the number of waits
// so far (1-based); an error it returns ends that wait with the error, as
// an interrupted wait would.
func (c *Clock) OnSleep(hook func(n int) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onSleep = hook
}
