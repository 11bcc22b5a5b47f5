// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// stallingListener accepts connections and never answers on them.
func stallingListener(t *testing.T) (url string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int32)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String(), accepted
}

// TestStalledEndpointCostsBoundedAttempts: an endpoint that accepts and
// never answers costs FirstByteTimeout per attempt, and the error says how
// long each attempt waited.
func TestStalledEndpointCostsBoundedAttempts(t *testing.T) {
	url, accepted := stallingListener(t)
	c, err := New(Config{
		BaseURL: url, PublicKey: testUser, PrivateKey: testPass,
		FirstByteTimeout: 50 * time.Millisecond,
		Retry:            RetryPolicy{MaxAttempts: 3, MinDelay: time.Millisecond, MaxDelay: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRestoreJob(context.Background(), testCluster, testJobID)
	var na *NoAnswerError
	if !errors.As(err, &na) || na.Waited != 50*time.Millisecond || !Unreachable(err) {
		t.Fatalf("err = %v, want an unreachable *NoAnswerError of 50ms", err)
	}
	if n := accepted.Load(); n != 3 {
		t.Errorf("%d connections for 3 attempts", n)
	}
}

// TestNothingIsSentAfterTheContextEnds: a call whose context has ended
// (an interrupt, a timeout of zero) sends nothing and says so, rather than
// "may have created".
func TestNothingIsSentAfterTheContextEnds(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, PublicKey: testUser, PrivateKey: testPass})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	for name, ctx := range map[string]context.Context{"cancelled": cancelled, "expired": expired} {
		_, err := c.RequestDownload(ctx, testCluster, testSnapshot)
		var ns *NotSentError
		var ue *UnconfirmedJobError
		if !errors.As(err, &ns) || errors.As(err, &ue) || !errors.Is(err, ctx.Err()) {
			t.Errorf("%s: RequestDownload = %v, want a *NotSentError for %v", name, err, ctx.Err())
		}
		if _, err := c.GetRestoreJob(ctx, testCluster, testJobID); !errors.As(err, &ns) {
			t.Errorf("%s: GetRestoreJob = %v, want a *NotSentError", name, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server saw %d requests", n)
	}
}
