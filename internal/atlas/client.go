// SPDX-License-Identifier: MPL-2.0

// Package atlas is a small client for the MongoDB Atlas Administration API
// endpoints that request, list and read backup snapshot downloads.
//
// It knows HTTP, digest authentication, Atlas error bodies, retries and
// rate limits; it knows nothing of Terraform.
package atlas

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"
)

// DefaultBaseURL is the Atlas commercial cloud.
const DefaultBaseURL = "https://cloud.mongodb.com"

// maxResponseBytes bounds how much of one answer is read: a list page of
// 500 jobs is well under a megabyte, so anything near this is not Atlas.
const maxResponseBytes = 8 << 20

// Config configures a Client. BaseURL and one way to authenticate are
// needed; the rest have working defaults.
type Config struct {
	BaseURL    string
	PublicKey  string
	PrivateKey string
	UserAgent  string

	// ClientID and ClientSecret are a service account's credentials (OAuth
	// 2.0 client credentials), and AccessToken a token obtained elsewhere:
	// each is a way to authenticate instead of the API key (see oauth.go).
	// Exactly one way must be given.
	ClientID     string
	ClientSecret string
	AccessToken  string

	// Transport carries the requests; nil means a tuned http.Transport that
	// honours the proxy environment variables and requires TLS 1.2.
	Transport http.RoundTripper
	// Timeout bounds one HTTP exchange (default 60s); the caller's context
	// bounds the whole call, retries included.
	Timeout time.Duration
	// FirstByteTimeout bounds how long one attempt waits for the first
	// byte of the answer (default 30s): an endpoint that accepts and never
	// answers costs that per attempt, and the attempt counts as failed.
	FirstByteTimeout time.Duration

	// LockDir is the directory where the provider processes of this user
	// on this machine coordinate download requests (see recovery.go and
	// OpenLockDir). "" keeps the coordination within this process.
	LockDir string
	// TokenCacheDir, when set, is a directory where the provider processes
	// of this user share a service account's token (see tokencache.go).
	TokenCacheDir string

	Retry RetryPolicy

	// Now and Sleep are the client's clock; tests replace them so that
	// nothing waits for real time.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1); nil means math/rand.
	Jitter func() float64

	// Log receives one line per retry and wait. Fields never hold secrets.
	Log func(ctx context.Context, msg string, fields map[string]any)
	// LogHTTP, when set, receives one entry per HTTP exchange on the wire,
	// digest probes and retries included (see logTransport for what is
	// redacted). The context is the caller's.
	LogHTTP LogFunc
	// RootCAs are the certificate authorities the default transport
	// trusts; nil means the system roots.
	RootCAs *x509.CertPool
}

// Client calls Atlas. It is safe for concurrent use; make one per set of
// credentials so that the digest challenge is shared.
type Client struct {
	base      *url.URL
	http      *http.Client
	links     *http.Client     // for download links: see newLinkClient
	digest    *digestTransport // nil when authenticating with a Bearer token
	bearer    *bearerAuth      // nil with API keys
	lockDir   *LockDir         // nil: coordinate within this process only
	firstByte time.Duration
	grace     time.Duration // see recoveryGrace
	userAgent string
	retry     RetryPolicy
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
	jitter    func() float64
	log       func(ctx context.Context, msg string, fields map[string]any)

	// skew is the server clock minus ours, learnt from the Date header of
	// every answer on the wire (see skewTransport).
	skew clockSkew
	// budget is each project's request budget, learnt from every answer
	// (see budget.go).
	budget budgets
}

// New checks cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	base, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := checkCredentials(cfg); err != nil {
		return nil, err
	}
	tr := cfg.Transport
	if tr == nil {
		tr = defaultTransport(cfg.RootCAs)
	}
	rawTransport := tr
	if cfg.LogHTTP != nil {
		tr = &logTransport{base: tr, log: cfg.LogHTTP}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	var lockDir *LockDir
	if cfg.LockDir != "" {
		if lockDir, err = OpenLockDir(cfg.LockDir); err != nil {
			return nil, err
		}
	}
	firstByte := cfg.FirstByteTimeout
	if firstByte <= 0 {
		firstByte = 30 * time.Second
	}
	c := &Client{
		base:      base,
		lockDir:   lockDir,
		firstByte: firstByte,
		grace:     recoveryGrace,
		userAgent: cfg.UserAgent,
		retry:     cfg.Retry.withDefaults(),
		now:       cfg.Now,
		sleep:     cfg.Sleep,
		jitter:    cfg.Jitter,
		log:       cfg.Log,
	}
	// The skew transport sits under the digest transport so that the
	// digest probe's 401 teaches the server clock too: on a cold client it
	// is the only answer before the first real one.
	c.digest = &digestTransport{
		username: cfg.PublicKey,
		password: cfg.PrivateKey,
		host:     base.Host,
		base:     &skewTransport{base: tr, c: c},
	}
	var auth http.RoundTripper = c.digest
	if cfg.PublicKey == "" {
		c.digest = nil
		c.bearer = newBearerAuth(c, cfg, rawTransport, timeout)
		if cfg.TokenCacheDir != "" && c.bearer.static == "" {
			if c.bearer.cache, err = openTokenCache(cfg.TokenCacheDir, base, cfg.ClientID); err != nil {
				return nil, err
			}
		}
		auth = &bearerTransport{auth: c.bearer, host: base.Host, base: &skewTransport{base: tr, c: c}}
	}
	c.http = &http.Client{
		Transport: auth,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != base.Host || req.URL.Scheme != base.Scheme {
				return &redirectError{host: req.URL.Host, phrase: "a redirect to another host was refused"}
			}
			if len(via) >= 5 {
				return &redirectError{phrase: "the server redirected too many times"}
			}
			return nil
		},
	}
	c.links = newLinkClient(rawTransport)
	if c.userAgent == "" {
		c.userAgent = "terraform-provider-atlas"
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.jitter == nil {
		c.jitter = rand.Float64
	}
	if c.log == nil {
		c.log = func(context.Context, string, map[string]any) {}
	}
	return c, nil
}

// BaseURL is the Atlas address the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// DigestChallenges is how many digest challenges the client has received.
func (c *Client) DigestChallenges() int64 {
	if c.digest == nil {
		return 0
	}
	return c.digest.Challenges()
}

// ServerNow estimates the server's current time from the Date headers seen
// so far (the local clock until one is seen). It errs early, never late:
// by up to a second (Date has whole seconds) plus one round trip.
func (c *Client) ServerNow() time.Time {
	lo, _, _ := c.skew.get()
	return c.now().Add(lo)
}

func defaultTransport(roots *x509.CertPool) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

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

func decodeJSON(body []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(out); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func (c *Client) send(ctx context.Context, req request) (*response, error) {
	payload := mustJSON(req.body)
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, req, payload)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil || c.classify(req, err) != retry || attempt >= c.retry.MaxAttempts {
			return nil, err
		}
		delay := c.retry.delay(attempt, retryAfter(err), c.jitter())
		if dl, ok := ctx.Deadline(); ok && c.now().Add(delay).After(dl) {
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

// Unreachable reports whether err is a request that got no complete HTTP
// answer from the server (as opposed to an answer the client refused).
func Unreachable(err error) bool {
	var te *transportError
	return errors.As(err, &te)
}

// PermanentCause says, for a transport failure that repeating cannot mend
// (an untrusted certificate, a host name that does not resolve, a refused
// redirect), what is wrong in a short phrase; it is "" for any other error.
// The client does not retry such failures.
func PermanentCause(err error) string {
	var te *transportError
	if !errors.As(err, &te) {
		return ""
	}
	return permanentCause(te.err)
}

func permanentCause(err error) string {
	var re *redirectError
	if errors.As(err, &re) {
		return re.phrase
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return "the server's TLS certificate is not trusted: " + sanitise(cv.Err.Error(), 200)
	}
	// The x509 errors also arrive bare from transports that verify by
	// themselves.
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return "the server's TLS certificate is not trusted: " + sanitise(ua.Error(), 200)
	case errors.As(err, &hn):
		return "the server's TLS certificate is not trusted: " + sanitise(hn.Error(), 200)
	case errors.As(err, &ci):
		return "the server's TLS certificate is not trusted: " + sanitise(ci.Error(), 200)
	}
	// Only a definite "no such host": a resolver that timed out or failed
	// for the moment may answer next time.
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound && !de.IsTimeout && !de.IsTemporary {
		return "the host name does not resolve"
	}
	return ""
}

// redirectError is CheckRedirect's refusal.
type redirectError struct {
	host   string // where the redirect pointed, if elsewhere
	phrase string
}

func (e *redirectError) Error() string {
	if e.host != "" {
		return fmt.Sprintf("atlas: refusing to follow a redirect to another host (%s)", e.host)
	}
	return "atlas: " + e.phrase
}

// transportError is a request that got no complete HTTP answer.
type transportError struct {
	method, path string
	err          error
	afterHeaders bool
}

func (e *transportError) Error() string {
	return fmt.Sprintf("atlas: %s %s: %v", e.method, e.path, stripURL(e.err))
}

func (e *transportError) Unwrap() error { return e.err }

// stripURL drops the URL that net/http puts in its errors: the message
// already names the path, and a URL may carry a query string.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
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
