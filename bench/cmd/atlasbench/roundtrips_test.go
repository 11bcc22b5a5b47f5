// SPDX-License-Identifier: MPL-2.0

package main

import (
	"strings"
	"testing"
	"time"
)

func TestSpliceRoundTrips(t *testing.T) {
	section := roundTripsHeading + "\n\nnew\n\n### With a service account\n\nsa\n\n"
	report := "# B\n\n## Machine\n\nm\n\n" + roundTripsHeading + "\n\nold\n\n### With a service account\n\nold sa\n\n## 2. Apply\n\nx\n\n## Reproduce\n\ny\n"
	want := "# B\n\n## Machine\n\nm\n\n" + section + "## 2. Apply\n\nx\n\n## Reproduce\n\ny\n"
	if got := spliceSection(report, roundTripsHeading, section); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestAddReproduceLines(t *testing.T) {
	// A stale -only line is replaced, and the lines come in their order.
	report := "# B\n\n## Reproduce\n\n```sh\nmake bench   # all\n" + onlyReproduceLines[1] + "\n" +
		onlyCommandPrefix + "roundtrips   # old words\n```\n\nRaw samples.\n"
	want := "# B\n\n## Reproduce\n\n```sh\nmake bench   # all\n" + strings.Join(onlyReproduceLines, "\n") + "\n```\n\nRaw samples.\n"
	got := addReproduceLines(report)
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if again := addReproduceLines(got); again != got {
		t.Errorf("a second call changed the report: %q", again)
	}
	if got := addReproduceLines("# B\n"); got != "# B\n" {
		t.Errorf("a report without Reproduce changed: %q", got)
	}
}

func TestRenderRoundTrips(t *testing.T) {
	o := options{n: 100, parallelism: 10}
	route := "POST /api/atlas/v1.0/groups/{groupId}/clusters/{clusterName}/backup/tenant/download"
	key := simStats{TotalRequests: 101, DigestChallenges: 1, Routes: map[string]map[string]int64{route: {"200": 100, "401": 1}}}
	sa := simStats{TotalRequests: 101, TokenRequests: 1, Routes: map[string]map[string]int64{route: {"200": 100}, "POST /api/oauth/token": {"200": 1}}}
	ss := []sample{{Apply: key, Plan: key, SAApply: sa, SAPlan: sa, SAApplyProviders: 4, SAPlanProviders: 3}}
	out := renderRoundTrips(o, ss, time.Time{}, "")
	for _, want := range []string{
		"| `terraform apply` (100 creates) | 101 | 1 | 100 | 1.01 |",
		"| `terraform apply` (100 creates) | 101 | 1 | 0 | 100 | 1.00 | 4 |",
		"| `terraform plan` afterwards (100 refreshes) | 101 | 1 | 0 | 100 | 1.00 | 3 |",
		"| `POST /api/oauth/token` | 200 | 1 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("section lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "**met**") != 2 || strings.Contains(out, "measured alone") {
		t.Errorf("want both targets met and no alone note:\n%s", out)
	}

	// A challenge under the service account, or more token requests than
	// provider processes, misses the target.
	for _, bad := range []simStats{
		{TotalRequests: 102, TokenRequests: 1, DigestChallenges: 1},
		{TotalRequests: 105, TokenRequests: 5},
	} {
		ss[0].SAPlan = bad
		out = renderRoundTrips(o, ss, time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC), "Terraform v1.11.4")
		if !strings.Contains(out, "**not met**") || !strings.Contains(out, "measured alone (`-only roundtrips`) on 2026-12-02 15:00 UTC") {
			t.Errorf("%+v: want the service-account target not met and the alone note:\n%s", bad, out)
		}
	}
}
