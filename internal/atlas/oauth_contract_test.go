// SPDX-License-Identifier: MPL-2.0

package atlas_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// saClient is a service-account client and a simulator on one fake clock.
func saClient(t *testing.T, cfg atlassim.Config, secret string) (*atlas.Client, *atlassim.Server, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.New(contractStart)
	cfg.Now = clock.Now
	sim, err := atlassim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := atlas.New(atlas.Config{
		BaseURL: srv.URL, ClientID: atlassim.DefaultClientID, ClientSecret: secret,
		Now: clock.Now, Sleep: clock.Sleep, Jitter: func() float64 { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, sim, clock
}

var saCluster = atlas.Cluster{Family: atlas.TenantV1, ProjectID: atlassim.DefaultProjectID, Name: atlassim.DefaultClusterName}

// The client's grant is what the simulator takes (Basic credentials, form
// body, JSON answer), and its tokens open the API: one request per call once
// the token is held, renewals as the simulator's token lifetime runs out.
func TestContract_serviceAccount(t *testing.T) {
	c, sim, clock := saClient(t, atlassim.Config{TokenLifetime: 20 * time.Minute}, atlassim.DefaultClientSecret)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := c.ListSnapshots(ctx, saCluster, atlas.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	st := sim.Stats()
	if st.TokenRequests != 1 || st.TotalRequests-st.TokenRequests != 5 || st.DigestChallenges != 0 {
		t.Errorf("stats %+v: want 1 token request, 5 API requests, no challenge", st)
	}
	clock.Advance(20 * time.Minute) // past expiry: renewed before the call
	if _, err := c.ListSnapshots(ctx, saCluster, atlas.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if st := sim.Stats(); st.TokenRequests != 2 || st.Routes["GET /api/atlas/v1.0/groups/{groupId}/clusters/{clusterName}/backup/tenant/snapshots"]["401"] != 0 {
		t.Errorf("after expiry: stats %+v; want a second token request and no 401", st)
	}

	// Revoked behind the client's back: one refusal, one renewal, success.
	sim.RevokeAllTokens()
	if _, err := c.ListSnapshots(ctx, saCluster, atlas.ListOptions{}); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if st := sim.Stats(); st.TokenRequests != 3 {
		t.Errorf("after revocation: %d token requests, want 3", st.TokenRequests)
	}
}

// The simulator's token-endpoint faults are survived the way the API's are.
func TestContract_serviceAccountTokenFaults(t *testing.T) {
	// Tokens of a second, and a clock moved past each: every call needs a
	// new token, so the token endpoint meets its share of the faults.
	c, sim, clock := saClient(t, atlassim.Config{TokenLifetime: time.Second,
		Faults: atlassim.Faults{ErrorRate: 0.4, DropRate: 0.2, RandSeed: 7}}, atlassim.DefaultClientSecret)
	for i := 0; i < 10; i++ {
		clock.Advance(2 * time.Second)
		if _, err := c.GetSnapshot(context.Background(), saCluster, atlassim.DefaultSnapshotID); err != nil {
			t.Fatal(err)
		}
	}
	st := sim.Stats()
	tok := st.Routes["POST /api/oauth/token"]
	if st.TokenRequests < 10 || tok["503"] == 0 || st.Faults.Dropped == 0 {
		t.Errorf("stats %+v: want token requests that met injected faults", st)
	}
}

// A wrong secret is one token request and an error that names the refusal.
func TestContract_serviceAccountWrongSecret(t *testing.T) {
	c, sim, _ := saClient(t, atlassim.Config{}, "mdb_sa_sk_not-the-secret")
	_, err := c.ListSnapshots(context.Background(), saCluster, atlas.ListOptions{})
	var te *atlas.TokenError
	if !errors.As(err, &te) || te.StatusCode != 401 || te.ErrorCode != "INVALID_CLIENT" {
		t.Fatalf("err = %v, want a TokenError 401 INVALID_CLIENT", err)
	}
	if st := sim.Stats(); st.TotalRequests != 1 {
		t.Errorf("%d requests, want the one token request", st.TotalRequests)
	}
}
