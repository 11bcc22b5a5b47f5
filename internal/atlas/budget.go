// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The per-project request budget. Atlas meters requests per project and
// tells where a project stands in RateLimit-Limit and RateLimit-Remaining
// on its answers and, once the budget is spent, in Retry-After on a 429.
// Left alone, the waits of one process each poll on their own schedule:
// forty of them spent a budget of sixty a minute in seconds and drew 429s
// for 28% of their requests. So the client learns each project's budget
// from every answer, reads and waits alike, and hands out the polls of its
// waits from it: at once while more than a reserve is left (the polling
// latency target is kept whenever the budget allows), else one at a time,
// spaced by the rate at which the budget comes back. Other processes spend
// the same budget unseen, so a 429 stays possible and is retried as before.
//
// Assumed, as the reference is silent on it: a project gets back
// RateLimit-Limit requests a minute. Atlas states its limits per minute;
// its v2 buckets refill half their size a minute, so the assumption errs
// fast by at most that, and each answer's RateLimit-Remaining corrects it.
// The simulator's buckets refill in steps (see atlassim's faults.go).
const budgetPeriod = time.Minute

type budgets struct {
	mu sync.Mutex
	m  map[string]*budget
}

type budget struct {
	limit     int       // RateLimit-Limit, 0 until seen
	remaining int       // RateLimit-Remaining of the last answer
	inflight  int       // polls handed out and not answered yet
	seen      time.Time // when remaining was read
	pause     time.Time
	next      time.Time // the next paced poll's turn
}

// observe learns project's budget from an answer at now.
func (bs *budgets) observe(project string, status int, h http.Header, now time.Time) {
	if project == "" {
		return
	}
	limit, errL := strconv.Atoi(h.Get("RateLimit-Limit"))
	remaining, errR := strconv.Atoi(h.Get("RateLimit-Remaining"))
	known := errL == nil && errR == nil && limit > 0 && remaining >= 0
	if !known && status != http.StatusTooManyRequests {
		return
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.m == nil {
		bs.m = map[string]*budget{}
	}
	b := bs.m[project]
	if b == nil {
		b = &budget{}
		bs.m[project] = b
	}
	if known {
		// Answers sent together arrive in any order: within one turn of
		// the last, the lowest count is the latest.
		if now.Sub(b.seen) < budgetPeriod/time.Duration(limit) && b.limit == limit {
			remaining = min(remaining, b.remaining)
		}
		b.limit, b.remaining, b.seen = limit, remaining, now
	}
	if status == http.StatusTooManyRequests {
		b.remaining = 0
		wait := parseRetryAfter(h.Get("Retry-After"), now)
		if wait <= 0 {
			wait = time.Second
		}
		if until := now.Add(wait); until.After(b.pause) {
			b.pause = until
		}
	}
}

// turn says when a poll of project may be sent, at now; slot is the turn
// an earlier call gave this poll (zero at first). When it says now, the
// poll is in flight until release: the polls in flight count against the
// last answer's RateLimit-Remaining, which some of them may already be
// in, so this errs towards waiting.
func (bs *budgets) turn(project string, now, slot time.Time) (at time.Time, claimed bool) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.m == nil {
		bs.m = map[string]*budget{}
	}
	b := bs.m[project]
	if b == nil {
		b = &budget{}
		bs.m[project] = b
	}
	paused := b.pause.After(now)
	switch {
	case !paused && !slot.IsZero() && !now.Before(slot),
		!paused && (b.limit == 0 || b.remaining-b.inflight > max(1, b.limit/10)):
		b.inflight++
		return now, false
	}
	// One at a time, at the pace the budget comes back, after any pause.
	// Only the next turn is claimed; the other polls look again a turn
	// later, so that a budget found refilled lets them all go at once.
	gap := budgetPeriod / time.Duration(max(1, b.limit))
	at = latest(now, b.pause, b.next)
	if at.Sub(latest(now, b.pause)) > gap {
		return latest(now.Add(gap), b.pause), false
	}
	b.next = at.Add(gap)
	if at.Equal(now) {
		b.inflight++
	}
	return at, true
}

// take counts a poll in flight out of turn.
func (bs *budgets) take(project string) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b := bs.m[project]; b != nil {
		b.inflight++
	}
}

func latest(t time.Time, more ...time.Time) time.Time {
	for _, u := range more {
		if u.After(t) {
			t = u
		}
	}
	return t
}

func (bs *budgets) release(project string) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b := bs.m[project]; b != nil && b.inflight > 0 {
		b.inflight--
	}
}

// awaitBudget waits, within deadline, for the turn of a poll of project;
// the caller calls release when the poll is answered. A pause that a 429
// starts while the poll waits for its turn holds it too.
func (c *Client) awaitBudget(ctx context.Context, project string, deadline time.Time) (release func(), err error) {
	release = func() { c.budget.release(project) }
	var slot time.Time
	first := true
	for {
		now := c.now()
		at, claimed := c.budget.turn(project, now, slot)
		if !at.After(now) {
			return release, nil
		}
		if !at.Before(deadline) {
			// The deadline comes first: one last look then.
			if d := deadline.Sub(now); d > 0 {
				if err := c.sleep(ctx, d); err != nil {
					return nil, err
				}
			}
			c.budget.take(project)
			return release, nil
		}
		if first {
			c.log(ctx, "waiting for the project's request budget", map[string]any{"project_id": project, "delay": at.Sub(now).String()})
			first = false
		}
		if err := c.sleep(ctx, at.Sub(now)); err != nil {
			return nil, err
		}
		slot = time.Time{}
		if claimed {
			slot = at
		}
	}
}

// projectOf is the project id in an API path (".../groups/{id}/..."),
// or "".
func projectOf(path string) string {
	_, rest, ok := strings.Cut(path, "/groups/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	if id, err := url.PathUnescape(id); err == nil {
		return id
	}
	return ""
}
