// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

func TestAddAtlasError_messages(t *testing.T) {
	restoreJobs := tenantDownload.as("restore_jobs")
	tests := []struct {
		name    string
		kind    downloadKind
		err     error
		summary string
		want    []string
		not     []string
	}{
		{
			name:    "an Atlas detail that ends a sentence gets no second period",
			kind:    tenantDownload,
			err:     &atlas.Error{StatusCode: 404, ErrorCode: "CLUSTER_NOT_FOUND", Detail: "No cluster named X exists in group Y."},
			summary: "Atlas Cluster Not Found", want: []string{"exists in group Y.\n"}, not: []string{".."},
		},
		{
			name:    "a detail without a period gets one",
			kind:    flexDownload,
			err:     &atlas.Error{StatusCode: 500, ErrorCode: "UNEXPECTED_ERROR", Detail: "Unexpected error"},
			summary: "Atlas Server Error", want: []string{"UNEXPECTED_ERROR: Unexpected error.\n"},
		},
		{
			name:    "an answer that reached Atlas is not 'Cannot Reach Atlas'",
			kind:    tenantDownload,
			err:     errors.New("atlas: GET /x: the answer is not a valid object: restore job id \"\" is not 24 lowercase hex digits"),
			summary: "Unexpected Answer from Atlas", want: []string{"base_url"}, not: []string{"Cannot Reach", "atlas: GET"},
		},
		{
			name:    "the Flex 401 names the Backup Export Operator role",
			kind:    flexDownload,
			err:     &atlas.Error{StatusCode: 401, ErrorCode: "USER_UNAUTHORIZED"},
			summary: "Atlas Rejected the API Key", want: []string{"Project Backup Export Operator"},
		},
		{
			name:    "the tenant 401 names Project Owner only",
			kind:    tenantDownload,
			err:     &atlas.Error{StatusCode: 401, ErrorCode: "USER_UNAUTHORIZED"},
			summary: "Atlas Rejected the API Key", want: []string{"Project Owner role"}, not: []string{"Backup Export"},
		},
		{
			name:    "a data source meeting a Flex cluster names the Flex data source",
			kind:    restoreJobs,
			err:     &atlas.Error{StatusCode: 400, ErrorCode: "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API"},
			summary: "Cluster Is a Flex Cluster", want: []string{"use atlas_flex_restore_jobs with name = the cluster's name"},
			not: []string{"snapshot_download"},
		},
		{
			name:    "a Flex data source meeting a tenant cluster names the tenant one",
			kind:    flexDownload.as("snapshots"),
			err:     &atlas.Error{StatusCode: 400, ErrorCode: "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API"},
			summary: "Cluster Is Not a Flex Cluster", want: []string{"use atlas_tenant_snapshots with cluster_name = the cluster's name"},
		},
		{
			name:    "a download limit says the provider waited",
			kind:    tenantDownload,
			err:     &atlas.Error{StatusCode: 400, ErrorCode: "TOO_MANY_SNAPSHOT_DOWNLOADS", Detail: "Too many downloads."},
			summary: "Atlas Download Limit Reached", want: []string{"waited for running downloads to finish", "create timeout"},
		},
		{
			name:    "a 404 without an Atlas code points at base_url",
			kind:    tenantDownload,
			err:     &atlas.Error{StatusCode: 404, Detail: "unexpected response body: \"<html>\""},
			summary: "Atlas Object Not Found", want: []string{"base_url"},
		},
		{
			name:    "the sunset answer explains itself",
			kind:    restoreJobs,
			err:     &atlas.Error{StatusCode: 404, ErrorCode: "RESOURCE_NOT_FOUND", Detail: "The tenant backup API reached its sunset on 2026-01-22."},
			summary: "Atlas Tenant Backup Endpoints Retired", want: []string{"atlas_flex_restore_jobs with name ="},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var diags diag.Diagnostics
			addAtlasError(&diags, tt.kind, "read something", tt.err)
			if len(diags) != 1 {
				t.Fatalf("got %d diagnostics, want 1: %v", len(diags), diags)
			}
			d := diags[0]
			if d.Summary() != tt.summary {
				t.Errorf("summary %q, want %q", d.Summary(), tt.summary)
			}
			for _, w := range tt.want {
				if !strings.Contains(d.Detail(), w) {
					t.Errorf("detail lacks %q:\n%s", w, d.Detail())
				}
			}
			for _, n := range tt.not {
				if strings.Contains(d.Summary()+d.Detail(), n) {
					t.Errorf("diagnostic has %q:\n%s\n%s", n, d.Summary(), d.Detail())
				}
			}
		})
	}
}

func TestMissingKeys_grammar(t *testing.T) {
	for _, tt := range []struct{ pub, priv, want string }{
		{"", "", "public key and the private key are"},
		{"", "x", "public key is"},
		{"x", "", "private key is"},
	} {
		if got := missingKeys(tt.pub, tt.priv); got != tt.want {
			t.Errorf("missingKeys(%q, %q) = %q, want %q", tt.pub, tt.priv, got, tt.want)
		}
	}
}

func TestRenewalDue(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	job := func(expires, scheduled, renew string) *downloadJob {
		j := &downloadJob{RenewBefore: types.StringNull()}
		j.ID = types.StringValue("6568a1b2c3d4e5f6000000b1")
		j.ExpirationDate = optionalString(expires)
		j.RestoreScheduledDate = optionalString(scheduled)
		if renew != "" {
			j.RenewBefore = types.StringValue(renew)
		}
		return j
	}
	tests := []struct {
		name string
		job  *downloadJob
		want string // a part of the reason, "" for none
	}{
		{"fresh link, no window", job("2026-11-28T18:00:00Z", "", ""), ""},
		{"fresh link outside the window", job("2026-11-28T18:00:00Z", "", "2h"), ""},
		{"inside the window", job("2026-11-28T16:00:00Z", "", "2h"), "within renew_before (2h)"},
		{"exactly at the window's edge", job("2026-11-28T17:00:00Z", "", "2h"), "within renew_before"},
		{"expired", job("2026-11-28T14:59:59Z", "", ""), "expired at 2026-11-28T14:59:59Z"},
		{"expiry from the request time when Atlas sent none", job("", "2026-11-28T10:30:00Z", ""), "expired at 2026-11-28T14:30:00Z"},
		{"nothing to go by", job("", "", "1h"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renewalDue(tt.job, now)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("renewalDue = %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// TestEveryProblemIsWorded: each kind of problem the client reports has a
// phrase here, where the user's words are; a kind added to internal/atlas
// without one fails this test.
func TestEveryProblemIsWorded(t *testing.T) {
	for p := atlas.BaseURLEmpty; p <= atlas.BaseURLPlainHTTP; p++ {
		if baseURLProblems[p] == "" {
			t.Errorf("base URL problem %d has no wording", p)
		}
	}
	for p := atlas.LockDirUnresolvable; p <= atlas.LockFileUnopenable; p++ {
		if lockDirProblems[p] == "" {
			t.Errorf("lock directory problem %d has no wording", p)
		}
	}
	for _, p := range []*atlas.PermanentFailure{
		{Kind: atlas.UntrustedCertificate, Detail: "x509: certificate signed by unknown authority"},
		{Kind: atlas.UnknownHost},
		{Kind: atlas.RedirectRefused, Detail: "elsewhere.example"},
		{Kind: atlas.RedirectRefused},
	} {
		if got := permanentPhrase(p); got == "" || (p.Detail != "" && !strings.Contains(got, p.Detail)) {
			t.Errorf("permanentPhrase(%+v) = %q", p, got)
		}
	}
}

// TestUnconfirmedSaysWhyTheSearchEnded: the reason a search for a lost job
// settled nothing is worded here, whatever the client's error says.
func TestUnconfirmedSaysWhyTheSearchEnded(t *testing.T) {
	for _, tt := range []struct {
		recovery error
		want     string
	}{
		{atlas.ErrNotListed, "no job of the request was listed yet"},
		{context.DeadlineExceeded, "the time allowed ran out while the provider looked"},
		{fmt.Errorf("listing: %w", context.Canceled), "the run was interrupted while the provider looked"},
		{&atlas.Error{Method: "GET", Path: "/x", StatusCode: 500, ErrorCode: "UNEXPECTED_ERROR"}, "GET /x: HTTP 500 UNEXPECTED_ERROR"},
	} {
		var diags diag.Diagnostics
		addUnconfirmed(&diags, tenantDownload, "request a download", &atlas.UnconfirmedDownloadError{
			Cluster:    atlas.Cluster{Family: atlas.TenantV1, ProjectID: "6568a1b2c3d4e5f601234567", Name: "Cluster0"},
			SnapshotID: "6568a1b2c3d4e5f6000000a1", Err: errors.New("atlas: POST /x: EOF"), RecoveryErr: tt.recovery,
		})
		if len(diags) != 1 || !strings.Contains(diags[0].Detail(), "("+tt.want) {
			t.Errorf("RecoveryErr %v: %v, want the reason %q", tt.recovery, diags, tt.want)
		}
	}
}
