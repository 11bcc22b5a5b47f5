// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// TestParallelDownloadsUnderFaults requests many downloads of one snapshot
// at once from a simulator that loses answers after acting, fails requests
// without acting, rate limits, expires nonces and checks nonce counts
// strictly. Every call must end with its own job, and the simulator must
// hold exactly one job per call.
func TestParallelDownloadsUnderFaults(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	sim, err := atlassim.New(atlassim.Config{Now: clock.Now, Faults: atlassim.Faults{
		ErrorRate:         0.15,
		DropRate:          0.15,
		RateLimitCapacity: 40,
		RateLimitRefill:   40,
		RateLimitPeriod:   time.Second,
		NonceLifetime:     2 * time.Second,
		StrictNonceCount:  true,
		RandSeed:          7,
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := New(Config{
		BaseURL: srv.URL, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		Retry: RetryPolicy{MaxAttempts: 20, MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
		// Waits move the simulator's clock, so rate limits refill and
		// nonces expire without real time passing.
		Now:   clock.Now,
		Sleep: clock.Sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, errs := requestMany(c, 60)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	checkOneJobEach(t, sim, ids)
	st := sim.Stats()
	t.Logf("requests %d, challenges %d, faults %+v", st.TotalRequests, st.DigestChallenges, st.Faults)
	if st.Faults.Dropped == 0 || st.Faults.Injected5xx == 0 {
		t.Errorf("the faults did not fire: %+v", st.Faults)
	}
}

// testClock is a clock that waits advance. Waits that overlap overlap in
// its time too: a wait moves the clock to when it ends, if that is later,
// so sixty parallel one-second waits take one second, not a minute.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	start := c.now
	c.mu.Unlock()
	// Let the other callers take their turn on the same instant first.
	runtime.Gosched()
	c.mu.Lock()
	if end := start.Add(d); end.After(c.now) {
		c.now = end
	}
	c.mu.Unlock()
	return ctx.Err()
}
