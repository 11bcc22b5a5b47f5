// SPDX-License-Identifier: MPL-2.0

package atlas

// The send loop: one API call, its attempts, and the waits between them.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// request is one API call as the retry loop sees it.
type request struct {
	method    string
	path      string // escaped, without query
	query     url.Values
	body      any
	mediaType string
	// idempotent requests are retried on any transient failure; others
	// only where Atlas cannot have acted on them (see recovery.go for the
	// one that looks before it repeats).
	idempotent bool
}

// response is a successful answer's body.
type response struct {
	status int
	body   []byte
}

func (c *Client) send(ctx context.Context, req request) (*response, error) {
	payload := mustJSON(req.body)
	deadline, bounded := c.deadline(ctx)
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, req, payload)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil || c.classify(req, err) != retry || attempt >= c.retry.MaxAttempts {
			return nil, err
		}
		delay := c.retry.delay(attempt, retryAfter(err), c.jitter())
		if bounded && c.now().Add(delay).After(deadline) {
			return nil, fmt.Errorf("%w (no time left to retry before the deadline)", err)
		}
		c.log(ctx, "retrying atlas request", map[string]any{
			"method": req.method, "path": req.path, "attempt": attempt,
			"error": errorSummary(err), "delay": delay.String(),
		})
		if c.sleep(ctx, delay) != nil {
			return nil, err
		}
	}
}

// deadline is ctx's deadline on the client's clock: the time ctx has left,
// counted from now. A call takes it once, at its start, and compares only
// the client's clock with it: ctx's own deadline is on the wall clock, which
// an injected clock does not follow.
func (c *Client) deadline(ctx context.Context) (time.Time, bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Time{}, false
	}
	return c.now().Add(time.Until(dl)), true
}

// once sends one HTTP request and reads its answer.
func (c *Client) once(ctx context.Context, req request, payload []byte) (*response, error) {
	u := *c.base
	u.Path, _ = url.PathUnescape(req.path) // built by escaping, so it unescapes
	u.RawPath = req.path
	u.RawQuery = req.query.Encode()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("atlas: building %s %s: %w", req.method, req.path, err)
	}
	hr.Header.Set("Accept", req.mediaType)
	if payload != nil {
		hr.Header.Set("Content-Type", req.mediaType)
	}
	hr.Header.Set("User-Agent", c.userAgent)
	if err := ctx.Err(); err != nil {
		return nil, &NotSentError{Err: err}
	}
	ctx, err = c.tokenBeforeAttempt(ctx)
	if err != nil {
		return nil, err
	}
	// An endpoint that accepts and never answers must cost one bounded
	// attempt, not the whole exchange's timeout.
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := &NoAnswerError{BaseURL: c.base.String(), Waited: c.firstByte}
	timer := time.AfterFunc(c.firstByte, func() { cancel(stalled) })
	res, err := c.http.Do(hr.WithContext(actx))
	timer.Stop()
	if err != nil {
		var tokErr *TokenError
		switch {
		case errors.As(err, &tokErr):
			return nil, tokErr // already retried; the request was never sent
		case ctx.Err() != nil && notSent(err):
			return nil, &NotSentError{Err: ctx.Err()}
		case ctx.Err() == nil && context.Cause(actx) == stalled:
			err = stalled
		}
		return nil, &transportError{method: req.method, path: req.path, err: err}
	}
	defer res.Body.Close()
	c.budget.observe(projectOf(req.path), res.StatusCode, res.Header, c.now())
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return nil, &transportError{method: req.method, path: req.path, err: err, afterHeaders: true}
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("atlas: %s %s: HTTP %d with a body over %d bytes; refusing to read it", req.method, req.path, res.StatusCode, maxResponseBytes)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		e := decodeError(req.method, req.path, res.StatusCode, data)
		e.RetryAfter = parseRetryAfter(res.Header.Get("Retry-After"), c.now())
		if c.bearer != nil && e.StatusCode == http.StatusUnauthorized {
			return nil, &AuthRefusal{Static: c.bearer.static != "", Err: e}
		}
		return nil, e
	}
	return &response{status: res.StatusCode, body: data}, nil
}

func errorSummary(err error) string {
	var ae *Error
	if errors.As(err, &ae) {
		if ae.ErrorCode != "" {
			return fmt.Sprintf("HTTP %d %s", ae.StatusCode, ae.ErrorCode)
		}
		return fmt.Sprintf("HTTP %d", ae.StatusCode)
	}
	var te *transportError
	if errors.As(err, &te) {
		return stripURL(te.err).Error()
	}
	return err.Error()
}

func mustJSON(v any) []byte {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only the client's own maps and structs are encoded
	}
	return b
}

// sleepContext is the real clock's Sleep.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
