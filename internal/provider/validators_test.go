// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// TestAccBadInput_planTime is the table of bad provider and resource
// arguments: each is refused at plan time with a message naming the
// argument and what is wrong, no request reaches Atlas, and no secret is
// repeated.
func TestAccBadInput_planTime(t *testing.T) {
	const (
		p  = atlassim.DefaultProjectID
		c  = atlassim.DefaultClusterName
		s  = atlassim.DefaultSnapshotID
		pk = atlassim.DefaultPrivateKey
	)
	type args struct{ baseURL, publicKey, privateKey, project, cluster, snapshot, extra string }
	ok := func(f func(*args)) args {
		a := args{baseURL: "", publicKey: atlassim.DefaultPublicKey, privateKey: pk, project: p, cluster: c, snapshot: s}
		f(&a)
		return a
	}
	tests := []struct {
		name string
		args args
		want string
	}{
		// Provider arguments.
		{"base_url plain http to a remote host", ok(func(a *args) { a.baseURL = "http://cloud.mongodb.com" }), `base_url.*plain http.*loopback`},
		{"base_url with a path", ok(func(a *args) { a.baseURL = "https://cloud.mongodb.com/api/atlas/v1.0" }), `base_url.*host only`},
		{"base_url with credentials", ok(func(a *args) { a.baseURL = "https://me:hunter2@cloud.mongodb.com" }), `base_url.*must not carry credentials`},
		{"base_url with a query", ok(func(a *args) { a.baseURL = "https://cloud.mongodb.com/?x=1" }), `base_url.*query or fragment`},
		{"base_url with a fragment", ok(func(a *args) { a.baseURL = "https://cloud.mongodb.com#top" }), `base_url.*query or fragment`},
		{"base_url with white space", ok(func(a *args) { a.baseURL = " https://cloud.mongodb.com" }), `base_url.*without spaces`},
		{"base_url empty", ok(func(a *args) { a.baseURL = "-" }), `base_url.*must be a URL`},
		{"base_url another scheme", ok(func(a *args) { a.baseURL = "ftp://cloud.mongodb.com" }), `base_url.*must start with https://`},
		{"public_key empty", ok(func(a *args) { a.publicKey = "" }), `public_key is empty`},
		{"private_key with a trailing newline", ok(func(a *args) { a.privateKey = pk + "\n" }), `private_key has leading or trailing white space`},
		{"private_key with a null byte", ok(func(a *args) { a.privateKey = "5e1f\x002a3b" }), `private_key holds a control character \(at position 5\)`},
		// Resource arguments.
		{"project_id empty", ok(func(a *args) { a.project = "" }), `project_id is empty`},
		{"project_id upper-case hex", ok(func(a *args) { a.project = strings.ToUpper(p) }), `project_id.*has upper-case letters`},
		{"project_id fullwidth digits", ok(func(a *args) { a.project = "６５６８a1b2c3d4e5f601234567" }), `project_id.*character 1 is U\+FF16`},
		{"project_id too long", ok(func(a *args) { a.project = p + "0" }), `project_id.*is not 24 lowercase hexadecimal digits: it is 25 characters long`},
		{"project_id with a path", ok(func(a *args) { a.project = "../../../../admin" }), `project_id.*it is 17 characters long`},
		{"snapshot_id with a null byte", ok(func(a *args) { a.snapshot = s[:23] + "\x00" }), `snapshot_id.*character 24 is U\+0000`},
		{"snapshot_id with white space", ok(func(a *args) { a.snapshot = s + " " }), `snapshot_id.*leading or trailing white space`},
		{"snapshot_id with a query", ok(func(a *args) { a.snapshot = "6568a1b2c3d4e5f6000000?x" }), `snapshot_id.*character 23 is U\+003F`},
		{"cluster_name with a Cyrillic а", ok(func(a *args) { a.cluster = "Clusterа0" }), `cluster_name.*may only hold ASCII letters.*character 8 is U\+0430`},
		{"cluster_name with dot-dot", ok(func(a *args) { a.cluster = ".." }), `cluster_name.*character 1 is U\+002E`},
		{"cluster_name with a slash", ok(func(a *args) { a.cluster = "a/b" }), `cluster_name.*character 2 is U\+002F`},
		{"cluster_name with a question mark", ok(func(a *args) { a.cluster = "Cluster0?x=1" }), `cluster_name.*character 9 is U\+003F`},
		{"cluster_name with a hash", ok(func(a *args) { a.cluster = "Cluster#0" }), `cluster_name.*character 8 is U\+0023`},
		{"cluster_name with an ampersand", ok(func(a *args) { a.cluster = "a&b" }), `cluster_name.*character 2 is U\+0026`},
		{"cluster_name with a space", ok(func(a *args) { a.cluster = "Cluster 0" }), `cluster_name.*character 8 is U\+0020`},
		{"cluster_name with a leading hyphen", ok(func(a *args) { a.cluster = "-Cluster0" }), `cluster_name.*not a hyphen`},
		{"cluster_name with fullwidth digits", ok(func(a *args) { a.cluster = "Cluster０" }), `cluster_name.*character 8 is U\+FF10`},
		{"cluster_name too long", ok(func(a *args) { a.cluster = strings.Repeat("c", 65) }), `cluster_name is 65 characters long`},
		{"renew_before negative", ok(func(a *args) { a.extra = `renew_before = "-1h"` }), `renew_before.*is negative`},
		{"renew_before the whole lifetime", ok(func(a *args) { a.extra = `renew_before = "4h"` }), `renew_before.*longer than 3h0m0s`},
		{"renew_before just over 3h", ok(func(a *args) { a.extra = `renew_before = "3h1m"` }), `renew_before.*longer than 3h0m0s`},
		{"renew_before not a duration", ok(func(a *args) { a.extra = `renew_before = "1 hour"` }), `renew_before.*is not a duration`},
		{"timeouts.create zero", ok(func(a *args) { a.extra = `timeouts { create = "0s" }` }), `timeouts.create is "0s": it must be longer than zero`},
		{"timeouts.read negative", ok(func(a *args) { a.extra = `timeouts { read = "-1m" }` }), `timeouts.read is "-1m": it must be longer than zero`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			a := tt.args
			baseURL := env.url
			switch a.baseURL {
			case "":
			case "-":
				baseURL = ""
			default:
				baseURL = a.baseURL
			}
			cfg := fmt.Sprintf(`
provider "atlas" {
  base_url    = %s
  public_key  = %s
  private_key = %s
}
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %s
  cluster_name = %s
  snapshot_id  = %s
  %s
}
`, hclString(baseURL), hclString(a.publicKey), hclString(a.privateKey), hclString(a.project), hclString(a.cluster), hclString(a.snapshot), a.extra)
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config:      cfg,
					PlanOnly:    true,
					ExpectError: wrapped(`(?s)` + tt.want),
				}},
			})
			if st := env.sim.Stats(); st.TotalRequests != 0 {
				t.Errorf("invalid input reached Atlas: %d requests", st.TotalRequests)
			}
		})
	}
}

// hclString writes s as an HCL string literal, escaping what JSON escapes
// (HCL reads \n, \t, \", \\ and \uNNNN the same way).
func hclString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
