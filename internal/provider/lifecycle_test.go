// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// twoDownloads is two download resources of one snapshot, with more
// arguments for each.
func (e *testEnv) twoDownloads(first, second string) string {
	block := func(name, more string) string {
		return fmt.Sprintf(`
resource "atlas_tenant_snapshot_download" %q {
  project_id   = %q
  cluster_name = %q
  snapshot_id  = %q
%s
}
`, name, atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, more)
	}
	return e.providerBlock() + block("first", first) + block("second", second)
}

// Atlas's download limits are waited out: a download refused because
// another is running lands once that one has finished.
func TestAccLifecycle_downloadLimitIsWaitedOut(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{QueuedFor: 10 * time.Minute, Faults: atlassim.Faults{DownloadLimit: 1}})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.twoDownloads("", ""),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("atlas_tenant_snapshot_download.first", tfjsonpath.New("status"), knownvalue.StringExact("COMPLETED")),
				statecheck.ExpectKnownValue("atlas_tenant_snapshot_download.second", tfjsonpath.New("status"), knownvalue.StringExact("COMPLETED")),
			},
		}},
	})
	if n := len(env.sim.Jobs()); n != 2 {
		t.Errorf("simulator holds %d jobs, want 2", n)
	}
	if st := env.sim.Stats(); st.Faults.TooManyDownloads == 0 {
		t.Errorf("the download limit never refused a request, so the test proves nothing: %+v", st.Faults)
	}
}

// A FAILED snapshot is not "still being taken".
func TestAccLifecycle_failedSnapshotIsToldApart(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	const failed = "6568a1b2c3d4e5f6000000af"
	if err := env.sim.AddSnapshot(atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.SeedSnapshot{
		ID: failed, Status: "FAILED", ScheduledTime: "2026-11-28T11:00:00Z",
	}); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config:      env.tenantConfig(atlassim.DefaultClusterName, failed, ""),
				ExpectError: wrapped(`(?s)Snapshot Not Ready for Download.*CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT.*is FAILED, so Atlas will never download it`),
			},
			{
				Config:      env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultRunningSnapshotID, ""),
				ExpectError: wrapped(`(?s)Snapshot Not Ready for Download.*The snapshot is RUNNING: Atlas is still taking it`),
			},
		},
	})
}

// When a download's answer is lost and the look-up for the job it made
// fails too, the error says that a job may exist and how to keep it.
func TestAccLifecycle_unconfirmedDownloadSaysHowToFindIt(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	env.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/download"):
			rec := httptest.NewRecorder()
			env.sim.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				copyAnswer(w, rec)
				return true
			}
			// Atlas acted; the answer never arrives.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return true
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/restores"):
			w.Header().Set("Date", env.clock.Now().UTC().Format(http.TimeFormat))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"detail":"Unexpected error.","error":500,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Internal Server Error"}`))
			return true
		}
		return false
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, ""),
			ExpectError: wrapped(`(?s)Atlas May Have Created a Download Job.*UNEXPECTED_ERROR.*scheduled at or after 2026-11-28T12:(29:59|30:00)Z.*` +
				`atlas_tenant_restore_jobs.*terraform import <resource address> ` + atlassim.DefaultProjectID + `/` + atlassim.DefaultClusterName + `/<job id>`),
		}},
	})
	if n := len(env.sim.Jobs()); n != 1 {
		t.Errorf("simulator holds %d jobs, want 1 (made by the lost request)", n)
	}
}

// TestAccBadInput_completedWithoutLink: Atlas answers COMPLETED but leaves
// snapshotUrl empty. Waiting treats that as unfinished, so the apply ends in
// a clear error when the timeout runs out, rather than storing a download
// with no link as a success.
func TestAccBadInput_completedWithoutLink(t *testing.T) {
	env := newTestEnvWrapped(t, atlassim.Config{}, blankSnapshotURL)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config: env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, `
  timeouts {
    create = "10m"
  }`),
			ExpectError: wrapped(`(?s)Atlas Gave No Download Link.*as COMPLETED, but its answer has no snapshotUrl.*10m0s timeout`),
		}},
	})
	if n := len(env.sim.Jobs()); n != 1 {
		t.Errorf("simulator holds %d jobs, want the one request", n)
	}
}

// blankSnapshotURL empties snapshotUrl in every JSON object answer.
func blankSnapshotURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var obj map[string]any
		if rec.Code == http.StatusOK && json.Unmarshal(body, &obj) == nil {
			if _, ok := obj["snapshotUrl"]; ok {
				obj["snapshotUrl"] = ""
				body, _ = json.Marshal(obj)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(bytes.TrimSpace(body))
	})
}

// TestUnconfirmedSaysWhyTheSearchEnded: the reason a search for a lost job
// settled nothing is worded here, whatever the client's error says.
func TestUnconfirmedSaysWhyTheSearchEnded(t *testing.T) {
	for _, tt := range []struct {
		recovery error
		want     string
	}{
		{atlas.ErrNotListed, "no job of the request was listed yet"},
		{context.DeadlineExceeded, "the time allowed ran out while the provider looked"},
		{fmt.Errorf("listing: %w", context.Canceled), "the run was interrupted while the provider looked"},
		{&atlas.Error{Method: "GET", Path: "/x", StatusCode: 500, ErrorCode: "UNEXPECTED_ERROR"}, "GET /x: HTTP 500 UNEXPECTED_ERROR"},
	} {
		var diags diag.Diagnostics
		addUnconfirmed(&diags, tenantDownload, "request a download", &atlas.UnconfirmedJobError{
			Cluster:    atlas.Cluster{Family: atlas.TenantV1, ProjectID: "6568a1b2c3d4e5f601234567", Name: "Cluster0"},
			SnapshotID: "6568a1b2c3d4e5f6000000a1", Err: errors.New("atlas: POST /x: EOF"), RecoveryErr: tt.recovery,
		})
		if len(diags) != 1 || !strings.Contains(diags[0].Detail(), "("+tt.want) {
			t.Errorf("RecoveryErr %v: %v, want the reason %q", tt.recovery, diags, tt.want)
		}
	}
}
