// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TokenRateLimit meters token requests per client in a fixed minute, with
// Atlas's words, and counts refusals as rate limiting.
func TestTokenRateLimit(t *testing.T) {
	env := newSimEnv(t, Config{TokenRateLimit: 2})
	good := basicAuth(DefaultClientID, DefaultClientSecret)
	other := basicAuth("mdb_sa_id_other", "x")
	steps := []struct {
		advance    time.Duration
		auth       string
		status     int
		retryAfter string
	}{
		{0, good, 200, ""},
		{10 * time.Second, good, 200, ""},
		{0, good, 429, "50"},
		{0, other, 401, ""}, // another client has its own minute
		{40 * time.Second, good, 429, "10"},
		{10 * time.Second, good, 200, ""}, // a new minute
	}
	for i, st := range steps {
		env.clock.Advance(st.advance)
		resp, data := env.requestToken("grant_type=client_credentials", st.auth)
		if resp.StatusCode != st.status || resp.Header.Get("Retry-After") != st.retryAfter {
			t.Fatalf("step %d: status %d, Retry-After %q; want %d, %q: %s", i, resp.StatusCode, resp.Header.Get("Retry-After"), st.status, st.retryAfter, data)
		}
		if st.status == 429 {
			m := apiErrorBody(t, resp, data, 429, codeRateLimited)
			if m["detail"] != "Resource /api/oauth/token is limited to 2 requests every 1 minutes." {
				t.Errorf("detail %q, want Atlas's text", m["detail"])
			}
		}
	}
	if st := env.sim.Stats(); st.Faults.RateLimited != 2 || st.TokenRequests != 6 {
		t.Errorf("stats: rateLimited %d, tokenRequests %d; want 2, 6", st.Faults.RateLimited, st.TokenRequests)
	}
}

// MaxLiveTokens refuses a token past the limit with a 403 until one is
// revoked or expires; /__sim/stats shows live and revoked tokens, and a
// revoked token no longer opens the API.
func TestMaxLiveTokensAndRevocation(t *testing.T) {
	env := newSimEnv(t, Config{MaxLiveTokens: 2, TokenLifetime: 10 * time.Minute})
	good := basicAuth(DefaultClientID, DefaultClientSecret)
	revoke := func(tok string) {
		t.Helper()
		resp, data := send(t, env.srv.Client(), http.MethodPost, env.srv.URL+revokePath,
			"token="+url.QueryEscape(tok)+"&token_type_hint=access_token", good, "Content-Type", formType)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", resp.StatusCode, data)
		}
	}
	counts := func() (live, revoked float64) {
		t.Helper()
		resp, data := env.plain(http.MethodGet, statsPath, "")
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil || resp.StatusCode != 200 {
			t.Fatalf("stats: %d %s", resp.StatusCode, data)
		}
		return m["liveTokens"].(float64), m["revokedTokens"].(float64)
	}

	first := env.token()
	env.token()
	resp, data := env.requestToken("grant_type=client_credentials", good)
	apiErrorBody(t, resp, data, http.StatusForbidden, codeTooManyTokens)
	if n := len(env.sim.AccessTokens()); n != 2 {
		t.Errorf("%d tokens issued, want 2: the refused request issues none", n)
	}
	if live, revoked := counts(); live != 2 || revoked != 0 {
		t.Errorf("liveTokens %v, revokedTokens %v; want 2, 0", live, revoked)
	}

	revoke(first)
	revoke(first)         // again: not counted twice
	revoke("sim_at_nope") // unknown: 200, not counted
	if resp, _ := env.withBearer(first); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a revoked token opens the API: %d", resp.StatusCode)
	}
	env.token()
	if live, revoked := counts(); live != 2 || revoked != 1 {
		t.Errorf("after a revocation: liveTokens %v, revokedTokens %v; want 2, 1", live, revoked)
	}

	env.clock.Advance(10 * time.Minute) // second and third expire: not live
	if live, _ := counts(); live != 0 {
		t.Errorf("liveTokens %v after expiry, want 0", live)
	}
	env.token()
	if n := env.sim.RevokeAllTokens(); n != 1 {
		t.Errorf("RevokeAllTokens = %d, want the 1 live token", n)
	}
	if live, revoked := counts(); live != 0 || revoked != 4 {
		t.Errorf("after RevokeAllTokens: liveTokens %v, revokedTokens %v; want 0, 4", live, revoked)
	}
}

func TestTokenLimitsChecked(t *testing.T) {
	for _, cfg := range []Config{{TokenRateLimit: -1}, {MaxLiveTokens: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a negative limit", cfg)
		}
	}
}
