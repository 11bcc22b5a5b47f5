// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"strings"
	"testing"
)

// TestParseSeedBadInput: each broken seed file is refused with an error
// that names the JSON path of the bad value and what is wrong with it.
func TestParseSeedBadInput(t *testing.T) {
	wrap := func(cluster string) string {
		return `{"projects":[{"id":"6568a1b2c3d4e5f601234567","clusters":[` + cluster + `]}]}`
	}
	snap := func(fields string) string {
		return wrap(`{"name":"Cluster0","snapshots":[{` + fields + `}]}`)
	}
	tests := []struct{ name, seed, want string }{
		{"empty file", "", "empty seed"},
		{"white space only", " \n\t", "empty seed"},
		{"truncated", `{"projects":[{"id":"6568a1b2c3d4e5f601234567"`, "unexpected end"},
		{"not JSON", `projects: []`, "invalid JSON at line 1"},
		{"trailing data", `{"projects":[]} {}`, "after the seed"},
		{"unknown field", `{"projects":[{"id":"6568a1b2c3d4e5f601234567","clusters":[],"colour":"red"}]}`, "colour"},
		{"project id upper case", `{"projects":[{"id":"6568A1B2C3D4E5F601234567","clusters":[]}]}`, "projects[0].id"},
		{"project id with fullwidth digits", `{"projects":[{"id":"６５６８a1b2c3d4e5f601234567","clusters":[]}]}`, "projects[0].id"},
		{"cluster name with a Cyrillic а", wrap(`{"name":"Clusterа0","snapshots":[]}`), "projects[0].clusters[0].name"},
		{"cluster name with dot-dot", wrap(`{"name":"..","snapshots":[]}`), "projects[0].clusters[0].name"},
		{"cluster name with a slash", wrap(`{"name":"a/b","snapshots":[]}`), "projects[0].clusters[0].name"},
		{"cluster name with a query", wrap(`{"name":"a?b=c#d","snapshots":[]}`), "projects[0].clusters[0].name"},
		{"cluster name with a null byte", wrap(`{"name":"a\u0000b","snapshots":[]}`), "projects[0].clusters[0].name"},
		{"snapshot id too short", snap(`"id":"6568a1b2","status":"COMPLETED","finishTime":"2026-11-28T12:03:00Z"`), "snapshots[0].id"},
		{"snapshot status unknown", snap(`"id":"6568a1b2c3d4e5f6000000a1","status":"completed","finishTime":"2026-11-28T12:03:00Z"`), "snapshots[0].status"},
		{"date in the wrong format", snap(`"id":"6568a1b2c3d4e5f6000000a1","status":"COMPLETED","finishTime":"28/11/2026"`), "snapshots[0].finishTime"},
		{"number for a string", snap(`"id":6568,"status":"COMPLETED"`), "snapshots[0].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed, err := ParseSeed([]byte(tt.seed))
			if err == nil {
				t.Fatalf("accepted: %+v", seed)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}
}
