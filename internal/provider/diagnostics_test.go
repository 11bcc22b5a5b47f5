// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
		{
			name:    "a request interrupted before it was sent asked Atlas nothing",
			kind:    tenantDownload,
			err:     &atlas.NotSentError{Err: context.Canceled},
			summary: "Interrupted Before Contacting Atlas", want: []string{"Atlas was asked nothing"},
			not: []string{"retried with backoff", "May Have Created"},
		},
		{
			name:    "a timeout spent before sending says so",
			kind:    tenantDownload,
			err:     &atlas.NotSentError{Err: context.DeadlineExceeded},
			summary: "Timed Out Before Contacting Atlas", want: []string{"before the request was sent"},
			not: []string{"retried with backoff", "May Have Created"},
		},
		{
			name:    "an endpoint that never answers is named, with the wait",
			kind:    tenantDownload,
			err:     fmt.Errorf("atlas: GET /x: %w", &atlas.NoAnswerError{BaseURL: "https://atlas.example", Waited: 30 * time.Second}),
			summary: "Atlas Did Not Answer", want: []string{"base_url (https://atlas.example)", "within 30s"},
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

// TestAddUnconfirmed_candidates: when several jobs could be the lost
// request's, the message names each and how to import one, and why none
// was taken.
func TestAddUnconfirmed_candidates(t *testing.T) {
	var diags diag.Diagnostics
	addUnconfirmed(&diags, tenantDownload, "request a download", &atlas.UnconfirmedJobError{
		Cluster:    atlas.Cluster{Family: atlas.TenantV1, ProjectID: "6568a1b2c3d4e5f601234567", Name: "Cluster0"},
		SnapshotID: "6568a1b2c3d4e5f6000000a1", Err: errors.New("atlas: POST /x: EOF"),
		RecoveryErr: &atlas.AmbiguousJobsError{JobIDs: []string{"aaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaa2"}},
		Candidates:  []string{"aaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaa2"},
	})
	if len(diags) != 1 || diags[0].Summary() != "Atlas May Have Created a Download Job" {
		t.Fatalf("diags = %v", diags)
	}
	d := diags[0].Detail()
	for _, want := range []string{"aaaaaaaaaaaaaaaaaaaaaaa1, aaaaaaaaaaaaaaaaaaaaaaa2", "6568a1b2c3d4e5f601234567/Cluster0/<job id>", "took none rather than risk sharing"} {
		if !strings.Contains(d, want) {
			t.Errorf("detail lacks %q:\n%s", want, d)
		}
	}
	if strings.Count(d, "aaaaaaaaaaaaaaaaaaaaaaa1") != 1 {
		t.Errorf("detail repeats the candidates:\n%s", d)
	}
	// A restore's message names them once too.
	diags = nil
	ue := &atlas.UnconfirmedJobError{
		Cluster:    atlas.Cluster{Family: atlas.Flex, ProjectID: "6568a1b2c3d4e5f601234567", Name: "Flex0"},
		SnapshotID: "6568a1b2c3d4e5f6000000a1", Restore: true, TargetName: "Staging", Err: errors.New("atlas: POST /x: EOF"),
		RecoveryErr: &atlas.AmbiguousJobsError{JobIDs: []string{"aaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaa2"}},
		Candidates:  []string{"aaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaa2"},
	}
	addUnconfirmedRestore(&diags, "restore a snapshot", ue)
	if d := diags[0].Detail(); strings.Count(d, "aaaaaaaaaaaaaaaaaaaaaaa1") != 1 || !strings.Contains(d, "more than one job could be it") {
		t.Errorf("restore detail names the candidates other than once, or not why:\n%s", d)
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
