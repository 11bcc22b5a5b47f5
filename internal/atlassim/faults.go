// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults makes the simulator misbehave the ways Atlas can, so that clients
// can be tested against it. The zero value injects nothing. Shares are
// probabilities from 0 to 1, drawn from a source seeded with RandSeed, so a
// test that sends the same requests in the same order sees the same faults.
//
// Rate limits, injected 5xx answers and dropped connections apply to API
// paths only, never to /__sim/stats, and to download links only when
// DownloadFaults is set. Latency applies to API paths and download links.
// Download limits apply to POST .../download.
type Faults struct {
	// RateLimitCapacity is the size of each project's token bucket; 0 turns
	// rate limiting off. Every authenticated API request under a known
	// project takes one token; an empty bucket answers 429.
	RateLimitCapacity int
	// RateLimitRefill tokens are added every RateLimitPeriod (default 1m),
	// up to the capacity; 0 means the capacity (a fixed window). The
	// answers' RateLimit-Limit is the capacity alone: Atlas's headers do not
	// say the refill, and the client assumes RateLimit-Limit a minute.
	RateLimitRefill int
	RateLimitPeriod time.Duration

	// ErrorRate is the share of API requests answered with ErrorStatus
	// (default 503) without acting on them.
	ErrorRate   float64
	ErrorStatus int
	// ErrorRetryAfter, when positive, is sent as Retry-After (whole seconds,
	// at least 1) on injected 503s.
	ErrorRetryAfter time.Duration

	// Latency is waited (for real, through Config.Sleep) before every
	// request is handled.
	Latency time.Duration

	// DropRate is the share of API requests that are processed (a download
	// job is created, say) and then answered by closing the connection. The
	// dropped request has spent its digest nonce count: the same
	// Authorization sent again is refused with a fresh challenge.
	DropRate float64

	// DownloadFaults makes ErrorRate and DropRate reach download links too:
	// an injected error answers ErrorStatus instead of the archive, and a
	// dropped download sends its headers and half of its body (rounded
	// down), then closes the connection (a link that would answer an error
	// closes it without an answer).
	DownloadFaults bool

	// NonceLifetime, when positive, makes a nonce older than this (on the
	// injected clock) answer 401 with stale=true and a fresh nonce, as Ops
	// Manager does.
	NonceLifetime time.Duration
	// StrictNonceCount requires each use of a nonce to carry a nonce count
	// above every count used with it before; otherwise only exact repeats
	// are refused.
	StrictNonceCount bool

	// FailJobRate is the share of new jobs, downloads and restores, that
	// end FAILED instead of COMPLETED (at the time the others complete).
	FailJobRate float64
	// FailSnapshotIDs lists snapshots whose new jobs always fail.
	FailSnapshotIDs []string

	// RandSeed seeds the source of the shares above.
	RandSeed uint64

	// DownloadLimit, when positive, is the most unfinished (PENDING, QUEUED
	// or RUNNING) download jobs a project may have: a request beyond it
	// answers 400 TOO_MANY_SNAPSHOT_DOWNLOADS and creates no job. Atlas
	// documents such a per-project limit but not its size (see limits.go).
	DownloadLimit int
	// OneDownloadPerSnapshot makes a request answer 400
	// CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY, creating no job, while the same
	// snapshot has an unfinished download job.
	OneDownloadPerSnapshot bool
}

// defaultRateLimitPeriod is the refill period when Faults leaves it at 0.
const defaultRateLimitPeriod = time.Minute

// Validate reports every setting out of range.
func (f Faults) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if f.RateLimitCapacity < 0 || f.RateLimitRefill < 0 || f.RateLimitPeriod < 0 {
		bad("RateLimitCapacity, RateLimitRefill and RateLimitPeriod must not be negative")
	}
	for name, v := range map[string]float64{"ErrorRate": f.ErrorRate, "DropRate": f.DropRate, "FailJobRate": f.FailJobRate} {
		if !(v >= 0 && v <= 1) {
			bad("%s %v: want a share from 0 to 1", name, v)
		}
	}
	if f.ErrorStatus != 0 && (f.ErrorStatus < 500 || f.ErrorStatus > 599) {
		bad("ErrorStatus %d: want a 5xx status", f.ErrorStatus)
	}
	if f.DownloadLimit < 0 {
		bad("DownloadLimit %d must not be negative", f.DownloadLimit)
	}
	if f.ErrorRetryAfter < 0 || f.Latency < 0 || f.NonceLifetime < 0 {
		bad("ErrorRetryAfter, Latency and NonceLifetime must not be negative")
	}
	for _, id := range f.FailSnapshotIDs {
		if !hexIDPattern.MatchString(id) {
			bad("FailSnapshotIDs: %q is not 24 lowercase hex digits", id)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("atlassim: faults: %w", err)
	}
	return nil
}

// faultState is the live fault configuration with its random source and
// rate-limit buckets, behind its own lock so that SetFaults is safe while
// requests run.
type faultState struct {
	mu      sync.Mutex
	f       Faults
	failIDs map[string]bool
	rnd     *rand.Rand
	buckets map[string]*tokenBucket // by project id
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f.FailSnapshotIDs = append([]string(nil), f.FailSnapshotIDs...)
	fs.f = f
	fs.failIDs = map[string]bool{}
	for _, id := range f.FailSnapshotIDs {
		fs.failIDs[id] = true
	}
	fs.rnd = rand.New(rand.NewPCG(f.RandSeed, 0x61746c6173)) // "atlas"
	fs.buckets = map[string]*tokenBucket{}
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f
	f.FailSnapshotIDs = append([]string(nil), f.FailSnapshotIDs...)
	return f
}

// roll reports whether an event with probability p happens. A share of 0
// draws nothing, so turning one fault on does not shift the others' draws.
func (fs *faultState) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.rnd.Float64() < p
}

// jobFails decides, when a job is created, whether it will fail.
func (fs *faultState) jobFails(snapshotID string) bool {
	fs.mu.Lock()
	listed, rate := fs.failIDs[snapshotID], fs.f.FailJobRate
	fs.mu.Unlock()
	return listed || fs.roll(rate)
}

// downloadPolicy is the download limits in force.
func (fs *faultState) downloadPolicy() (limit int, onePerSnapshot bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f.DownloadLimit, fs.f.OneDownloadPerSnapshot
}

// tokenBucket holds a project's tokens; it refills in whole periods counted
// from the time it was created.
type tokenBucket struct {
	tokens int
	since  time.Time // start of the current period
}

// rateDecision is the outcome of taking a token.
type rateDecision struct {
	limited          bool
	limit, remaining int
	retryAfter       time.Duration
}

// take takes one token from project's bucket at now. It reports false when
// rate limiting is off.
func (fs *faultState) take(project string, now time.Time) (rateDecision, bool) {
	return fs.bucket(project, now, true)
}

// peek is take without taking: the bucket as it stands, for the headers of
// answers that cost no token (401 challenges).
func (fs *faultState) peek(project string, now time.Time) (rateDecision, bool) {
	return fs.bucket(project, now, false)
}

func (fs *faultState) bucket(project string, now time.Time, consume bool) (rateDecision, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	capacity := fs.f.RateLimitCapacity
	if capacity <= 0 {
		return rateDecision{}, false
	}
	refill, period := fs.f.RateLimitRefill, fs.f.RateLimitPeriod
	if refill <= 0 {
		refill = capacity
	}
	if period <= 0 {
		period = defaultRateLimitPeriod
	}
	b := fs.buckets[project]
	if b == nil {
		b = &tokenBucket{tokens: capacity, since: now}
		fs.buckets[project] = b
	}
	if n := now.Sub(b.since) / period; n > 0 {
		b.tokens = int(min(int64(capacity), int64(b.tokens)+int64(n)*int64(refill)))
		b.since = b.since.Add(time.Duration(int64(n) * int64(period)))
	}
	d := rateDecision{limit: capacity}
	if b.tokens == 0 {
		d.limited = true
		d.retryAfter = b.since.Add(period).Sub(now)
		return d, true
	}
	if consume {
		b.tokens--
	}
	d.remaining = b.tokens
	return d, true
}

// retryAfterSeconds renders d as a Retry-After value: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

// failInjected answers c with an injected server fault when f's ErrorRate
// says so, and reports whether it did. API routes, the OAuth endpoints and
// (when asked) download links all fail this one way.
func (s *Server) failInjected(c *call, f Faults) bool {
	if !s.faults.roll(f.ErrorRate) {
		return false
	}
	c.fault = faultInjected5xx
	status := cmp.Or(f.ErrorStatus, http.StatusServiceUnavailable)
	if status == http.StatusServiceUnavailable && f.ErrorRetryAfter > 0 {
		c.w.Header().Set("Retry-After", retryAfterSeconds(f.ErrorRetryAfter))
	}
	c.fail(injected5xx(status))
	return true
}

// injected5xx is the Atlas error for an injected server fault.
func injected5xx(status int) *apiError {
	if status == http.StatusServiceUnavailable {
		return newAPIError(status, codeServiceUnavailable,
			"The service is temporarily unavailable. Retry the request later.")
	}
	return newAPIError(status, codeUnexpectedError, "Unexpected error.")
}

// SetFaults replaces the fault configuration while the server runs. The
// random source is reseeded from f.RandSeed and every rate-limit bucket
// starts full again.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faults.set(f)
	return nil
}

// Faults returns the fault configuration in force.
func (s *Server) Faults() Faults { return s.faults.get() }

// sleepTimer is the default Config.Sleep: a real wait that ends early, with
// the context's error, when the request is abandoned.
func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
