// SPDX-License-Identifier: MPL-2.0

package atlassim

// Service accounts: the OAuth 2.0 client-credentials grant at
// POST /api/oauth/token, revocation at POST /api/oauth/revoke, and Bearer
// tokens on the API paths.
//
// What Atlas documents, and the simulator follows: both endpoints take a
// form body and the client ID and secret as HTTP Basic credentials; the
// grant is client_credentials; the answer is JSON with access_token,
// expires_in and token_type "Bearer"; tokens live one hour; revoke takes
// token= (and token_type_hint=access_token) and answers 200. What the
// reference records of real Atlas, and the simulator follows when asked
// (Config.TokenRateLimit, Config.MaxLiveTokens): the token endpoint answers
// 429 "Resource /api/oauth/token is limited to 10 requests every 1
// minutes." past its limit, per IP and client; a service account holds at
// most 100 live tokens and is refused more with a 403.
//
// What Atlas does not document, and the simulator chose: the bodies of
// error answers (the simulator sends its usual Atlas ApiError body, with the
// codes marked below; the 429 is RATE_LIMITED), the answer to an expired or
// revoked token on an API path (401 USER_UNAUTHORIZED, the code of every
// other refusal, with a detail that says which, and a digest challenge like
// every 401), the shape of the token limit (a fixed minute from the first
// request a client makes in it; refused requests do not count), and that
// injected faults reach both endpoints (Faults.RateLimitCapacity meters
// them with the API's settings, in a bucket of their own).

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The service account the simulator accepts when Config leaves it out.
const (
	DefaultClientID     = "mdb_sa_id_atlassim0000000000000000"
	DefaultClientSecret = "mdb_sa_sk_atlassim-5b3c9f0e-7d21-4a8e-b6f4-2c9e1d7a0b35"
)

// DefaultTokenLifetime is the lifetime Atlas documents for an access token.
const DefaultTokenLifetime = time.Hour

const (
	tokenPath  = "/api/oauth/token"
	revokePath = "/api/oauth/revoke"
	// tokenEndpointBucket names the token endpoint's rate-limit bucket, apart from
	// every project's (a project id is 24 hex digits, so no clash).
	tokenEndpointBucket = "(token endpoint)"
	// maxTokens bounds memory: the oldest token is forgotten past this
	// many, and a client using it is refused like for an unknown token.
	maxTokens = 10000
)

// Error codes of the OAuth endpoints, all chosen by the simulator (Atlas
// does not document them).
const (
	codeInvalidClient        = "INVALID_CLIENT"         // simulator
	codeUnsupportedGrantType = "UNSUPPORTED_GRANT_TYPE" // simulator
	codeInvalidRequest       = "INVALID_REQUEST"        // simulator
	codeTooManyTokens        = "TOO_MANY_ACCESS_TOKENS" // simulator, 403
)

// tokenRateWindow is the period of Config.TokenRateLimit, as in Atlas's
// message ("every 1 minutes").
const tokenRateWindow = time.Minute

// oauthState is the service account and the tokens issued to it.
type oauthState struct {
	id, secret string
	lifetime   time.Duration
	rateLimit  int // token requests per client and IP per tokenRateWindow (0: none)
	maxLive    int // live tokens the account may hold (0: no limit)

	mu      sync.Mutex
	tokens  map[string]*issuedToken
	order   []string // issue order, for eviction
	revoked int64    // tokens revoked so far
	windows map[string]*tokenWindow
}

// tokenWindow counts one client's token requests since start.
type tokenWindow struct {
	start time.Time
	n     int
}

type issuedToken struct {
	expires time.Time
	revoked bool
}

func newOAuthState(cfg Config) *oauthState {
	return &oauthState{
		id: cfg.ClientID, secret: cfg.ClientSecret, lifetime: cfg.TokenLifetime,
		rateLimit: cfg.TokenRateLimit, maxLive: cfg.MaxLiveTokens,
		tokens: map[string]*issuedToken{}, windows: map[string]*tokenWindow{},
	}
}

// issue makes a new unguessable token valid from now, unless the account
// already holds maxLive live ones: then it returns "".
func (o *oauthState) issue(now time.Time) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("atlassim: reading random bytes: %v", err))
	}
	tok := "sim_at_" + base64.RawURLEncoding.EncodeToString(b[:])
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.maxLive > 0 && o.liveLocked(now) >= o.maxLive {
		return ""
	}
	if len(o.order) >= maxTokens {
		delete(o.tokens, o.order[0])
		o.order = o.order[1:]
	}
	o.tokens[tok] = &issuedToken{expires: now.Add(o.lifetime)}
	o.order = append(o.order, tok)
	return tok
}

// liveLocked counts the tokens neither expired at now nor revoked.
func (o *oauthState) liveLocked(now time.Time) int {
	n := 0
	for _, t := range o.tokens {
		if !t.revoked && now.Before(t.expires) {
			n++
		}
	}
	return n
}

// admit counts a token request of client at now against the rate limit
// and reports whether it may proceed; when not, retryAfter is when its
// window ends.
func (o *oauthState) admit(client string, now time.Time) (ok bool, retryAfter time.Duration) {
	if o.rateLimit <= 0 {
		return true, 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.windows) > 1024 {
		for k, w := range o.windows {
			if !now.Before(w.start.Add(tokenRateWindow)) {
				delete(o.windows, k)
			}
		}
	}
	w := o.windows[client]
	if w == nil || !now.Before(w.start.Add(tokenRateWindow)) {
		w = &tokenWindow{start: now}
		o.windows[client] = w
	}
	if w.n >= o.rateLimit {
		return false, w.start.Add(tokenRateWindow).Sub(now)
	}
	w.n++
	return true, 0
}

// clientOK checks r's Basic credentials against the service account. The
// parts are form-decoded first, as RFC 6749 (2.3.1) asks clients to encode
// them; Atlas's ids and secrets are unchanged by it.
func (o *oauthState) clientOK(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return false
	}
	if v, err := url.QueryUnescape(id); err == nil {
		id = v
	}
	if v, err := url.QueryUnescape(secret); err == nil {
		secret = v
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(o.id)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(o.secret)) == 1
	return idOK && secretOK
}

// tokenVerdict is what a Bearer token is worth at now.
type tokenVerdict int

const (
	tokenValid tokenVerdict = iota
	tokenUnknown
	tokenExpired
	tokenRevoked
)

func (o *oauthState) check(tok string, now time.Time) tokenVerdict {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tokens[tok]
	switch {
	case t == nil:
		return tokenUnknown
	case t.revoked:
		return tokenRevoked
	case !now.Before(t.expires):
		return tokenExpired
	}
	return tokenValid
}

// revoke revokes tok, if it is known and not revoked yet.
func (o *oauthState) revoke(tok string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if t := o.tokens[tok]; t != nil && !t.revoked {
		t.revoked = true
		o.revoked++
	}
}

// counts returns the live tokens at now and the tokens revoked so far.
func (o *oauthState) counts(now time.Time) (live, revoked int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return int64(o.liveLocked(now)), o.revoked
}

// isOAuthPath reports whether path is one of the OAuth endpoints, which
// take Basic credentials, not the API's: a wrong method there is a 405,
// not a digest challenge.
func isOAuthPath(path string) bool { return path == tokenPath || path == revokePath }

// oauthRoutes are the rows of the two OAuth endpoints.
func oauthRoutes(s *Server) []route {
	return []route{
		newRoute(http.MethodPost, tokenPath, false, s.serveToken),
		newRoute(http.MethodPost, revokePath, false, s.serveRevoke),
	}
}

// authenticateBearer handles a request that carries a Bearer token: it
// reports handled and, when the token is refused, has answered 401.
func (s *Server) authenticateBearer(c *call) (handled, ok bool) {
	h := c.r.Header.Values("Authorization")
	if len(h) != 1 {
		return false, false
	}
	scheme, tok, _ := strings.Cut(h[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return false, false
	}
	detail := "The access token is not valid: request a new one from " + tokenPath + "."
	switch s.oauth.check(strings.TrimSpace(tok), c.now) {
	case tokenValid:
		return true, true
	case tokenExpired:
		detail = "The access token has expired: request a new one from " + tokenPath + "."
	case tokenRevoked:
		detail = "The access token has been revoked: request a new one from " + tokenPath + "."
	}
	c.unauthorized(detail, false)
	return true, false
}

// oauthForm reads the form body of an OAuth request.
func (c *call) oauthForm() (url.Values, *apiError) {
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, newAPIError(http.StatusBadRequest, codeInvalidRequest,
			"The request body must be a form (Content-Type: application/x-www-form-urlencoded).")
	}
	data, e := c.readBody()
	if e != nil {
		return nil, e
	}
	form, err := url.ParseQuery(string(data))
	if err != nil {
		return nil, newAPIError(http.StatusBadRequest, codeInvalidRequest, "The request body is not a valid form.")
	}
	return form, nil
}

// oauthFaults injects the configured faults into a token or revoke
// request, as serveAPI does for API routes: the rate limit first (an
// unauthenticated endpoint is metered before it checks anything), then
// 5xx answers. It reports whether it answered.
func (s *Server) oauthFaults(c *call) bool {
	h := c.w.Header()
	if d, on := s.faults.take(tokenEndpointBucket, c.now); on {
		setRateHeaders(h, d)
		if d.limited {
			c.fault = faultRateLimited
			h.Set("Retry-After", retryAfterSeconds(d.retryAfter))
			c.fail(newAPIError(http.StatusTooManyRequests, codeRateLimited,
				fmt.Sprintf("Too many requests to %s: the rate limit of %d requests is used up. Retry after the time in the Retry-After header.",
					c.r.URL.Path, d.limit)))
			return true
		}
	}
	return s.failInjected(c, s.faults.get())
}

// serveToken is POST /api/oauth/token.
func (s *Server) serveToken(c *call) {
	if s.oauthFaults(c) {
		return
	}
	c.w.Header().Set("Cache-Control", "no-store")
	// Metered before the credentials are checked, per IP and client ID as
	// sent, as an unauthenticated endpoint must be.
	host, _, _ := net.SplitHostPort(c.r.RemoteAddr)
	id, _, _ := c.r.BasicAuth()
	if ok, retryAfter := s.oauth.admit(host+" "+id, c.now); !ok {
		c.fault = faultRateLimited
		c.w.Header().Set("Retry-After", retryAfterSeconds(retryAfter))
		c.fail(newAPIError(http.StatusTooManyRequests, codeRateLimited,
			fmt.Sprintf("Resource %s is limited to %d requests every 1 minutes.", tokenPath, s.oauth.rateLimit)))
		return
	}
	if !s.oauth.clientOK(c.r) {
		c.fail(newAPIError(http.StatusUnauthorized, codeInvalidClient,
			"The client ID or secret is not valid: send the service account's client ID and secret as HTTP Basic credentials."))
		return
	}
	form, e := c.oauthForm()
	if e != nil {
		c.fail(e)
		return
	}
	if g := form.Get("grant_type"); g != "client_credentials" {
		c.fail(newAPIError(http.StatusBadRequest, codeUnsupportedGrantType,
			fmt.Sprintf("The grant type %q is not supported: use client_credentials.", printableParam(g)), printableParam(g)))
		return
	}
	tok := s.oauth.issue(c.now)
	if tok == "" {
		c.fail(newAPIError(http.StatusForbidden, codeTooManyTokens,
			fmt.Sprintf("The service account already holds %d live access tokens, the most it may hold. Revoke one at POST %s, or wait for one to expire.",
				s.oauth.maxLive, revokePath)))
		return
	}
	answer := struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}{tok, int64(s.oauth.lifetime / time.Second), "Bearer"}
	s.dropOrAnswer(c, func() { c.writeJSON(answer) })
}

// serveRevoke is POST /api/oauth/revoke. An unknown token is not an error
// (RFC 7009): the answer says nothing about which tokens exist.
func (s *Server) serveRevoke(c *call) {
	if s.oauthFaults(c) {
		return
	}
	if !s.oauth.clientOK(c.r) {
		c.fail(newAPIError(http.StatusUnauthorized, codeInvalidClient,
			"The client ID or secret is not valid: send the service account's client ID and secret as HTTP Basic credentials."))
		return
	}
	form, e := c.oauthForm()
	if e != nil {
		c.fail(e)
		return
	}
	tok := form.Get("token")
	if tok == "" {
		c.fail(newAPIError(http.StatusBadRequest, codeInvalidRequest, "The form has no token to revoke."))
		return
	}
	s.oauth.revoke(tok)
	s.dropOrAnswer(c, func() { c.writeJSON(struct{}{}) })
}

// dropOrAnswer answers with answer, unless the drop fault picks this
// request: then the work is done (a token issued, say) and the connection
// closed without an answer.
func (s *Server) dropOrAnswer(c *call, answer func()) {
	if !s.faults.roll(s.faults.get().DropRate) {
		answer()
		return
	}
	c.fault, c.dropped = faultDropped, true
	w := c.w
	discard := &discardWriter{header: http.Header{}}
	c.w = discard
	answer()
	c.droppedStatus = discard.status
	if c.droppedStatus == 0 {
		c.droppedStatus = http.StatusOK
	}
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		c.hijacked, c.hijackedConn = true, conn
	}
}

// printableParam cuts a client's value for an error message.
func printableParam(v string) string {
	if len(v) > 64 {
		v = v[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, v)
}

// RevokeAllTokens revokes every access token issued so far, as an admin
// revoking a leaked secret would, and returns how many were still valid.
func (s *Server) RevokeAllTokens() int {
	o := s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.liveLocked(s.now())
	for _, t := range o.tokens {
		if !t.revoked {
			t.revoked = true
			o.revoked++
		}
	}
	return n
}

// AccessTokens lists the access tokens issued so far, oldest first, for
// tests that search logs for them.
func (s *Server) AccessTokens() []string {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	return append([]string(nil), s.oauth.order...)
}
