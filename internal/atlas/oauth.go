// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TokenPath is Atlas's OAuth 2.0 token endpoint, on the API's own host.
const TokenPath = "/api/oauth/token"

// DefaultTokenLifetime is what Atlas documents for a service account's
// access token, assumed when an answer leaves expires_in out.
const DefaultTokenLifetime = time.Hour

// maxRenewMargin is how long before its expiry a token is renewed: early
// enough that a call sent just before the renewal cannot meet an expired
// token at Atlas, even with a slow network. Short-lived tokens (a
// simulator's) are renewed when a quarter of their life is left.
const maxRenewMargin = 5 * time.Minute

func renewMargin(lifetime time.Duration) time.Duration {
	return min(maxRenewMargin, lifetime/4)
}

// bearerAuth hands out the Bearer token of API requests: a fixed one (an
// access token obtained elsewhere) or one from the client-credentials grant.
//
// golang.org/x/oauth2/clientcredentials speaks the grant. The cache is ours
// because oauth2.ReuseTokenSource reads the wall clock (our tests and waits
// run on an injected one), cannot be told that Atlas refused a token it
// still thinks valid, and fetches under a caller-less context.
type bearerAuth struct {
	static string
	cc     *clientcredentials.Config
	http   *http.Client // for the token endpoint only
	c      *Client      // clock, retry policy and log
	cache  *tokenCache  // nil: tokens are this process's own

	mu       sync.Mutex
	tok      string
	expiry   time.Time // on the client's clock
	renewAt  time.Time
	renewing *renewal

	requests atomic.Int64
	// waitHook, when set (by tests), runs each time a caller starts
	// waiting for another's token request.
	waitHook func()
}

// renewal is one token request in flight; done is closed when it ends.
type renewal struct {
	done chan struct{}
	tok  string
	err  error
}

// token returns a token to send. stale, when not "", is a token Atlas just
// refused: it is not handed out again. However many callers ask at once, at
// most one token request is in flight; while a token that is still valid is
// being renewed, the others go on using it.
func (b *bearerAuth) token(ctx context.Context, stale string) (string, error) {
	if b.static != "" {
		return b.static, nil
	}
	for {
		b.mu.Lock()
		now := b.c.now()
		old := ""
		if b.tok != "" && b.tok != stale && now.Before(b.expiry) {
			old = b.tok
		}
		if old != "" && (now.Before(b.renewAt) || b.renewing != nil) {
			b.mu.Unlock()
			return old, nil
		}
		if r := b.renewing; r != nil {
			b.mu.Unlock()
			if b.waitHook != nil {
				b.waitHook()
			}
			select {
			case <-r.done:
			case <-ctx.Done():
				return "", &unsentError{ctx.Err()}
			}
			if r.err == nil {
				return r.tok, nil
			}
			var ue *unsentError
			if (errors.As(r.err, &ue) || errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded)) && ctx.Err() == nil {
				continue // the leader's caller gave up; this one may lead
			}
			return "", r.err
		}
		r := &renewal{done: make(chan struct{})}
		b.renewing = r
		b.mu.Unlock()

		tok, expiry, renewAt, err := b.take(ctx, stale)

		b.mu.Lock()
		if err == nil {
			b.tok, b.expiry, b.renewAt = tok, expiry, renewAt
		}
		r.tok, r.err = tok, err
		b.renewing = nil
		close(r.done)
		keepOld := err != nil && old != "" && b.c.now().Before(b.expiry)
		b.mu.Unlock()
		if keepOld {
			b.c.log(ctx, "renewing the atlas access token failed; using the current one until it expires", map[string]any{
				"error": err.Error(),
			})
			return old, nil
		}
		return tok, err
	}
}

// maxTokenRateWaits bounds the waits for the token endpoint's rate limit
// (10 requests a minute per IP and client) when the caller gives no
// deadline: half an hour of minutes.
const maxTokenRateWaits = 30

// fetch asks the token endpoint for a token, retrying as API calls are
// retried, except that its 429s are waited out as Retry-After says for as
// long as the caller's deadline allows: processes that start together
// meet the limit, and should not fail a plan for it. sent is when the answering request left, on the client's clock,
// from which expires_in counts.
func (b *bearerAuth) fetch(ctx context.Context) (tok string, lifetime time.Duration, sent time.Time, err error) {
	hctx := context.WithValue(ctx, oauth2.HTTPClient, b.http)
	deadline, bounded := b.c.deadline(ctx)
	limited := 0 // answers 429, which do not use up attempts
	for attempt := 1; ; attempt++ {
		sent = b.c.now()
		b.requests.Add(1)
		t, err := b.cc.Token(hctx)
		if err == nil {
			if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
				return "", 0, sent, &TokenError{Kind: TokenNotBearer}
			}
			lifetime = expiresIn(t)
			if lifetime <= 0 {
				lifetime = DefaultTokenLifetime
			}
			return t.AccessToken, lifetime, sent, nil
		}
		if ctx.Err() != nil {
			return "", 0, sent, &unsentError{ctx.Err()}
		}
		te := tokenFailure(err, b.c.now())
		if te.StatusCode == http.StatusTooManyRequests {
			limited++
		}
		if !te.retryable || attempt-limited >= b.c.retry.MaxAttempts || limited > maxTokenRateWaits {
			return "", 0, sent, te
		}
		delay := b.c.retry.delay(max(1, attempt-limited), te.RetryAfter, b.c.jitter())
		if bounded && b.c.now().Add(delay).After(deadline) {
			return "", 0, sent, te
		}
		b.c.log(ctx, "retrying atlas token request", map[string]any{
			"path": TokenPath, "attempt": attempt, "error": te.brief(), "delay": delay.String(),
		})
		if err := b.c.sleep(ctx, delay); err != nil {
			return "", 0, sent, &unsentError{err}
		}
	}
}

// expiresIn is the token's lifetime as the answer gave it. The token's
// Expiry is not used: the library counts it from the wall clock, and the
// client's clock is injected. (clientcredentials leaves ExpiresIn unset,
// so the raw answer is read.)
func expiresIn(t *oauth2.Token) time.Duration {
	if t.ExpiresIn > 0 {
		return time.Duration(t.ExpiresIn) * time.Second
	}
	var secs float64
	switch v := t.Extra("expires_in").(type) {
	case float64:
		secs = v
	case string: // a form-encoded answer
		_, _ = fmt.Sscan(v, &secs)
	}
	if secs <= 0 || secs > 366*24*3600 {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}

// TokenFailureKind is how a token request failed.
type TokenFailureKind int

const (
	// TokenRefused: the endpoint answered with an HTTP error (StatusCode,
	// ErrorCode, Detail).
	TokenRefused TokenFailureKind = iota + 1
	// TokenUnreachable: no complete answer came back (Detail is the
	// transport's error; Permanent is set when that cannot mend).
	TokenUnreachable
	// TokenNotBearer: the answer is a token of a type other than Bearer.
	TokenNotBearer
	// TokenMalformed: the answer is not an access token.
	TokenMalformed
)

// TokenError is the token endpoint refusing or failing to give the client
// an access token, after the retries that were worth making. It never holds
// the client secret, a token or the endpoint's answer as such: only the
// status and Atlas's errorCode and (sanitised) detail.
type TokenError struct {
	Kind       TokenFailureKind
	StatusCode int // TokenRefused only
	ErrorCode  string
	Detail     string
	RetryAfter time.Duration
	Permanent  *PermanentFailure // TokenUnreachable only

	retryable bool
}

func (e *TokenError) Error() string {
	return "atlas: getting an access token from " + TokenPath + ": " + e.summary()
}

// brief is the status and code alone, as retries of API calls are logged.
func (e *TokenError) brief() string {
	switch {
	case e.StatusCode == 0:
		return e.summary()
	case e.ErrorCode != "":
		return fmt.Sprintf("HTTP %d %s", e.StatusCode, e.ErrorCode)
	}
	return fmt.Sprintf("HTTP %d", e.StatusCode)
}

func (e *TokenError) summary() string {
	switch e.Kind {
	case TokenNotBearer:
		return "a token of a type other than Bearer"
	case TokenMalformed:
		return "an answer that is not an access token"
	}
	var b strings.Builder
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
		if e.ErrorCode != "" {
			b.WriteString(" " + e.ErrorCode)
		}
		if e.Detail != "" {
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Detail)
	return b.String()
}

// tokenFailure turns what clientcredentials returned into a TokenError.
// The library's own messages are not kept: they quote the answer's body.
func tokenFailure(err error, now time.Time) *TokenError {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		ae := decodeError(http.MethodPost, TokenPath, re.Response.StatusCode, re.Body)
		te := &TokenError{
			Kind:       TokenRefused,
			StatusCode: ae.StatusCode, ErrorCode: ae.ErrorCode, Detail: ae.Detail,
			RetryAfter: parseRetryAfter(re.Response.Header.Get("Retry-After"), now),
		}
		if te.ErrorCode == "" && re.ErrorCode != "" {
			te.ErrorCode = sanitise(re.ErrorCode, 64) // an RFC 6749 error answer
			te.Detail = sanitise(re.ErrorDescription, 300)
		}
		if te.Detail == "" || strings.HasPrefix(te.Detail, "unexpected response body") {
			te.Detail = http.StatusText(te.StatusCode)
		}
		switch te.StatusCode {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			te.retryable = true // asking for a token twice is harmless
		}
		return te
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		te := &TokenError{Kind: TokenUnreachable, Permanent: permanent(ue.Err)}
		te.Detail = sanitise(stripURL(err).Error(), 200)
		te.retryable = te.Permanent == nil
		return te
	}
	return &TokenError{Kind: TokenMalformed}
}

// AuthRefusal is Atlas answering 401 to an API request that carried a
// Bearer token, after a renewed token (if one could be had) was refused
// too. It unwraps to the *Error.
type AuthRefusal struct {
	// Static is set when the token was given as an access token, which the
	// client cannot renew.
	Static bool
	Err    *Error
}

func (e *AuthRefusal) Error() string {
	if e.Static {
		return e.Err.Error() + " (the access token was refused: it may have expired or been revoked)"
	}
	return e.Err.Error() + " (a freshly issued service-account token was refused)"
}

func (e *AuthRefusal) Unwrap() error { return e.Err }

// bearerTransport sends the Bearer token with every request to host, and
// on a 401 renews the token once and sends the request again. A redirect or
// a presigned download link elsewhere never sees the token.
type bearerTransport struct {
	auth *bearerAuth
	host string
	base http.RoundTripper
}

// maxDrainBytes is how much of a refused answer is read so that its
// connection can be kept.
const maxDrainBytes = 64 << 10

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	tok, err := heldToken(ctx), error(nil)
	if tok == "" {
		tok, err = t.auth.token(ctx, "")
	}
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper closes the body, sent or not
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(withBearer(req, tok, req.Body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || t.auth.static != "" {
		return resp, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot be sent again
	}
	// Refused: the token has expired early or been revoked. One renewal,
	// shared with every request that saw the same refusal.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	_ = resp.Body.Close()
	fresh, err := t.auth.token(ctx, tok)
	if err != nil {
		// Say why no new token came (the secret was deleted, say): a
		// TokenError, which the client passes on as it is.
		return nil, err
	}
	var body io.ReadCloser
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.base.RoundTrip(withBearer(req, fresh, body))
}

func withBearer(req *http.Request, tok string, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.Body = body
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func (t *bearerTransport) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := t.base.(closer); ok {
		c.CloseIdleConnections()
	}
}

// userAgentTransport names the client on token requests, which the
// oauth2 library builds itself.
type userAgentTransport struct {
	base      http.RoundTripper
	userAgent string
}

func (t *userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.userAgent)
	r.Header.Set("Accept", "application/json")
	return t.base.RoundTrip(r)
}

// withoutErrorExcerpt keeps the token endpoint's answers out of the wire
// log: its error answers are not Atlas's usual bodies and could echo what
// was sent, so only statuses and redacted headers are logged.
func withoutErrorExcerpt(log LogFunc) LogFunc {
	return func(ctx context.Context, msg string, fields map[string]any) {
		delete(fields, "error_excerpt")
		log(ctx, msg, fields)
	}
}

// newBearerAuth builds the bearer side of a client from cfg: a fixed
// token, or the grant against base's token endpoint over tr (the raw
// transport) logged to cfg.LogHTTP.
func newBearerAuth(c *Client, cfg Config, tr http.RoundTripper, timeout time.Duration) *bearerAuth {
	if cfg.AccessToken != "" {
		return &bearerAuth{static: cfg.AccessToken, c: c}
	}
	if cfg.LogHTTP != nil {
		tr = &logTransport{base: tr, log: withoutErrorExcerpt(cfg.LogHTTP)}
	}
	tokenURL := *c.base
	tokenURL.Path = TokenPath
	return &bearerAuth{
		c: c,
		cc: &clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     tokenURL.String(),
			AuthStyle:    oauth2.AuthStyleInHeader,
		},
		http: &http.Client{
			Transport: &userAgentTransport{base: &skewTransport{base: tr, c: c}, userAgent: c.userAgentOrDefault()},
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return &redirectError{phrase: "the token endpoint redirected, which Atlas's does not"}
			},
		},
	}
}

// checkCredentials says what is wrong with the credentials in cfg: exactly
// one way to authenticate must be given, and given whole.
func checkCredentials(cfg Config) error {
	keys := cfg.PublicKey != "" || cfg.PrivateKey != ""
	sa := cfg.ClientID != "" || cfg.ClientSecret != ""
	tok := cfg.AccessToken != ""
	n := 0
	for _, b := range []bool{keys, sa, tok} {
		if b {
			n++
		}
	}
	switch {
	case n > 1:
		return errors.New("atlas: Config gives more than one way to authenticate")
	case sa && (cfg.ClientID == "" || cfg.ClientSecret == ""):
		return errors.New("atlas: Config gives half a service account: ClientID and ClientSecret go together")
	case sa || tok:
		return nil
	case cfg.PublicKey == "" || cfg.PrivateKey == "":
		return errors.New("atlas: Config gives no credentials, or half an API key: PublicKey and PrivateKey go together")
	}
	return nil
}

// TokenRequests is how many requests the client has sent to the token
// endpoint (retries included); 0 for API keys and access tokens.
func (c *Client) TokenRequests() int64 {
	if c.bearer == nil {
		return 0
	}
	return c.bearer.requests.Load()
}

// AuthMethod names how the client authenticates: "api_key",
// "service_account" or "access_token".
func (c *Client) AuthMethod() string {
	switch {
	case c.bearer == nil:
		return "api_key"
	case c.bearer.static != "":
		return "access_token"
	}
	return "service_account"
}

func (c *Client) userAgentOrDefault() string {
	if c.userAgent == "" {
		return "terraform-provider-atlas"
	}
	return c.userAgent
}
