// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// unsetAllAtlasEnv is unsetAtlasEnv for the service-account variables too.
func unsetAllAtlasEnv(t *testing.T) {
	unsetAtlasEnv(t)
	for _, names := range [][]string{envClientID, envClientSecret, envAccessToken} {
		for _, n := range names {
			t.Setenv(n, "")
		}
	}
}

// saProviderBlock configures the provider with the simulator's service
// account and the given secret.
func (e *testEnv) saProviderBlock(secret string) string {
	return fmt.Sprintf(`
provider "atlas" {
  base_url      = %q
  client_id     = %q
  client_secret = %q
}
`, e.url, atlassim.DefaultClientID, secret)
}

// saTenantConfig is tenantConfig with a service account for the keys.
func (e *testEnv) saTenantConfig(secret, extra string) string {
	return e.saProviderBlock(secret) + tenantResource(atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, extra)
}

// apiStatuses sums the simulator's answers with status on the API routes
// (the OAuth endpoints left out).
func (e *testEnv) apiStatuses(status string) int64 {
	var n int64
	for route, byStatus := range e.sim.Stats().Routes {
		if !strings.Contains(route, "/api/oauth/") {
			n += byStatus[status]
		}
	}
	return n
}

func importTenantID(s *terraform.State) (string, error) {
	rs := s.RootModule().Resources[tenantAddr]
	return fmt.Sprintf("%s/%s/%s", rs.Primary.Attributes["project_id"],
		rs.Primary.Attributes["cluster_name"], rs.Primary.ID), nil
}

// Create, refresh and import with a service account: every API request
// carries a Bearer token from the token endpoint, none a digest.
func TestAccServiceAccount_createRefreshImport(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute})
	cfg := env.saTenantConfig(atlassim.DefaultClientSecret, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("status", knownvalue.StringExact("COMPLETED")),
					stateValue("snapshot_url", knownvalue.NotNull()),
				},
			},
			{RefreshState: true},
			{
				ResourceName:      tenantAddr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: importTenantID,
			},
			{Config: cfg, PlanOnly: true},
		},
	})
	st := env.sim.Stats()
	if st.TokenRequests == 0 || st.DigestChallenges != 0 || env.apiStatuses("401") != 0 {
		t.Errorf("stats: %d token requests, %d digest challenges, %d API 401s; want some, none, none",
			st.TokenRequests, st.DigestChallenges, env.apiStatuses("401"))
	}
	if n := len(env.sim.Jobs()); n != 1 {
		t.Errorf("simulator holds %d jobs, want 1", n)
	}
}

// A wait longer than a token's life (two and a half hours against one)
// renews the token on the way, on the test's clock, before Atlas would
// refuse it: no API request meets an expired token.
func TestAccServiceAccount_tokenExpiresDuringLongWait(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: 150 * time.Minute})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.saTenantConfig(atlassim.DefaultClientSecret, "  timeouts {\n    create = \"4h\"\n  }"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("status", knownvalue.StringExact("COMPLETED")),
			},
		}},
	})
	if elapsed := env.clock.Now().Sub(testStart); elapsed < 150*time.Minute {
		t.Fatalf("the wait took %v of the test clock, want at least 150m", elapsed)
	}
	// One token per hour of the wait at least, and not one per poll.
	if n := env.sim.Stats().TokenRequests; n < 3 || n > 8 {
		t.Errorf("%d token requests during a 150-minute wait, want 3 to 8", n)
	}
	if n := env.apiStatuses("401"); n != 0 {
		t.Errorf("%d API requests met an expired token", n)
	}
}

// A token revoked while the provider holds it is refused once, renewed,
// and the call repeated: the apply succeeds.
func TestAccServiceAccount_revokedTokenRenewed(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: 10 * time.Minute})
	var polls, revoked atomic.Int64
	env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/restores/") && polls.Add(1) == 2 {
			revoked.Add(int64(env.sim.RevokeAllTokens()))
		}
		return false
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.saTenantConfig(atlassim.DefaultClientSecret, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("status", knownvalue.StringExact("COMPLETED")),
			},
		}},
	})
	if revoked.Load() == 0 {
		t.Fatal("no token was revoked: the test proved nothing")
	}
	if n := env.apiStatuses("401"); n != 1 {
		t.Errorf("%d API 401s, want exactly the one refusal of the revoked token", n)
	}
}

// An access token given to the provider is used as it is; once revoked,
// the error says the provider cannot renew it and what to do.
func TestAccAccessToken_usedAndRefusedWhenRevoked(t *testing.T) {
	unsetAllAtlasEnv(t)
	env := newTestEnv(t, atlassim.Config{})
	tok := env.fetchToken(t)
	block := fmt.Sprintf(`
provider "atlas" {
  base_url     = %q
  access_token = %q
}
`, env.url, tok)
	cfg := block + defaultTenantResource
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig:    func() { env.sim.RevokeAllTokens() },
				RefreshState: true,
				ExpectError:  wrapped(`(?s)Atlas Rejected the Access Token.*HTTP 401 USER_UNAUTHORIZED.*revoked.*cannot renew.*client_id`),
			},
		},
	})
	if n := env.sim.Stats().TokenRequests; n != 1 {
		t.Errorf("%d token requests, want only the test's own", n)
	}
}

// fetchToken gets an access token from the simulator as a pipeline would.
func (e *testEnv) fetchToken(t *testing.T) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(atlassim.DefaultClientID, atlassim.DefaultClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || ans.AccessToken == "" {
		t.Fatalf("token answer: status %d, %v", resp.StatusCode, err)
	}
	return ans.AccessToken
}

// A wrong secret is refused by the token endpoint, and the error says so
// without the secret, and without trying again and again.
func TestAccServiceAccount_wrongSecret(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.saTenantConfig("mdb_sa_sk_this-is-not-the-secret", ""),
			ExpectError: wrapped(`(?s)Atlas Rejected the Service Account.*token endpoint \(/api/oauth/token\).*HTTP 401 INVALID_CLIENT.*Check client_id and client_secret`),
		}},
	})
	st := env.sim.Stats()
	if st.TokenRequests != 1 || st.TotalRequests != 1 {
		t.Errorf("%d token requests of %d requests, want the one token request only", st.TokenRequests, st.TotalRequests)
	}
}

// Two ways at once, or half a service account, is an error that names
// both ways, at the first call; the arguments of the block win over the
// environment's other way.
func TestAccServiceAccount_credentialMistakes(t *testing.T) {
	unsetAllAtlasEnv(t)
	env := newTestEnv(t, atlassim.Config{})
	resourceBlock := defaultTenantResource
	both := fmt.Sprintf(`
provider "atlas" {
  base_url      = %q
  public_key    = %q
  private_key   = %q
  client_id     = %q
  client_secret = %q
}
`, env.url, atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey, atlassim.DefaultClientID, atlassim.DefaultClientSecret)
	half := fmt.Sprintf(`
provider "atlas" {
  base_url  = %q
  client_id = %q
}
`, env.url, atlassim.DefaultClientID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: both + resourceBlock,
				ExpectError: wrapped(`(?s)Conflicting Atlas Credentials.*an API key and a service account.*public_key, private_key, ` +
					`client_id, client_secret.*MONGODB_ATLAS_PUBLIC_KEY.*MONGODB_ATLAS_CLIENT_ID.*precedence`),
			},
			{
				Config:      half + resourceBlock,
				ExpectError: wrapped(`(?s)Incomplete Atlas Service Account.*client_id \(from the provider block\) but not its client_secret \(MONGODB_ATLAS_CLIENT_SECRET\).*an API key \(public_key and private_key`),
			},
			{
				// The environment's service account is complete, yet the
				// block's keys are what is used, alone.
				PreConfig: func() {
					t.Setenv("MONGODB_ATLAS_CLIENT_ID", atlassim.DefaultClientID)
					t.Setenv("MONGODB_ATLAS_CLIENT_SECRET", "mdb_sa_sk_wrong")
				},
				Config: env.providerBlock() + resourceBlock,
			},
			{
				PreConfig: func() {
					t.Setenv("MONGODB_ATLAS_PUBLIC_KEY", atlassim.DefaultPublicKey)
					t.Setenv("MONGODB_ATLAS_PRIVATE_KEY", atlassim.DefaultPrivateKey)
				},
				Config: fmt.Sprintf("provider \"atlas\" {\n  base_url = %q\n}\n", env.url) + resourceBlock,
				ExpectError: wrapped(`(?s)Conflicting Atlas Credentials.*an API key and a service account.*the environment sets ` +
					`MONGODB_ATLAS_PUBLIC_KEY, MONGODB_ATLAS_PRIVATE_KEY, MONGODB_ATLAS_CLIENT_ID, MONGODB_ATLAS_CLIENT_SECRET`),
			},
		},
	})
	if n := env.sim.Stats().TokenRequests; n != 0 {
		t.Errorf("%d token requests: the block's keys should have been used, and nothing else asked", n)
	}
}

// The environment alone configures the service account, base URL
// included: the provider block is empty.
func TestAccServiceAccount_envOnly(t *testing.T) {
	unsetAllAtlasEnv(t)
	env := newTestEnv(t, atlassim.Config{})
	t.Setenv("MONGODB_ATLAS_BASE_URL", env.url)
	t.Setenv("MONGODB_ATLAS_CLIENT_ID", atlassim.DefaultClientID)
	t.Setenv("MONGODB_ATLAS_CLIENT_SECRET", atlassim.DefaultClientSecret)
	cfg := "provider \"atlas\" {}\n" + defaultTenantResource
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:            cfg,
			ConfigStateChecks: []statecheck.StateCheck{stateValue("status", knownvalue.StringExact("COMPLETED"))},
		}},
	})
	if st := env.sim.Stats(); st.TokenRequests == 0 || st.DigestChallenges != 0 {
		t.Errorf("stats: %d token requests, %d digest challenges; want a service account's", st.TokenRequests, st.DigestChallenges)
	}
}

// The TRACE log of a service account's lifecycle holds neither the client
// secret, nor its Basic encoding, nor any access token the simulator
// issued, nor a link token.
func TestAccSecrets_serviceAccountNeverLogged(t *testing.T) {
	logDir := t.TempDir()
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG", "TRACE")
	t.Setenv("TF_LOG_PROVIDER_ATLAS_HTTP", "TRACE")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
	unsetAllAtlasEnv(t)

	env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute, TokenLifetime: 20 * time.Minute})
	var polls atomic.Int64
	env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/restores/") && polls.Add(1) == 1 {
			env.sim.RevokeAllTokens() // a refusal and a renewal in the log too
		}
		return false
	})
	cfg := env.saTenantConfig(atlassim.DefaultClientSecret, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{RefreshState: true},
			{ResourceName: tenantAddr, ImportState: true, ImportStateVerify: true, ImportStateIdFunc: importTenantID},
			{
				PreConfig: func() { env.clock.Advance(4*time.Hour + time.Minute) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
			},
			{
				// A wrong secret: the refusal's diagnostic is logged too.
				Config:      env.saTenantConfig("mdb_sa_sk_wrong-secret-for-the-log", ""),
				PlanOnly:    true,
				ExpectError: wrapped(`Atlas Rejected the Service Account`),
			},
		},
	})

	data, err := os.ReadFile(filepath.Join(logDir, t.Name()+".log"))
	if err != nil {
		t.Fatal(err)
	}
	log := withoutHarnessConfig(t, string(data))
	lines := strings.Split(log, "\n")
	for _, want := range [][]string{
		{".atlas_http: Atlas HTTP exchange:", "method=POST", "/api/oauth/token", "status=200", `request_header_authorization="Basic [redacted]"`},
		{".atlas_http: Atlas HTTP exchange:", "/api/oauth/token", "status=401"},
		{".atlas_http: Atlas HTTP exchange:", "/backup/tenant/restores/", "status=401", `request_header_authorization="Bearer [redacted]"`},
		{".atlas_http: Atlas HTTP exchange:", "/backup/tenant/restores/", "status=200", `request_header_authorization="Bearer [redacted]"`},
		{"atlas client configured", "auth_method=service_account", "client_secret_from=config"},
	} {
		if !anyLineHasAll(lines, want) {
			t.Errorf("the log (%d lines) has no line with all of %q", len(lines), want)
		}
	}
	tokens := env.sim.AccessTokens()
	if len(tokens) < 3 {
		t.Fatalf("the simulator issued %d tokens, want at least 3 (a renewal after the revocation, new providers)", len(tokens))
	}
	secrets := map[string]string{
		"the client secret":              atlassim.DefaultClientSecret,
		"a piece of the client secret":   atlassim.DefaultClientSecret[10:26],
		"the wrong client secret":        "wrong-secret-for-the-log",
		"the Basic credentials":          base64.StdEncoding.EncodeToString([]byte(atlassim.DefaultClientID + ":" + atlassim.DefaultClientSecret)),
		"the form-encoded client secret": url.QueryEscape(atlassim.DefaultClientSecret),
	}
	for i, tok := range tokens {
		secrets[fmt.Sprintf("access token %d (start)", i)] = tok[:20]
		secrets[fmt.Sprintf("access token %d (end)", i)] = tok[len(tok)-16:]
	}
	for what, s := range secrets {
		if strings.Contains(log, s) {
			for _, line := range lines {
				if strings.Contains(line, s) {
					t.Logf("leaking line: %.300s", line)
					break
				}
			}
			t.Errorf("the log holds %s", what)
		}
	}
	for _, leak := range env.secretsIn(log) {
		t.Errorf("the log holds %s", leak)
	}
}

// Arguments that cannot work are refused at plan time, on the argument,
// without repeating the value.
func TestAccServiceAccount_invalidArgumentsAtPlan(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	resourceBlock := defaultTenantResource
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf("provider \"atlas\" {\n  base_url = %q\n  client_id = %q\n  client_secret = \"mdb_sa_sk_secret-with-space \"\n}\n",
					env.url, atlassim.DefaultClientID) + resourceBlock,
				ExpectError: wrapped(`(?s)Invalid Atlas Service Account.*The value of client_secret has leading or trailing white space.*MONGODB_ATLAS_CLIENT_SECRET`),
			},
			{
				Config:      fmt.Sprintf("provider \"atlas\" {\n  base_url = %q\n  access_token = \"\"\n}\n", env.url) + resourceBlock,
				ExpectError: wrapped(`(?s)Invalid Atlas Access Token.*The value of access_token is empty`),
			},
		},
	})
	if n := env.sim.Stats().TotalRequests; n != 0 {
		t.Errorf("%d requests reached the simulator; the plan should have stopped first", n)
	}
}

func TestAccTenantDownload_missingCredentials(t *testing.T) {
	unsetAtlasEnv(t)
	env := newTestEnv(t, atlassim.Config{})
	cfg := fmt.Sprintf(`
provider "atlas" {
  base_url = %q
}
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %q
  cluster_name = "Cluster0"
  snapshot_id  = %q
}
`, env.url, atlassim.DefaultProjectID, atlassim.DefaultSnapshotID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				// Planning a new resource needs no call to Atlas, so no keys.
				Config:             cfg,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Missing Atlas API Key.*public key and the private key are missing.*MONGODB_ATLAS_PUBLIC_KEY`),
			},
		},
	})
}

func TestAccTenantDownload_keysFromEnvironment(t *testing.T) {
	unsetAtlasEnv(t)
	env := newTestEnv(t, atlassim.Config{})
	t.Setenv("MONGODB_ATLAS_PUBLIC_API_KEY", atlassim.DefaultPublicKey)
	t.Setenv("MONGODB_ATLAS_PRIVATE_KEY", atlassim.DefaultPrivateKey)
	t.Setenv("MONGODB_ATLAS_BASE_URL", env.url)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "atlas" {}
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %q
  cluster_name = "Cluster0"
  snapshot_id  = %q
}
`, atlassim.DefaultProjectID, atlassim.DefaultSnapshotID),
			ConfigStateChecks: []statecheck.StateCheck{stateValue("status", knownvalue.StringExact("COMPLETED"))},
		}},
	})
}

func TestMissingKeys_grammar(t *testing.T) {
	for _, tt := range []struct{ pub, priv, want string }{
		{"", "", "public key and the private key are"},
		{"", "x", "public key is"},
		{"x", "", "private key is"},
	} {
		if got := missingKeys(tt.pub, tt.priv); got != tt.want {
			t.Errorf("missingKeys(%q, %q) = %q, want %q", tt.pub, tt.priv, got, tt.want)
		}
	}
}
