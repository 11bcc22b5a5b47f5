// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseImportID(f *testing.F) {
	f.Fuzz(func(t *testing.T, id string) {
		project, cluster, job, err := parseImportID(id, "cluster_name")
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, "PROJECT_ID/CLUSTER_NAME/JOB_ID") {
				t.Fatalf("error does not show the expected form: %q", msg)
			}
			if project != "" || cluster != "" || job != "" {
				t.Fatal("parts returned with an error")
			}
			return
		}
		if !idPattern.MatchString(project) || !idPattern.MatchString(job) {
			t.Fatalf("accepted ids %q, %q", project, job)
		}
		if !clusterPattern.MatchString(cluster) || utf8.RuneCountInString(cluster) > maxClusterName {
			t.Fatalf("accepted cluster name %q", cluster)
		}
		if back := project + "/" + cluster + "/" + job; back != id {
			t.Fatalf("%q parsed to parts that join to %q", id, back)
		}
	})
}
