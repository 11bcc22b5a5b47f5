// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// TestDeadlinesAreCountedOnTheClientsClock: a call whose ctx has ten
// minutes left goes on retrying for ten minutes of the client's clock, and
// no longer, however far that clock is from the wall clock that ctx's
// deadline is on. Each loop that waits is tried: the API send loop, the
// download request waiting out Atlas's limits, and the token request.
func TestDeadlinesAreCountedOnTheClientsClock(t *testing.T) {
	const budget = 10 * time.Minute
	policy := RetryPolicy{MaxAttempts: 100, MinDelay: time.Minute, MaxDelay: time.Minute}
	calls := map[string]func(t *testing.T, clock *fakeClock, ctx context.Context){
		"get": func(t *testing.T, clock *fakeClock, ctx context.Context) {
			as := newAuthServer(t, jsonHandler(503, `{"error":503,"errorCode":"SERVICE_UNAVAILABLE"}`))
			srv := httptest.NewServer(as)
			t.Cleanup(srv.Close)
			c := clockClient(t, srv.URL, clock, 0, policy)
			if _, err := c.GetRestoreJob(ctx, testCluster, testJobID); err == nil {
				t.Fatal("a read of an endpoint that always fails succeeded")
			}
		},
		"download limits": func(t *testing.T, clock *fakeClock, ctx context.Context) {
			ds := &downloadServer{steps: make([]string, 100)}
			for i := range ds.steps {
				ds.steps[i] = "limit"
			}
			c := clockClient(t, startDownloadServer(t, ds, clock), clock, 0, policy)
			if _, err := c.RequestDownload(ctx, testCluster, testSnapshot); !IsDownloadLimit(err) {
				t.Fatalf("err = %v, want Atlas's download-limit refusal", err)
			}
		},
		"token": func(t *testing.T, clock *fakeClock, ctx context.Context) {
			s, srv := newOAuthServer(t)
			s.clock = clock
			for range 100 {
				s.script = append(s.script, []string{"503"})
			}
			// The token is fetched inside the API request's exchange,
			// which Timeout bounds too.
			c := s.client(t, srv.URL, func(cfg *Config) { cfg.Retry, cfg.Timeout = policy, time.Hour })
			if _, err := c.GetRestoreJob(ctx, testCluster, testJobID); err == nil {
				t.Fatal("a call without a token succeeded")
			}
		},
	}
	for name, call := range calls {
		for _, offset := range []time.Duration{-365 * 24 * time.Hour, 365 * 24 * time.Hour} {
			t.Run(fmt.Sprintf("%s, clock %s off", name, offset), func(t *testing.T) {
				clock := fakeclock.New(time.Now().Add(offset).Truncate(time.Second))
				ctx, cancel := context.WithTimeout(context.Background(), budget)
				defer cancel()
				start := clock.Now()
				call(t, clock, ctx)
				waited := clock.Now().Sub(start)
				if waited > budget || waited < budget-policy.MaxDelay {
					t.Errorf("waited %s on the client's clock in %d waits, want up to the %s ctx had left", waited, len(clock.Sleeps()), budget)
				}
			})
		}
	}
}
