// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestDigestRefusalReachesTheProbesWaiters: cold parallel calls wait for one
// probe of the digest challenge. When that probe shows the keys refused, the
// calls waiting for it that ask for the same access fail with the same 401
// without sending anything; calls for another project or another kind of
// access (a role can be missing for one and not the other) probe for
// themselves, and so does a call started afterwards.
func TestDigestRefusalReachesTheProbesWaiters(t *testing.T) {
	const (
		waiters    = 9
		jobID      = "6568a1b2c3d4e5f6000000b1"
		otherJobID = "6568a1b2c3d4e5f6000000b2"
	)
	otherProject := Cluster{Family: TenantV1, ProjectID: "6568a1b2c3d4e5f60123ffff", Name: "Cluster0"}
	get := func(cl Cluster, id string) func(*Client) error {
		return func(c *Client) error {
			_, err := c.GetRestoreJob(context.Background(), cl, id)
			return err
		}
	}
	download := func(cl Cluster) func(*Client) error {
		return func(c *Client) error {
			_, err := c.RequestDownload(context.Background(), cl, testSnapshot)
			return err
		}
	}
	tests := []struct {
		name string
		key  string // the client's private key
		// refuse, when set, makes the server refuse correctly signed
		// requests the way it refuses wrong keys (a role the keys lack).
		refuse         func(r *http.Request) bool
		leader, waiter func(*Client) error
		wantWaiters401 bool
		maxRequests    int64 // for the whole batch; 0: no bound
	}{
		{
			name: "wrong keys", key: "wrong-private-key",
			leader: get(testCluster, jobID), waiter: get(testCluster, otherJobID),
			wantWaiters401: true, maxRequests: 4,
		},
		{
			name: "wrong keys, downloads", key: "wrong-private-key",
			leader: download(testCluster), waiter: download(testCluster),
			wantWaiters401: true, maxRequests: 4,
		},
		{
			name: "refused on one project, waiters on another", key: testPass,
			refuse: func(r *http.Request) bool { return strings.Contains(r.URL.Path, otherProject.ProjectID) },
			leader: get(otherProject, jobID), waiter: get(testCluster, jobID),
		},
		{
			name: "download refused, reads of the same project waiting", key: testPass,
			refuse: func(r *http.Request) bool { return r.Method == http.MethodPost },
			leader: download(testCluster), waiter: get(testCluster, jobID),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newAuthServer(t, nil)
			as.next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.refuse != nil && tt.refuse(r) {
					as.challenge(w, false)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(jobJSON))
			})
			// The leader's probe is held until every waiter waits for it.
			arrived, ready := make(chan struct{}), make(chan struct{})
			var first sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				held := false
				first.Do(func() { held = true })
				if held {
					close(arrived)
					<-ready
				}
				as.ServeHTTP(w, r)
			}))
			defer srv.Close()
			c := testClient(t, srv.URL, testUser, tt.key)
			var waiting atomic.Int64
			var release sync.Once
			c.digest.waitHook = func() {
				if waiting.Add(1) >= waiters {
					release.Do(func() { close(ready) })
				}
			}

			leaderErr := make(chan error, 1)
			go func() { leaderErr <- tt.leader(c) }()
			<-arrived
			errs := make([]error, waiters)
			var wg sync.WaitGroup
			for i := range waiters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = tt.waiter(c)
				}()
			}
			wg.Wait()
			if err := <-leaderErr; !is401(err) {
				t.Errorf("leader: err = %v, want a 401 *Error", err)
			}
			for i, err := range errs {
				if tt.wantWaiters401 != is401(err) {
					t.Errorf("waiter %d: err = %v; a 401 *Error wanted: %v", i, err, tt.wantWaiters401)
				}
				if err != nil && strings.Contains(err.Error(), tt.key) {
					t.Errorf("waiter %d: the error holds the key", i)
				}
			}
			requests := as.requests.Load()
			if tt.maxRequests > 0 && requests > tt.maxRequests {
				t.Errorf("requests = %d for %d parallel calls, want at most %d", requests, waiters+1, tt.maxRequests)
			}
			t.Logf("%d requests for %d parallel calls", requests, waiters+1)

			// Nothing is kept once the waiters have their answer.
			_ = tt.waiter(c)
			if tt.wantWaiters401 && as.requests.Load() == requests {
				t.Error("a call after the batch sent nothing: the refusal was cached")
			}
		})
	}
}

func is401(err error) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized && ae.ErrorCode == "USER_UNAUTHORIZED"
}
