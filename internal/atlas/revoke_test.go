// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// revokeServer is an oauthServer that also takes revocations: it records
// each revoked token and stops accepting it.
type revokeServer struct {
	*oauthServer
	status int // answer to a revocation; 0 means 200

	mu      sync.Mutex
	revoked []string
}

func newRevokeServer(t *testing.T) (*revokeServer, *httptest.Server) {
	s, _ := newOAuthServer(t)
	rs := &revokeServer{oauthServer: s}
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	return rs, srv
}

func (s *revokeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != RevokePath {
		s.oauthServer.ServeHTTP(w, r)
		return
	}
	id, secret, ok := r.BasicAuth()
	if r.Method != http.MethodPost || !ok || id != testClientID || secret != testClientSecret ||
		r.PostFormValue("token_type_hint") != "access_token" {
		s.t.Errorf("revocation %s with Basic %v %q, hint %q: not as Atlas takes it", r.Method, ok, id, r.PostFormValue("token_type_hint"))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if s.status != 0 {
		w.WriteHeader(s.status)
		return
	}
	tok := r.PostFormValue("token")
	s.mu.Lock()
	s.revoked = append(s.revoked, tok)
	s.mu.Unlock()
	s.oauthServer.mu.Lock()
	s.oauthServer.refused[tok] = true
	s.oauthServer.mu.Unlock()
}

func revokeOf(c ...*Client) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return revokeTokens(ctx, func(x *Client) bool { return slices.Contains(c, x) })
}

// Every live token a client took is revoked, with the client's Basic
// credentials and the access-token hint, once; an expired one is not
// sent.
func TestRevokeTokens_revokesWhatTheProcessTook(t *testing.T) {
	s, srv := newRevokeServer(t)
	s.lifetime = 600
	c := s.client(t, srv.URL)
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(8 * time.Minute) // past the renewal point of tok-1
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	expired := s.client(t, srv.URL)
	if err := fetchJob(expired); err != nil {
		t.Fatal(err)
	}
	if n := revokeOf(c); n != 2 {
		t.Errorf("revoked %d tokens, want 2", n)
	}
	if want := []string{s.token(1), s.token(2)}; !sameSet(s.revoked, want) {
		t.Errorf("revoked %q, want %q", s.revoked, want)
	}
	if n := revokeOf(c); n != 0 || len(s.revoked) != 2 {
		t.Errorf("a second call revoked %d more (%d in all), want none", n, len(s.revoked))
	}

	s.clock.Advance(time.Hour)
	if n := revokeOf(expired); n != 0 || len(s.revoked) != 2 {
		t.Errorf("an expired token was sent for revocation (%d revoked)", len(s.revoked))
	}
}

// A token given as access_token is the user's: it is never revoked.
func TestRevokeTokens_neverTheUsersAccessToken(t *testing.T) {
	s, srv := newRevokeServer(t)
	s.expiry["user-token"] = s.clock.Now().Add(time.Hour)
	c := s.client(t, srv.URL, func(cfg *Config) { cfg.ClientID, cfg.ClientSecret, cfg.AccessToken = "", "", "user-token" })
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	if n := revokeOf(c); n != 0 || len(s.revoked) != 0 {
		t.Errorf("revoked %q, want nothing", s.revoked)
	}
}

// A failed revocation is logged without the token and otherwise ignored.
func TestRevokeTokens_failureLoggedAndIgnored(t *testing.T) {
	s, srv := newRevokeServer(t)
	s.status = http.StatusInternalServerError
	var mu sync.Mutex
	var logged []string
	c := s.client(t, srv.URL, func(cfg *Config) {
		cfg.Log = func(_ context.Context, msg string, fields map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			logged = append(logged, msg+" "+fmtFields(fields))
		}
	})
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	if n := revokeOf(c); n != 0 {
		t.Errorf("revoked %d, want 0", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 1 {
		t.Fatalf("logged %q, want one line", logged)
	}
	if containsAny(logged[0], s.token(1), testClientSecret) {
		t.Errorf("the log line holds a secret: %s", logged[0])
	}
}

func fmtFields(fields map[string]any) string { return fmt.Sprint(fields) }

func containsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}
