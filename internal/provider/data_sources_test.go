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

// TestAccSnapshotsDataSource_emptyWindowFailsThePlan checks that a window
// no snapshot can fall into is an error on until, at plan time, naming
// both times, rather than an empty list.
func TestAccSnapshotsDataSource_emptyWindowFailsThePlan(t *testing.T) {
	for _, tt := range []struct{ name, typ, clusterAttr, cluster, since, until string }{
		{"tenant, since after until", "atlas_tenant_snapshots", "cluster_name", atlassim.DefaultClusterName,
			"2026-12-01T00:00:00Z", "2026-11-01T00:00:00Z"},
		{"flex, since after until", "atlas_flex_snapshots", "name", atlassim.DefaultFlexClusterName,
			"2026-11-28T12:00:00Z", "2026-11-28T11:59:59+00:00"},
		{"flex, since equal to until", "atlas_flex_snapshots", "name", atlassim.DefaultFlexClusterName,
			"2026-11-28T12:00:00Z", "2026-11-28T13:00:00+01:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config: env.providerBlock() + fmt.Sprintf(`
data %q "window" {
  project_id = %q
  %s = %q
  since = %q
  until = %q
}
`, tt.typ, atlassim.DefaultProjectID, tt.clusterAttr, tt.cluster, tt.since, tt.until),
					PlanOnly: true,
					// The snippet Terraform quotes is the until line: the
					// error is on the attribute.
					ExpectError: wrapped(`(?s)Empty Snapshot Time Window.*until = ` + quoted(tt.until) +
						`.*until \(` + quoted(tt.until) + `\) must be later than since \(` + quoted(tt.since) + `\)`),
				}},
			})
			if n := env.sim.Stats().TotalRequests; n != 0 {
				t.Errorf("the simulator saw %d requests: the window should be refused before any call", n)
			}
		})
	}
}

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
