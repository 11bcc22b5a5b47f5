// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// limitClient is a client on clock that records what it logs.
func limitClient(t *testing.T, base string, clock *fakeClock, logged *[]map[string]any) *Client {
	t.Helper()
	var mu sync.Mutex
	c, err := New(Config{
		BaseURL: base, PublicKey: testUser, PrivateKey: testPass,
		Now: clock.Now, Sleep: clock.Sleep, Jitter: func() float64 { return 0 },
		Log: func(_ context.Context, msg string, fields map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			f := map[string]any{"msg": msg}
			for k, v := range fields {
				f[k] = v
			}
			*logged = append(*logged, f)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDownloadLimitsAreWaitedOut: a download refused for download limits
// (Atlas did nothing) is asked again after a wait, as often as ctx allows,
// with waits that grow and honour Retry-After, each one logged with the code.
func TestDownloadLimitsAreWaitedOut(t *testing.T) {
	clock := fakeclock.New(clockStart)
	ds := &downloadServer{steps: []string{"limit", "limit-concurrent+ra", "limit", "ok"}}
	var logged []map[string]any
	c := limitClient(t, startDownloadServer(t, ds, clock), clock, &logged)
	job, err := c.RequestDownload(context.Background(), testCluster, testSnapshot)
	if err != nil {
		t.Fatalf("RequestDownload: %v", err)
	}
	if ids := ds.jobIDs(); len(ids) != 1 || job.ID != ids[0] || ds.posts != 4 || ds.lists != 0 {
		t.Fatalf("job %s, server %v after %d POSTs and %d lists; want its one job after 4 POSTs and no search", job.ID, ids, ds.posts, ds.lists)
	}
	// Default policy, no jitter: steps of 0.5s, 1s, 2s, halved; Retry-After 40s wins.
	want := []time.Duration{250 * time.Millisecond, 40 * time.Second, time.Second}
	if got := clock.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
	codes := []string{"TOO_MANY_SNAPSHOT_DOWNLOADS", "CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY", "TOO_MANY_SNAPSHOT_DOWNLOADS"}
	var waits []map[string]any
	for _, e := range logged {
		if e["msg"] == "waiting for atlas download limits" {
			waits = append(waits, e)
		}
	}
	if len(waits) != len(codes) {
		t.Fatalf("logged %d waits, want %d: %v", len(waits), len(codes), logged)
	}
	for i, e := range waits {
		if e["error_code"] != codes[i] || e["delay"] != want[i].String() || e["attempt"] != i+1 {
			t.Errorf("log entry %d = %v, want code %s, delay %s, attempt %d", i, e, codes[i], want[i], i+1)
		}
	}
}

// TestDownloadLimitsUntilTheDeadline: limits that never clear end the call
// at ctx's deadline with Atlas's refusal, having made no job, after more
// tries than the retry policy's attempts but a bounded number of them.
func TestDownloadLimitsUntilTheDeadline(t *testing.T) {
	for _, tt := range []struct {
		name string
		ctx  func(clock *fakeClock) (context.Context, context.CancelFunc)
	}{
		{"deadline in 10 minutes", func(*fakeClock) (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Minute)
		}},
		{"cancelled after 12 waits", func(clock *fakeClock) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			clock.OnSleep(func(n int) error {
				if n == 12 {
					cancel()
				}
				return nil
			})
			return ctx, cancel
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New(clockStart)
			ds := &downloadServer{steps: make([]string, 1000)}
			for i := range ds.steps {
				ds.steps[i] = "limit"
			}
			var logged []map[string]any
			c := limitClient(t, startDownloadServer(t, ds, clock), clock, &logged)
			ctx, cancel := tt.ctx(clock)
			defer cancel()
			start := clock.Now()
			_, err := c.RequestDownload(ctx, testCluster, testSnapshot)
			var ae *Error
			if !errors.As(err, &ae) || ae.StatusCode != 400 || !IsDownloadLimit(err) {
				t.Fatalf("err = %v, want Atlas's 400 download-limit *Error", err)
			}
			if len(ds.jobs) != 0 || ds.lists != 0 {
				t.Errorf("server holds %d jobs and saw %d lists, want none", len(ds.jobs), ds.lists)
			}
			if ds.posts <= c.retry.MaxAttempts || ds.posts > 60 {
				t.Errorf("POSTs = %d, want more than MaxAttempts (%d) and at most 60", ds.posts, c.retry.MaxAttempts)
			}
			if waited := clock.Now().Sub(start); waited > 10*time.Minute {
				t.Errorf("waited %s, past the deadline", waited)
			}
			for _, d := range clock.Sleeps() {
				if d > c.retry.MaxDelay {
					t.Errorf("a wait of %s exceeds MaxDelay %s", d, c.retry.MaxDelay)
				}
			}
		})
	}
}

// TestDownloadLimitAfterALostAnswerLooksAgain: an answer was lost and the
// list did not show its job yet, and the retry is refused because the
// snapshot has a download under way: that is our own job, found by looking
// again instead of waiting for it to finish and making a second one.
func TestDownloadLimitAfterALostAnswerLooksAgain(t *testing.T) {
	clock := fakeclock.New(clockStart)
	ds := &downloadServer{steps: []string{"drop", "limit-concurrent", "ok"}, listSteps: []string{"empty", "ok"}}
	var logged []map[string]any
	c := limitClient(t, startDownloadServer(t, ds, clock), clock, &logged)
	job, err := c.RequestDownload(context.Background(), testCluster, testSnapshot)
	if err != nil {
		t.Fatalf("RequestDownload: %v", err)
	}
	if ids := ds.jobIDs(); len(ids) != 1 || job.ID != ids[0] || ds.posts != 2 || ds.lists != 2 {
		t.Errorf("job %s, server %v after %d POSTs and %d lists; want its one job after 2 POSTs and 2 lists", job.ID, ids, ds.posts, ds.lists)
	}
}

func TestIsDownloadLimit(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&Error{StatusCode: 400, ErrorCode: "TOO_MANY_SNAPSHOT_DOWNLOADS"}, true},
		{fmt.Errorf("wrapped: %w", &Error{StatusCode: 400, ErrorCode: "CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY"}), true},
		{&Error{StatusCode: 400, ErrorCode: "VALIDATION_ERROR"}, false},
		{errors.New("TOO_MANY_SNAPSHOT_DOWNLOADS"), false},
		{nil, false},
	} {
		if got := IsDownloadLimit(tt.err); got != tt.want {
			t.Errorf("IsDownloadLimit(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
