// SPDX-License-Identifier: MPL-2.0

// Package atlas is a small client for the MongoDB Atlas Administration API
// endpoints that request, list and read backup snapshot downloads.
//
// It knows HTTP, digest authentication, Atlas error bodies, retries and
// rate limits; it knows nothing of Terraform.
package atlas

import (
	"context"
	"crypto/x509"
	"math/rand/v2"
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
		grace:     firstByte + recoveryGrace,
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
			if c.bearer.cache, err = openTokenCache(cfg.TokenCacheDir, base, cfg.ClientID, cfg.ClientSecret); err != nil {
				return nil, err
			}
		}
		auth = &bearerTransport{auth: c.bearer, host: base.Host, base: &skewTransport{base: tr, c: c}}
	}
	c.http = &http.Client{
		Transport:     auth,
		Timeout:       timeout,
		CheckRedirect: checkRedirect(base),
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

// Now is the client's clock.
func (c *Client) Now() time.Time { return c.now() }
