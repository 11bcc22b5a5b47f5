// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

const formType = "application/x-www-form-urlencoded"

// requestToken asks the token endpoint with the default service account.
func (e *simEnv) requestToken(form, authorization string) (*http.Response, []byte) {
	e.t.Helper()
	return send(e.t, e.srv.Client(), http.MethodPost, e.srv.URL+tokenPath, form, authorization, "Content-Type", formType)
}

// token gets a token, failing the test otherwise.
func (e *simEnv) token() string {
	e.t.Helper()
	resp, data := e.requestToken("grant_type=client_credentials", basicAuth(DefaultClientID, DefaultClientSecret))
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("token: status %d: %s", resp.StatusCode, data)
	}
	var ans struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   *int64 `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(data, &ans); err != nil {
		e.t.Fatalf("token answer %s: %v", data, err)
	}
	if ans.AccessToken == "" || ans.TokenType != "Bearer" || ans.ExpiresIn == nil {
		e.t.Fatalf("token answer %s lacks access_token, token_type Bearer or expires_in", data)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		e.t.Errorf("Cache-Control %q, want no-store", cc)
	}
	return ans.AccessToken
}

func (e *simEnv) withBearer(tok string) (*http.Response, []byte) {
	e.t.Helper()
	return send(e.t, e.srv.Client(), http.MethodGet, e.srv.URL+tenantBase+"/snapshots", "", "Bearer "+tok)
}

// A token from the grant opens the API paths until it expires or is
// revoked; then they answer 401 with an Atlas body that says which.
func TestOAuth_tokenLifecycle(t *testing.T) {
	env := newSimEnv(t, Config{TokenLifetime: 10 * time.Minute})
	resp, data := env.requestToken("grant_type=client_credentials", basicAuth(DefaultClientID, DefaultClientSecret))
	var ans map[string]any
	_ = json.Unmarshal(data, &ans)
	if resp.StatusCode != 200 || ans["expires_in"] != float64(600) {
		t.Fatalf("status %d, answer %s; want 200 with expires_in 600", resp.StatusCode, data)
	}
	tok := ans["access_token"].(string)
	if resp, data := env.withBearer(tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("API with a fresh token: %d %s", resp.StatusCode, data)
	}
	env.clock.Advance(10*time.Minute - time.Second)
	if resp, _ := env.withBearer(tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("API a second before expiry: %d", resp.StatusCode)
	}
	env.clock.Advance(time.Second)
	resp, data = env.withBearer(tok)
	m := apiErrorBody(t, resp, data, http.StatusUnauthorized, codeUserUnauthorized)
	if d := m["detail"].(string); !strings.Contains(d, "expired") {
		t.Errorf("detail %q does not say the token expired", d)
	}

	tok2 := env.token()
	resp, data = send(t, env.srv.Client(), http.MethodPost, env.srv.URL+revokePath,
		"token="+url.QueryEscape(tok2)+"&token_type_hint=access_token", basicAuth(DefaultClientID, DefaultClientSecret), "Content-Type", formType)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, data)
	}
	resp, data = env.withBearer(tok2)
	m = apiErrorBody(t, resp, data, http.StatusUnauthorized, codeUserUnauthorized)
	if d := m["detail"].(string); !strings.Contains(d, "revoked") {
		t.Errorf("detail %q does not say the token was revoked", d)
	}
	resp, data = env.withBearer("sim_at_madeup")
	apiErrorBody(t, resp, data, http.StatusUnauthorized, codeUserUnauthorized)

	tok3 := env.token()
	if n := env.sim.RevokeAllTokens(); n != 1 {
		t.Errorf("RevokeAllTokens = %d, want 1 still valid", n)
	}
	if resp, _ := env.withBearer(tok3); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token revoked by RevokeAllTokens answers %d", resp.StatusCode)
	}
	if got := env.sim.AccessTokens(); len(got) != 3 || got[0] != tok || got[2] != tok3 {
		t.Errorf("AccessTokens = %d tokens, want the 3 issued in order", len(got))
	}
	st := env.sim.Stats()
	if st.TokenRequests != 3 || st.Routes["POST "+tokenPath]["200"] != 3 {
		t.Errorf("stats: tokenRequests %d, routes %v; want 3", st.TokenRequests, st.Routes["POST "+tokenPath])
	}
}

// The token endpoint refuses what Atlas would, each with an Atlas error
// body, and issues nothing.
func TestOAuth_tokenRefusals(t *testing.T) {
	env := newSimEnv(t, Config{ClientID: "mdb_sa_id_x", ClientSecret: "right"})
	for _, tc := range []struct {
		name, form, auth, contentType string
		status                        int
		code                          string
	}{
		{"wrong secret", "grant_type=client_credentials", basicAuth("mdb_sa_id_x", "wrong"), formType, 401, codeInvalidClient},
		{"wrong id", "grant_type=client_credentials", basicAuth("mdb_sa_id_y", "right"), formType, 401, codeInvalidClient},
		{"default account not accepted when another is configured", "grant_type=client_credentials", basicAuth(DefaultClientID, DefaultClientSecret), formType, 401, codeInvalidClient},
		{"no credentials", "grant_type=client_credentials", "", formType, 401, codeInvalidClient},
		{"digest instead of basic", "grant_type=client_credentials", `Digest username="mdb_sa_id_x"`, formType, 401, codeInvalidClient},
		{"password grant", "grant_type=password", basicAuth("mdb_sa_id_x", "right"), formType, 400, codeUnsupportedGrantType},
		{"no grant", "scope=x", basicAuth("mdb_sa_id_x", "right"), formType, 400, codeUnsupportedGrantType},
		{"JSON body", `{"grant_type":"client_credentials"}`, basicAuth("mdb_sa_id_x", "right"), "application/json", 400, codeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := send(t, env.srv.Client(), http.MethodPost, env.srv.URL+tokenPath, tc.form, tc.auth, "Content-Type", tc.contentType)
			m := apiErrorBody(t, resp, data, tc.status, tc.code)
			if strings.Contains(string(data), "right") || strings.Contains(string(data), "wrong") {
				t.Errorf("the answer repeats a secret: %s", data)
			}
			_ = m
		})
	}
	if n := len(env.sim.AccessTokens()); n != 0 {
		t.Errorf("%d tokens issued by refused requests", n)
	}
	// The right one, form-encoded as RFC 6749 asks (unchanged here), works.
	resp, data := env.requestToken("grant_type=client_credentials", basicAuth("mdb_sa_id_x", "right"))
	if resp.StatusCode != 200 {
		t.Fatalf("right credentials: %d %s", resp.StatusCode, data)
	}
	// Revocation needs the account too.
	resp, data = send(t, env.srv.Client(), http.MethodPost, env.srv.URL+revokePath, "token=abc", basicAuth("mdb_sa_id_x", "wrong"), "Content-Type", formType)
	apiErrorBody(t, resp, data, 401, codeInvalidClient)
}

// API keys keep working beside the service account.
func TestOAuth_keysStillAccepted(t *testing.T) {
	env := newSimEnv(t, Config{})
	tok := env.token()
	if resp, _ := env.withBearer(tok); resp.StatusCode != 200 {
		t.Fatalf("bearer: %d", resp.StatusCode)
	}
	if resp, data := env.client().do(http.MethodGet, tenantBase+"/snapshots", ""); resp.StatusCode != 200 {
		t.Fatalf("digest beside a service account: %d %s", resp.StatusCode, data)
	}
}

// Injected faults reach the token endpoint: its own rate-limit bucket,
// 5xx answers, dropped connections (after which the token exists).
func TestOAuth_faultsReachTokenEndpoint(t *testing.T) {
	good := basicAuth(DefaultClientID, DefaultClientSecret)
	t.Run("rate limit", func(t *testing.T) {
		env := newSimEnv(t, Config{Faults: Faults{RateLimitCapacity: 2, RateLimitPeriod: time.Minute}})
		env.token()
		env.token()
		resp, data := env.requestToken("grant_type=client_credentials", good)
		apiErrorBody(t, resp, data, http.StatusTooManyRequests, codeRateLimited)
		if ra := resp.Header.Get("Retry-After"); ra != "60" {
			t.Errorf("Retry-After %q, want 60", ra)
		}
		// The API's buckets are the projects', apart from the endpoint's.
		if resp, _ := env.client().do(http.MethodGet, tenantBase+"/snapshots", ""); resp.StatusCode != 200 {
			t.Errorf("API after the token endpoint's limit: %d", resp.StatusCode)
		}
		env.clock.Advance(time.Minute)
		env.token()
		if st := env.sim.Stats(); st.Faults.RateLimited != 1 || st.TokenRequests != 4 {
			t.Errorf("stats: rateLimited %d, tokenRequests %d; want 1, 4", st.Faults.RateLimited, st.TokenRequests)
		}
	})
	t.Run("5xx", func(t *testing.T) {
		env := newSimEnv(t, Config{Faults: Faults{ErrorRate: 1, ErrorRetryAfter: 3 * time.Second}})
		resp, data := env.requestToken("grant_type=client_credentials", good)
		apiErrorBody(t, resp, data, http.StatusServiceUnavailable, codeServiceUnavailable)
		if resp.Header.Get("Retry-After") != "3" || len(env.sim.AccessTokens()) != 0 {
			t.Errorf("Retry-After %q, tokens %d; want 3 and none", resp.Header.Get("Retry-After"), len(env.sim.AccessTokens()))
		}
	})
	t.Run("drop", func(t *testing.T) {
		env := newSimEnv(t, Config{Faults: Faults{DropRate: 1}})
		req, _ := http.NewRequest(http.MethodPost, env.srv.URL+tokenPath, strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", formType)
		req.Header.Set("Authorization", good)
		if resp, err := env.srv.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("a dropped token request got an answer: %d", resp.StatusCode)
		}
		st := env.sim.Stats()
		if st.Faults.Dropped != 1 || st.Routes["POST "+tokenPath]["200"] != 1 || len(env.sim.AccessTokens()) != 1 {
			t.Errorf("stats %+v, tokens %d; want one dropped 200 and its token issued", st, len(env.sim.AccessTokens()))
		}
	})
}

// A wrong method on an OAuth endpoint is a 405 naming POST, not a digest
// challenge: those endpoints take no API credentials.
func TestOAuth_wrongMethod(t *testing.T) {
	env := newSimEnv(t, Config{})
	for _, p := range []string{tokenPath, revokePath} {
		resp, data := env.plain(http.MethodGet, p, "")
		apiErrorBody(t, resp, data, http.StatusMethodNotAllowed, codeMethodNotAllowed)
		if resp.Header.Get("Allow") != http.MethodPost || resp.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("GET %s: Allow %q, WWW-Authenticate %q; want POST and none", p, resp.Header.Get("Allow"), resp.Header.Get("WWW-Authenticate"))
		}
	}
}

func TestOAuth_configChecked(t *testing.T) {
	if _, err := New(Config{TokenLifetime: time.Millisecond}); err == nil {
		t.Error("a token lifetime under a second was accepted")
	}
}
