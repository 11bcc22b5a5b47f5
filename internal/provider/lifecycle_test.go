// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// withoutExpiry answers reads of one job as Atlas might for a failed one:
// without expirationDate.
func (e *testEnv) withoutExpiry(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/restores/") {
		return false
	}
	rec := httptest.NewRecorder()
	e.sim.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		copyAnswer(w, rec)
		return true
	}
	var job map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &job); err != nil {
		e.t.Errorf("simulator answer is not JSON: %v", err)
		copyAnswer(w, rec)
		return true
	}
	delete(job, "expirationDate")
	body, _ := json.Marshal(job)
	rec.Body.Reset()
	rec.Body.Write(body)
	rec.Header().Del("Content-Length")
	copyAnswer(w, rec)
	return true
}

// A FAILED job is replaced whether or not Atlas sends its expirationDate.
func TestAccLifecycle_failedJobWithoutExpiryIsReplaced(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					job := env.onlyJob()
					if err := env.sim.SetJobStatus(job.ProjectID, job.ClusterName, job.ID, "FAILED"); err != nil {
						t.Fatal(err)
					}
					env.setFront(env.withoutExpiry)
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tenantAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{stateValue("status", knownvalue.StringExact("COMPLETED"))},
			},
		},
	})
	if n := len(env.sim.Jobs()); n != 2 {
		t.Errorf("simulator holds %d jobs, want 2 (the failed one and its replacement)", n)
	}
}

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
