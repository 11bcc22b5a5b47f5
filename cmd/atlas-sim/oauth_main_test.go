// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// -client-id, -client-secret and -token-lifetime make the service account
// the simulator accepts, beside its API key.
func TestRunServiceAccountFlags(t *testing.T) {
	prog := startProgram(t, "-client-id", "mdb_sa_id_flag", "-client-secret", "mdb_sa_sk_flag-secret", "-token-lifetime", "90s")
	baseURL, human := prog.baseURL, prog.banner
	if !strings.Contains(human, `client ID "mdb_sa_id_flag"`) || !strings.Contains(human, "1m30s") || strings.Contains(human, "flag-secret") {
		t.Errorf("banner %q: want the client ID and lifetime, and not a secret given on the command line", human)
	}

	token := func(id, secret string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, baseURL+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if status, _ := token(atlassim.DefaultClientID, atlassim.DefaultClientSecret); status != http.StatusUnauthorized {
		t.Errorf("the default service account: %d, want 401 once -client-id is given", status)
	}
	status, ans := token("mdb_sa_id_flag", "mdb_sa_sk_flag-secret")
	if status != http.StatusOK || ans["expires_in"] != float64(90) {
		t.Fatalf("token: %d %v, want 200 with expires_in 90", status, ans["expires_in"])
	}
	req, _ := http.NewRequest(http.MethodGet, baseURL+"/api/atlas/v1.0/groups/"+atlassim.DefaultProjectID+"/clusters/Cluster0/backup/tenant/snapshots", nil)
	req.Header.Set("Authorization", "Bearer "+ans["access_token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("API with the token: %d", resp.StatusCode)
	}
	resp, err = http.Get(baseURL + "/__sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st atlassim.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.TokenRequests != 2 {
		t.Errorf("stats tokenRequests %d (%v), want 2", st.TokenRequests, err)
	}
	prog.stop(t)
}

func TestRunRejectsServiceAccountFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-client-secret", ""}, "-client-id and -client-secret must not be empty"},
		{[]string{"-client-id", ""}, "-client-id and -client-secret must not be empty"},
		{[]string{"-token-lifetime", "500ms"}, "-token-lifetime must be at least 1s"},
	} {
		var stdout bytes.Buffer
		err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, tc.args...), &stdout, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) || stdout.Len() != 0 {
			t.Errorf("run %v: %v (stdout %q), want %q", tc.args, err, stdout.String(), tc.want)
		}
	}
}

// -token-rate-limit and -max-live-tokens reach the simulator: the second
// token of a minute is refused with Atlas's text, and /__sim/stats shows
// the live token.
func TestRunTokenLimitFlags(t *testing.T) {
	prog := startProgram(t, "-token-rate-limit", "1", "-max-live-tokens", "5")
	statuses := make([]int, 0, 2)
	var last map[string]any
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, prog.baseURL+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(atlassim.DefaultClientID, atlassim.DefaultClientSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		last = nil
		_ = json.NewDecoder(resp.Body).Decode(&last)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusTooManyRequests ||
		last["detail"] != "Resource /api/oauth/token is limited to 1 requests every 1 minutes." {
		t.Errorf("statuses %v, last answer %v; want 200 then Atlas's 429", statuses, last)
	}
	resp, err := http.Get(prog.baseURL + "/__sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st atlassim.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.LiveTokens != 1 || st.TokenRequests != 2 {
		t.Errorf("stats liveTokens %d, tokenRequests %d (%v); want 1, 2", st.LiveTokens, st.TokenRequests, err)
	}
	prog.stop(t)
}
