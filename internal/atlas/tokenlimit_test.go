// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// The token endpoint's 429 ("limited to 10 requests every 1 minutes") is
// waited out as Retry-After says, however many times it comes, without
// using up the retry policy's attempts.
func TestServiceAccount_tokenRateLimitWaitedOut(t *testing.T) {
	s, srv := newOAuthServer(t)
	for range 10 {
		s.script = append(s.script, []string{"429", "Retry-After: 60"})
	}
	// One exchange's timeout does not bound the wait: the waits are on a
	// fake clock that starts at the real time, and the exchange's timeout
	// is a real deadline much shorter than Retry-After.
	s.clock = fakeclock.New(time.Now())
	c := s.client(t, srv.URL, func(cfg *Config) { cfg.Timeout = 10 * time.Second })
	if err := fetchJob(c); err != nil {
		t.Fatalf("after ten 429s: %v", err)
	}
	if n := s.tokenReqs.Load(); n != 11 {
		t.Errorf("token requests = %d, want 11", n)
	}
	for i, d := range s.clock.Sleeps() {
		if d < 60*time.Second {
			t.Errorf("wait %d = %s, shorter than Retry-After", i+1, d)
		}
	}
}

// The waits stop at the operation's deadline: a 429 whose Retry-After
// ends after it is returned at once, typed.
func TestServiceAccount_tokenRateLimitWithinDeadline(t *testing.T) {
	s, srv := newOAuthServer(t)
	s.script = [][]string{{"429", "Retry-After: 60"}, {"429", "Retry-After: 60"}}
	// The context's deadline is on the real clock, so this test's fake
	// one starts at the real time.
	s.clock = fakeclock.New(time.Now())
	c := s.client(t, srv.URL)
	ctx, cancel := context.WithDeadline(context.Background(), s.clock.Now().Add(90*time.Second))
	defer cancel()
	_, err := c.GetRestoreJob(ctx, testCluster, testJobID)
	var te *TokenError
	if !errors.As(err, &te) || te.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want a TokenError with HTTP 429", err)
	}
	if n, waits := s.tokenReqs.Load(), s.clock.Sleeps(); n != 2 || len(waits) != 1 {
		t.Errorf("%d token requests and waits %v; want 2 requests and one wait", n, waits)
	}
}
