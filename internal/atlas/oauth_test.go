// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

const (
	testClientID     = "mdb_sa_id_0123456789abcdef01234567"
	testClientSecret = "mdb_sa_sk_verysecretvalue0123456789abcdefghij"
	testJobID        = "6568a1b2c3d4e5f6000000b1"
)

// oauthServer is a token endpoint and an API that takes its tokens, on the
// test's clock. Its tokens carry their number ("tok-1-<random>"), so that
// a leak of one is easy to search for.
type oauthServer struct {
	t        *testing.T
	clock    *fakeClock
	lifetime int    // expires_in, seconds
	secret   string // the client secret accepted

	mu      sync.Mutex
	expiry  map[string]time.Time
	refused map[string]bool // tokens the API refuses (revoked)
	seq     int
	// script holds answers the token endpoint gives before issuing:
	// status, then headers as "Name: value".
	script [][]string
	// gate, when set, holds every token answer until it is closed;
	// onHeld runs as each token request starts waiting at it.
	gate   chan struct{}
	onHeld func()

	tokenReqs atomic.Int64
	apiReqs   atomic.Int64
	apiSeen   []string // Authorization values the API saw
}

func newOAuthServer(t *testing.T) (*oauthServer, *httptest.Server) {
	s := &oauthServer{t: t, clock: fakeclock.New(clockStart), lifetime: 3600, secret: testClientSecret,
		expiry: map[string]time.Time{}, refused: map[string]bool{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *oauthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == TokenPath {
		s.serveToken(w, r)
		return
	}
	s.apiReqs.Add(1)
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	s.mu.Lock()
	s.apiSeen = append(s.apiSeen, h)
	exp, known := s.expiry[tok]
	valid := ok && known && !s.refused[tok] && s.clock.Now().Before(exp)
	s.mu.Unlock()
	if !valid {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"detail":"The access token is invalid or has expired.","error":401,"errorCode":"INVALID_ACCESS_TOKEN","parameters":[],"reason":"Unauthorized"}`)
		return
	}
	fmt.Fprint(w, jobJSON)
}

func (s *oauthServer) serveToken(w http.ResponseWriter, r *http.Request) {
	s.tokenReqs.Add(1)
	id, secret, ok := r.BasicAuth()
	if r.Method != http.MethodPost || r.FormValue("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"detail":"Only the client_credentials grant is supported.","error":400,"errorCode":"INVALID_GRANT","parameters":[],"reason":"Bad Request"}`)
		return
	}
	s.mu.Lock()
	want := s.secret
	s.mu.Unlock()
	if !ok || id != testClientID || secret != want {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"detail":"Invalid client credentials.","error":401,"errorCode":"INVALID_CLIENT","parameters":[],"reason":"Unauthorized"}`)
		return
	}
	s.mu.Lock()
	if len(s.script) > 0 {
		step := s.script[0]
		s.script = s.script[1:]
		s.mu.Unlock()
		for _, hv := range step[1:] {
			k, v, _ := strings.Cut(hv, ": ")
			w.Header().Set(k, v)
		}
		var status int
		if _, err := fmt.Sscan(step[0], &status); err != nil {
			s.t.Errorf("bad script step %q", step)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"detail":"scripted","error":%d,"errorCode":"SCRIPTED","parameters":[],"reason":"x"}`, status)
		return
	}
	gate, onHeld := s.gate, s.onHeld
	s.mu.Unlock()
	if gate != nil {
		if onHeld != nil {
			onHeld()
		}
		<-gate
	}
	s.mu.Lock()
	s.seq++
	tok := fmt.Sprintf("tok-%d-%s", s.seq, strings.Repeat("z", 24))
	s.expiry[tok] = s.clock.Now().Add(time.Duration(s.lifetime) * time.Second)
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": s.lifetime, "token_type": "Bearer"})
}

func (s *oauthServer) token(n int) string {
	return fmt.Sprintf("tok-%d-%s", n, strings.Repeat("z", 24))
}

func (s *oauthServer) client(t *testing.T, url string, tweak ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL: url, ClientID: testClientID, ClientSecret: testClientSecret,
		Now: s.clock.Now, Sleep: s.clock.Sleep, Jitter: func() float64 { return 0 },
	}
	for _, f := range tweak {
		f(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fetchJob(c *Client) error {
	_, err := c.GetRestoreJob(context.Background(), testCluster, testJobID)
	return err
}

// One token serves every call until it is about to expire: one request per
// call once it is held, and the API sees the token as a Bearer.
func TestServiceAccount_oneTokenForManyCalls(t *testing.T) {
	s, srv := newOAuthServer(t)
	c := s.client(t, srv.URL)
	for i := 0; i < 10; i++ {
		if err := fetchJob(c); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.tokenReqs.Load(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	if n := s.apiReqs.Load(); n != 10 {
		t.Errorf("API requests = %d for 10 calls, want 10", n)
	}
	if got, want := s.apiSeen[9], "Bearer "+s.token(1); got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if c.TokenRequests() != 1 || c.DigestChallenges() != 0 || c.AuthMethod() != "service_account" {
		t.Errorf("TokenRequests %d, DigestChallenges %d, AuthMethod %q", c.TokenRequests(), c.DigestChallenges(), c.AuthMethod())
	}
}

// The token is renewed shortly before it expires, not after: a call made
// just before the renewal point still uses the first token, one just after
// gets a new one before it is sent.
func TestServiceAccount_renewsBeforeExpiry(t *testing.T) {
	s, srv := newOAuthServer(t)
	s.lifetime = 1200 // not the default, so that expires_in is seen to be read
	c := s.client(t, srv.URL)
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(15*time.Minute - time.Second) // five minutes before expiry, less a second
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	if n := s.tokenReqs.Load(); n != 1 {
		t.Fatalf("token requests before the renewal point = %d, want 1", n)
	}
	s.clock.Advance(2 * time.Second)
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	if n := s.tokenReqs.Load(); n != 2 {
		t.Errorf("token requests after the renewal point = %d, want 2", n)
	}
	if got := s.apiSeen[len(s.apiSeen)-1]; got != "Bearer "+s.token(2) {
		t.Errorf("the call after the renewal point sent %q, want the second token", got)
	}
	if n := s.apiReqs.Load(); n != 3 {
		t.Errorf("API requests = %d, want 3 (no refusal on the way)", n)
	}
}

// Many parallel calls on a client without a valid token cause one token
// request between them, cold and after expiry alike.
func TestServiceAccount_concurrentRenewal(t *testing.T) {
	const callers = 40
	s, srv := newOAuthServer(t)
	c := s.client(t, srv.URL)
	for round, advance := range []time.Duration{0, 2 * time.Hour} {
		s.clock.Advance(advance)
		gate := make(chan struct{})
		// Answer once every caller is either waiting for another's token
		// request or held in the token endpoint itself; a client that let
		// each caller ask would be answered too, and fail the count.
		var held atomic.Int64
		arrived := func() {
			if held.Add(1) == callers {
				close(gate)
			}
		}
		s.mu.Lock()
		s.gate, s.onHeld = gate, arrived
		s.mu.Unlock()
		c.bearer.waitHook = arrived
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for i := 0; i < callers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- fetchJob(c)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, want := s.tokenReqs.Load(), int64(round+1); n != want {
			t.Errorf("round %d: token requests = %d, want %d", round, n, want)
		}
		if n, want := s.apiReqs.Load(), int64((round+1)*callers); n != want {
			t.Errorf("round %d: API requests = %d, want %d", round, n, want)
		}
	}
}

// A token Atlas refuses (revoked, or expired early) is renewed once and the
// call sent again; if the new one is refused too, the call fails with the
// refusal. Parallel refusals of the same token share one renewal.
func TestServiceAccount_refusedTokenRenewedOnce(t *testing.T) {
	s, srv := newOAuthServer(t)
	c := s.client(t, srv.URL)
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	// The renewal is answered once all 8 calls were refused and wait for
	// it, so that each is seen to be sent twice.
	gate := make(chan struct{})
	var held atomic.Int64
	arrived := func() {
		if held.Add(1) == 8 {
			close(gate)
		}
	}
	c.bearer.waitHook = arrived
	s.mu.Lock()
	s.refused[s.token(1)] = true
	s.gate, s.onHeld = gate, arrived
	s.mu.Unlock()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fetchJob(c); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := s.tokenReqs.Load(); n != 2 {
		t.Errorf("token requests = %d, want 2 (one renewal for 8 refused calls)", n)
	}
	if n := s.apiReqs.Load(); n != 1+16 {
		t.Errorf("API requests = %d, want 17 (each refused call sent twice)", n)
	}

	// Every token refused: one renewal and one resend, then the error.
	c.bearer.waitHook = nil
	s.mu.Lock()
	s.gate = nil
	s.refused[s.token(2)], s.refused[s.token(3)] = true, true
	s.mu.Unlock()
	before := s.apiReqs.Load()
	err := fetchJob(c)
	var ref *AuthRefusal
	if !errors.As(err, &ref) || ref.Static || ref.Err.StatusCode != 401 || ref.Err.ErrorCode != "INVALID_ACCESS_TOKEN" {
		t.Fatalf("err = %v, want an AuthRefusal of a 401 INVALID_ACCESS_TOKEN", err)
	}
	if n := s.apiReqs.Load() - before; n != 2 {
		t.Errorf("API requests for a call refused twice = %d, want 2", n)
	}
	if n := s.tokenReqs.Load(); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
}

// A refused secret is not retried, and the error names the status and code
// but holds no secret.
func TestServiceAccount_wrongSecret(t *testing.T) {
	s, srv := newOAuthServer(t)
	c := s.client(t, srv.URL, func(cfg *Config) { cfg.ClientSecret = "mdb_sa_sk_wrongwrongwrong" })
	err := fetchJob(c)
	var te *TokenError
	if !errors.As(err, &te) || te.StatusCode != 401 || te.ErrorCode != "INVALID_CLIENT" {
		t.Fatalf("err = %v, want a TokenError with HTTP 401 INVALID_CLIENT", err)
	}
	if s.tokenReqs.Load() != 1 || s.apiReqs.Load() != 0 {
		t.Errorf("token requests %d, API requests %d; want 1 and 0", s.tokenReqs.Load(), s.apiReqs.Load())
	}
	if msg := err.Error(); strings.Contains(msg, "wrongwrong") || strings.Contains(msg, testClientSecret) {
		t.Errorf("the error holds the secret: %s", msg)
	}
	var ae *Error
	if errors.As(err, &ae) {
		t.Errorf("a token failure must not look like an API answer (it would be retried twice): %v", ae)
	}
}

// The token endpoint's rate limits and 5xx are retried like the API's,
// waiting at least Retry-After on the client's clock.
func TestServiceAccount_tokenEndpointRetried(t *testing.T) {
	s, srv := newOAuthServer(t)
	s.script = [][]string{{"429", "Retry-After: 7"}, {"503"}}
	c := s.client(t, srv.URL)
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	if n := s.tokenReqs.Load(); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
	sleeps := s.clock.Sleeps()
	if len(sleeps) != 2 || sleeps[0] < 7*time.Second {
		t.Errorf("waits = %v, want two, the first at least the 7s of Retry-After", sleeps)
	}
	if n := s.apiReqs.Load(); n != 1 {
		t.Errorf("API requests = %d, want 1", n)
	}

	// Retries are bounded by the policy.
	s2, srv2 := newOAuthServer(t)
	s2.script = [][]string{{"503"}, {"503"}, {"503"}}
	c2 := s2.client(t, srv2.URL, func(cfg *Config) { cfg.Retry = RetryPolicy{MaxAttempts: 2} })
	var te *TokenError
	if err := fetchJob(c2); !errors.As(err, &te) || te.StatusCode != 503 {
		t.Fatalf("err = %v, want a TokenError with HTTP 503", err)
	}
	if n := s2.tokenReqs.Load(); n != 2 {
		t.Errorf("token requests with MaxAttempts 2 = %d, want 2", n)
	}
}

// The wire log shows the token exchange and the API call with their
// Authorization redacted, and nothing of the secret, the token or the token
// endpoint's answers.
func TestServiceAccount_wireLogRedacted(t *testing.T) {
	s, srv := newOAuthServer(t)
	s.script = [][]string{{"503"}}
	var mu sync.Mutex
	var lines []string
	c := s.client(t, srv.URL, func(cfg *Config) {
		cfg.LogHTTP = func(_ context.Context, msg string, fields map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, fmt.Sprint(msg, fields))
		}
		cfg.Log = cfg.LogHTTP
	})
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{"url:" + srv.URL + TokenPath, "request_header_authorization:Basic [redacted]",
		"request_header_authorization:Bearer [redacted]", "status:503", "retrying atlas token request"} {
		if !strings.Contains(all, want) {
			t.Errorf("the log has no %q:\n%s", want, all)
		}
	}
	for _, secret := range []string{testClientSecret, s.token(1), "zzzzzzzz", "scripted"} {
		if strings.Contains(all, secret) {
			t.Errorf("the log holds %q:\n%s", secret, all)
		}
	}
}

// An access token from elsewhere is sent as it is; the client cannot renew
// it, so a refusal is the caller's error at once.
func TestAccessToken_sentAndNotRenewed(t *testing.T) {
	s, srv := newOAuthServer(t)
	s.mu.Lock()
	s.expiry["given-token"] = clockStart.Add(time.Hour)
	s.mu.Unlock()
	c, err := New(Config{BaseURL: srv.URL, AccessToken: "given-token", Now: s.clock.Now, Sleep: s.clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Hour)
	err = fetchJob(c)
	var ref *AuthRefusal
	if !errors.As(err, &ref) || !ref.Static {
		t.Fatalf("err = %v, want a static AuthRefusal", err)
	}
	if s.tokenReqs.Load() != 0 || s.apiReqs.Load() != 2 || c.AuthMethod() != "access_token" {
		t.Errorf("token requests %d, API requests %d, method %q; want 0, 2, access_token",
			s.tokenReqs.Load(), s.apiReqs.Load(), c.AuthMethod())
	}
}

// New accepts exactly one complete way to authenticate.
func TestNew_oneWayToAuthenticate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"keys", Config{PublicKey: "p", PrivateKey: "k"}, ""},
		{"service account", Config{ClientID: "i", ClientSecret: "s"}, ""},
		{"access token", Config{AccessToken: "t"}, ""},
		{"nothing", Config{}, "PublicKey and PrivateKey go together"},
		{"half a key", Config{PublicKey: "p"}, "PublicKey and PrivateKey go together"},
		{"id without secret", Config{ClientID: "i"}, "ClientID and ClientSecret go together"},
		{"secret without id", Config{ClientSecret: "s"}, "ClientID and ClientSecret go together"},
		{"keys and service account", Config{PublicKey: "p", PrivateKey: "k", ClientID: "i", ClientSecret: "s"}, "more than one way"},
		{"service account and token", Config{ClientID: "i", ClientSecret: "s", AccessToken: "t"}, "more than one way"},
		{"half a key and a token", Config{PublicKey: "p", AccessToken: "t"}, "more than one way"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.BaseURL = DefaultBaseURL
			_, err := New(tc.cfg)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("New: %v, want an error with %q", err, tc.err)
			}
		})
	}
}

// A refused token whose renewal is refused too (the secret was deleted
// meanwhile) fails with the token endpoint's refusal, which says more than
// the API's 401.
func TestServiceAccount_refusedTokenAndSecret(t *testing.T) {
	s, srv := newOAuthServer(t)
	c := s.client(t, srv.URL)
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.refused[s.token(1)], s.secret = true, "rotated"
	s.mu.Unlock()
	err := fetchJob(c)
	var te *TokenError
	if !errors.As(err, &te) || te.StatusCode != 401 || te.ErrorCode != "INVALID_CLIENT" {
		t.Fatalf("err = %v, want the token endpoint's 401 INVALID_CLIENT", err)
	}
	if s.apiReqs.Load() != 2 || s.tokenReqs.Load() != 2 {
		t.Errorf("API requests %d, token requests %d; want 2 and 2", s.apiReqs.Load(), s.tokenReqs.Load())
	}
}

// A renewal that fails while the current token is still valid does not
// fail the call: the current token is used until it expires.
func TestServiceAccount_failedEarlyRenewalKeepsToken(t *testing.T) {
	s, srv := newOAuthServer(t)
	c := s.client(t, srv.URL, func(cfg *Config) { cfg.Retry = RetryPolicy{MaxAttempts: 2} })
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.script = [][]string{{"503"}, {"503"}, {"503"}, {"503"}}
	s.mu.Unlock()
	s.clock.Advance(58 * time.Minute) // inside the renewal window
	if err := fetchJob(c); err != nil {
		t.Fatalf("a failed early renewal failed the call: %v", err)
	}
	if got := s.apiSeen[len(s.apiSeen)-1]; got != "Bearer "+s.token(1) {
		t.Errorf("sent %q, want the first token still", got)
	}
	s.clock.Advance(2 * time.Minute) // now expired: the failure is the call's
	var te *TokenError
	if err := fetchJob(c); !errors.As(err, &te) || te.StatusCode != 503 {
		t.Fatalf("err = %v, want the token endpoint's 503 once the token has expired", err)
	}
}
