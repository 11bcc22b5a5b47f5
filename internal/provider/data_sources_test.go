// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// quoted is s in double quotes, as a regular expression.
func quoted(s string) string { return regexp.QuoteMeta(strconv.Quote(s)) }

// TestAccDataSources_wrongFamilyNamesTheMatchingDataSource gives each
// family's data sources a cluster of the other family, and expects the
// error to name the other family's data source of the same kind, with its
// cluster argument.
func TestAccDataSources_wrongFamilyNamesTheMatchingDataSource(t *testing.T) {
	for _, tt := range []struct{ typ, clusterAttr, cluster, want string }{
		{"atlas_tenant_restore_jobs", "cluster_name", atlassim.DefaultFlexClusterName,
			`(?s)Cluster Is a Flex Cluster.*CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API.*atlas_flex_restore_jobs with name =`},
		{"atlas_tenant_snapshots", "cluster_name", atlassim.DefaultFlexClusterName,
			`(?s)Cluster Is a Flex Cluster.*CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API.*atlas_flex_snapshots with name =`},
		{"atlas_flex_snapshots", "name", atlassim.DefaultClusterName,
			`(?s)Cluster Is Not a Flex Cluster.*CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API.*atlas_tenant_snapshots with cluster_name =`},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config: env.providerBlock() + fmt.Sprintf(`
data %q "wrong" {
  project_id = %q
  %s = %q
}
`, tt.typ, atlassim.DefaultProjectID, tt.clusterAttr, tt.cluster),
					ExpectError: wrapped(tt.want),
				}},
			})
		})
	}
}

func TestAccDataSources_errors(t *testing.T) {
	env := newTestEnv(t, atlassim.Config{})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{
			{
				Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_tenant_snapshots" "x" {
  project_id   = %q
  cluster_name = "Nope"
}`, atlassim.DefaultProjectID),
				ExpectError: wrapped(`(?s)Atlas Cluster Not Found.*CLUSTER_NOT_FOUND.*atlas_flex_snapshots with name =`),
			},
			{
				Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_tenant_snapshots" "x" {
  project_id   = %q
  cluster_name = "Cluster0"
  since        = "yesterday"
}`, atlassim.DefaultProjectID),
				ExpectError: wrapped(`(?s)since.*is not an RFC 3339 time`),
			},
			{
				Config: env.providerBlock() + fmt.Sprintf(`
data "atlas_tenant_restore_job" "x" {
  project_id   = %q
  cluster_name = "Cluster0"
  job_id       = "0000000000000000000000cc"
}`, atlassim.DefaultProjectID),
				ExpectError: wrapped(`(?s)Atlas Download Job Not Found.*TENANT_RESTORE_NOT_FOUND`),
			},
		},
	})
}
