// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// TestAccTokenCacheDir_refusedWhenUnsafe: a token cache directory that
// others could write, or a link, is refused with the reason, on
// token_cache_dir; no token is requested.
func TestAccTokenCacheDir_refusedWhenUnsafe(t *testing.T) {
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
		{"writable by others", open, `Unusable Token Cache Directory.*` + open + `.*can be written by other users`},
		{"a symbolic link", link, `Unusable Token Cache Directory.*` + link + `.*is a symbolic link`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			cfg := fmt.Sprintf(`
provider "atlas" {
  base_url        = %q
  client_id       = %q
  client_secret   = %q
  token_cache_dir = %q
}
data "atlas_tenant_restore_jobs" "all" {
  project_id   = %q
  cluster_name = %q
}
`, env.url, atlassim.DefaultClientID, atlassim.DefaultClientSecret, tt.dir, atlassim.DefaultProjectID, atlassim.DefaultClusterName)
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
