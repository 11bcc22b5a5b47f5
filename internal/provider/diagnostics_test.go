// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
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

// TestPermanentPhrase names each kind of failure that cannot mend, with
// what the client found out about it.
func TestPermanentPhrase(t *testing.T) {
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

// An untrusted certificate is not retried: the first attempt fails, and
// the error names base_url.
func TestAccLifecycle_untrustedCertificateFailsAtOnce(t *testing.T) {
	sim, err := atlassim.New(atlassim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(sim)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	env := newTestEnv(t, atlassim.Config{})
	env.url = srv.URL // https on loopback, signed by a CA the provider does not trust
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: env.factories(),
		Steps: []resource.TestStep{{
			Config:      env.tenantConfig(atlassim.DefaultClusterName, atlassim.DefaultSnapshotID, ""),
			ExpectError: wrapped(`(?s)Cannot Reach Atlas.*certificate is not trusted.*did not retry.*base_url`),
		}},
	})
	if n := conns.Load(); n != 1 {
		t.Errorf("the provider opened %d connections, want 1 (no retries)", n)
	}
}
