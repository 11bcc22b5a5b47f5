// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// RetryPolicy shapes the waits between attempts: capped exponential backoff
// with jitter, never shorter than the server's Retry-After.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, the first included (default 8)
	MinDelay    time.Duration // first backoff step (default 500ms)
	MaxDelay    time.Duration // cap of one wait (default 30s)
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.MinDelay <= 0 {
		p.MinDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxDelay < p.MinDelay {
		p.MaxDelay = p.MinDelay
	}
	return p
}

// delay is the wait after the given failed attempt (1-based): half the
// exponential step plus a random part of the other half, and at least the
// server's Retry-After.
func (p RetryPolicy) delay(attempt int, retryAfter time.Duration, jitter float64) time.Duration {
	step := float64(p.MinDelay) * math.Pow(2, float64(attempt-1))
	step = math.Min(step, float64(p.MaxDelay))
	d := time.Duration(step/2 + step/2*jitter)
	if retryAfter > d {
		// Spread the clients that were told the same instant.
		d = retryAfter + time.Duration(float64(p.MinDelay)*jitter)
	}
	return d
}

type verdict int

const (
	giveUp     verdict = iota
	retry              // the server cannot have acted, or acting twice is harmless
	checkFirst         // the server may have acted: look before repeating
)

// classify decides what a failure of req allows.
func (c *Client) classify(req request, err error) verdict {
	var ae *Error
	if errors.As(err, &ae) {
		switch ae.StatusCode {
		case http.StatusTooManyRequests:
			return retry // rate limited requests are refused before any work
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			// A read changes nothing, so even a 500 (often a passing
			// fault behind Atlas's front end) is worth asking again.
			if req.idempotent {
				return retry
			}
			return checkFirst
		}
		return giveUp
	}
	var te *transportError
	if !errors.As(err, &te) {
		return giveUp
	}
	if permanent(te.err) != nil {
		return giveUp // the same certificate, name or redirect next time
	}
	if req.idempotent {
		return retry
	}
	if notSent(te.err) {
		return retry
	}
	return checkFirst
}

// notSent reports whether a transport failure happened before the request
// could reach the server: the connection was refused or never made.
func notSent(err error) bool {
	var ue *unsentError
	if errors.As(err, &ue) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de)
}

// unsentError is a failure of the client's own before anything was written
// to the network, such as ctx ending while a request waited for the digest
// challenge.
type unsentError struct{ err error }

func (e *unsentError) Error() string { return e.err.Error() }
func (e *unsentError) Unwrap() error { return e.err }

func retryAfter(err error) time.Duration {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
