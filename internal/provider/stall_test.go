// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// stall makes every request to the simulator hang until the client gives
// up: an endpoint that accepts connections and never answers.
func (e *testEnv) stall() {
	e.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	})
}

// TestAccStalledEndpoint_readsEndAtTimeoutsRead: against an endpoint that
// never answers, a data source read and a resource's refresh end after
// timeouts.read, with an error that says how long and names base_url.
func TestAccStalledEndpoint_readsEndAtTimeoutsRead(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	want := wrapped(`(?s)Timed Out Reading from Atlas.*within 2s \(timeouts.read\).*base_url \(` + env.url + `\)`)
	t.Run("data source", func(t *testing.T) {
		env.stall()
		defer env.setFront(nil)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			Steps: []resource.TestStep{{
				Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_tenant_restore_jobs" "all" {
  project_id   = %q
  cluster_name = %q
  timeouts     = { read = "2s" }
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName),
				ExpectError: want,
			}},
		})
	})
	t.Run("resource refresh", func(t *testing.T) {
		cfg := env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, `timeouts { read = "2s" }`)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: env.factories(),
			Steps: []resource.TestStep{
				{Config: cfg},
				{
					PreConfig:   env.stall,
					Config:      cfg,
					PlanOnly:    true,
					ExpectError: want,
				},
				{PreConfig: func() { env.setFront(nil) }, Config: cfg, PlanOnly: true},
			},
		})
	})
}

// TestAccLockDir_refusedWhenUnsafe: a lock directory that others could
// write, or a link, is refused with the reason, on lock_dir when it comes
// from the configuration; nothing reaches Atlas.
func TestAccLockDir_refusedWhenUnsafe(t *testing.T) {
	root := t.TempDir()
	open := filepath.Join(root, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, dir, want string }{
		{"writable by others", open, `Unusable Lock Directory.*` + open + `.*can be written by other users`},
		{"a symbolic link", link, `Unusable Lock Directory.*` + link + `.*is a symbolic link`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			cfg := fmt.Sprintf(`
provider "atlas" {
  base_url    = %q
  public_key  = %q
  private_key = %q
  lock_dir    = %q
}
data "atlas_tenant_restore_jobs" "all" {
  project_id   = %q
  cluster_name = %q
}
`, env.url, atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey, tt.dir, atlassim.DefaultProjectID, atlassim.DefaultClusterName)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps:                    []resource.TestStep{{Config: cfg, ExpectError: wrapped(`(?s)` + tt.want)}},
			})
			if n := env.sim.Stats().TotalRequests; n != 0 {
				t.Errorf("%d requests reached Atlas", n)
			}
		})
	}
}
