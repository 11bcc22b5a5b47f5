// SPDX-License-Identifier: MPL-2.0

package fakeclock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Sched is a clock for parallel waits. Each goroutine it runs (Go) counts
// as busy until it sleeps; when every one sleeps, the clock jumps to the
// earliest wake time and wakes the sleepers due then. So parallel waits
// overlap as on a real clock, and an hour of them takes milliseconds.
// A goroutine blocked on anything but Sleep (a request in flight, a lock)
// holds the clock until it goes on. The goroutine that made the clock
// holds it too, until it calls Wait: so goroutines started one after
// another all start at the same time, however the runtime schedules them.
type Sched struct {
	mu       sync.Mutex
	now      time.Time
	busy     int
	sleepers []*sleeper // by wake time
	done     sync.WaitGroup
}

type sleeper struct {
	wake time.Time
	ch   chan struct{}
}

// NewSched is a clock that starts at start.
func NewSched(start time.Time) *Sched { return &Sched{now: start, busy: 1} }

// Now is the clock's time.
func (s *Sched) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Go runs f in a goroutine the clock waits for.
func (s *Sched) Go(f func()) {
	s.mu.Lock()
	s.busy++
	s.mu.Unlock()
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		defer func() {
			s.mu.Lock()
			s.busy--
			s.advanceLocked()
			s.mu.Unlock()
		}()
		f()
	}()
}

// Wait lets the clock run and waits for every goroutine started with Go
// to return; then the caller holds the clock again.
func (s *Sched) Wait() {
	s.mu.Lock()
	s.busy--
	s.advanceLocked()
	s.mu.Unlock()
	s.done.Wait()
	s.mu.Lock()
	s.busy++
	s.mu.Unlock()
}

// Sleep is a wait of d by a goroutine started with Go, or by the one that
// made the clock. ctx is not watched
// while asleep: callers of a Sched do not cancel.
func (s *Sched) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	sl := &sleeper{wake: s.now.Add(max(d, 0)), ch: make(chan struct{})}
	i := sort.Search(len(s.sleepers), func(i int) bool { return s.sleepers[i].wake.After(sl.wake) })
	s.sleepers = append(s.sleepers, nil)
	copy(s.sleepers[i+1:], s.sleepers[i:])
	s.sleepers[i] = sl
	s.busy--
	s.advanceLocked()
	s.mu.Unlock()
	<-sl.ch
	return ctx.Err()
}

// advanceLocked wakes the earliest sleepers once nobody is busy.
func (s *Sched) advanceLocked() {
	if s.busy > 0 || len(s.sleepers) == 0 {
		return
	}
	wake := s.sleepers[0].wake
	if wake.After(s.now) {
		s.now = wake
	}
	for len(s.sleepers) > 0 && !s.sleepers[0].wake.After(wake) {
		s.busy++
		close(s.sleepers[0].ch)
		s.sleepers = s.sleepers[1:]
	}
}
