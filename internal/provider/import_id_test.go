// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"strings"
	"testing"
)

// TestParseImportIDBadInput: each bad import id is refused with a message
// that says which part is wrong and shows the expected form.
func TestParseImportIDBadInput(t *testing.T) {
	const p, j = "6568a1b2c3d4e5f601234567", "6568a1b2c3d4e5f6000000b1"
	tests := []struct{ id, want string }{
		{"", "does not have the form"},
		{p + "/Cluster0", "does not have the form"},
		{p + "/Cluster0/" + j + "/", "does not have the form"},
		{p + "/a/b/" + j, "does not have the form"},
		{"/Cluster0/" + j, "project id in import ID"},
		{strings.ToUpper(p) + "/Cluster0/" + j, "has upper-case letters"},
		{"６５６８a1b2c3d4e5f601234567/Cluster0/" + j, `character 1 is U+FF16`},
		{p + "/Clusterа0/" + j, `character 8 is U+0430`},
		{p + "/../" + j, `cluster name in import ID`},
		{p + "/Cluster0?x=1/" + j, `character 9 is U+003F`},
		{p + "/Cluster 0/" + j, `character 8 is U+0020`},
		{p + "/Cluster0/" + j[:23] + "\x00", `character 24 is U+0000`},
		{p + "/Cluster0/ " + j, "leading or trailing white space"},
		{p + "/Cluster0/" + j + "0", "it is 25 characters long"},
	}
	for _, tt := range tests {
		_, _, _, err := parseImportID(tt.id, "cluster_name")
		if err == nil {
			t.Errorf("%q accepted", tt.id)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.want) || !strings.Contains(msg, "PROJECT_ID/CLUSTER_NAME/JOB_ID") {
			t.Errorf("%q: error %q, want it to say %q and show the form", tt.id, msg, tt.want)
		}
	}
	if _, _, _, err := parseImportID(p+"/Cluster-0/"+j, "cluster_name"); err != nil {
		t.Errorf("a good id was refused: %v", err)
	}
}
