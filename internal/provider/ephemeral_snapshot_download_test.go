// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

func TestAccEphemeralDownload(t *testing.T) {
	for _, tt := range []struct{ typ, cluster, clusterAttr, snapshot string }{
		{"atlas_tenant_snapshot_download", atlassim.DefaultClusterName, "cluster_name", atlassim.DefaultSnapshotID},
		{"atlas_flex_snapshot_download", atlassim.DefaultFlexClusterName, "name", atlassim.DefaultFlexSnapshotID},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{QueuedFor: time.Minute})
			factories := env.factories()
			factories["echo"] = echoprovider.NewProviderServer()
			resource.ParallelTest(t, resource.TestCase{
				TerraformVersionChecks: []tfversion.TerraformVersionCheck{ephemeralResourcesTestable()},
				ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
					"atlas": factories["atlas"], "echo": factories["echo"],
				},
				Steps: []resource.TestStep{{
					Config: env.providerBlock() + fmt.Sprintf(`
ephemeral %q "link" {
  project_id  = %q
  %s = %q
  snapshot_id = %q
}
provider "echo" {
  data = ephemeral.%[1]s.link
}
resource "echo" "test" {}
`, tt.typ, atlassim.DefaultProjectID, tt.clusterAttr, tt.cluster, tt.snapshot),
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("status"), knownvalue.StringExact("COMPLETED")),
						statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("snapshot_url"), knownvalue.StringRegexp(regexp.MustCompile(`\?token=`))),
						statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("expiration_date"), knownvalue.NotNull()),
						statecheck.ExpectKnownValue("echo.test", tfjsonpath.New("data").AtMapKey("id"), knownvalue.StringRegexp(idRegexp)),
					},
				}},
			})
			if len(env.sim.Jobs()) == 0 {
				t.Error("the ephemeral resource requested no download")
			}
		})
	}
}
