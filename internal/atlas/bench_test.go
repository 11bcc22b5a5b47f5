// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/icholy/digest"
)

// The benchmarks measure the client's own request path: building the
// request, signing it with the cached digest challenge, one loopback round
// trip, and decoding and checking the answer. The server checks every
// signature, so a client that stopped signing correctly would show up as
// extra challenges per operation rather than as a faster number.

const (
	benchUser  = "benchpub"
	benchPass  = "bench-private-key-0000"
	benchRealm = "MMS Public API"
	benchJobID = "6568a1b2c3d4e5f6000000c1"
)

const benchJobJSON = `{"id":"6568a1b2c3d4e5f6000000c1","clusterName":"Cluster0",` +
	`"projectId":"6568a1b2c3d4e5f601234567","deliveryType":"DOWNLOAD","status":"COMPLETED",` +
	`"snapshotId":"6568a1b2c3d4e5f6000000a1",` +
	`"snapshotUrl":"https://example.invalid/restore.tar.gz?token=bench","expirationDate":"2026-11-28T16:00:00Z",` +
	`"restoreScheduledDate":"2026-11-28T12:00:00Z","restoreFinishedDate":"2026-11-28T12:00:01Z",` +
	`"snapshotFinishedDate":"2026-11-28T12:01:00Z","targetProjectId":"6568a1b2c3d4e5f601234567",` +
	`"targetDeploymentItemName":"Cluster0","links":[{"rel":"self","href":"https://example.invalid/x"}]}`

var benchCluster = Cluster{Family: TenantV1, ProjectID: "6568a1b2c3d4e5f601234567", Name: "Cluster0"}

// benchDigestServer answers every correctly signed request with a download
// job and everything else with a fresh digest challenge, as Atlas does.
type benchDigestServer struct {
	mu         sync.Mutex
	nonces     map[string]bool
	requests   atomic.Int64
	challenges atomic.Int64
}

func (s *benchDigestServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if !s.authorized(r) {
		s.challenge(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodPost {
		w.WriteHeader(http.StatusOK)
	}
	fmt.Fprint(w, benchJobJSON)
}

func (s *benchDigestServer) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		return false
	}
	cred, err := digest.ParseCredentials(h)
	if err != nil || cred.Username != benchUser || cred.URI != r.URL.RequestURI() {
		return false
	}
	s.mu.Lock()
	known := s.nonces[cred.Nonce]
	s.mu.Unlock()
	if !known {
		return false
	}
	want, err := digest.Digest(
		&digest.Challenge{Realm: benchRealm, Nonce: cred.Nonce, Algorithm: "MD5", QOP: []string{"auth"}},
		digest.Options{Method: r.Method, URI: r.URL.RequestURI(), Count: cred.Nc, Cnonce: cred.Cnonce,
			Username: benchUser, Password: benchPass})
	return err == nil && cred.Response == want.Response
}

func (s *benchDigestServer) challenge(w http.ResponseWriter) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := hex.EncodeToString(b)
	s.mu.Lock()
	s.nonces[nonce] = true
	s.mu.Unlock()
	s.challenges.Add(1)
	w.Header().Set("WWW-Authenticate",
		fmt.Sprintf(`Digest realm="%s", domain="", nonce="%s", algorithm=MD5, qop="auth", stale=false`, benchRealm, nonce))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprint(w, `{"detail":"You are not authorized for this resource.","error":401,"errorCode":"USER_UNAUTHORIZED","parameters":[],"reason":"Unauthorized"}`)
}

// startBench starts the server and a client that has already learnt the
// challenge, so the timed loop sees the steady state.
func startBench(b *testing.B, warm func(*Client) error) (*benchDigestServer, *Client) {
	b.Helper()
	s := &benchDigestServer{nonces: map[string]bool{}}
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, PublicKey: benchUser, PrivateKey: benchPass})
	if err != nil {
		b.Fatal(err)
	}
	if err := warm(c); err != nil {
		b.Fatal(err)
	}
	s.requests.Store(0)
	s.challenges.Store(0)
	return s, c
}

// report adds round trips per call and challenges per call next to ns/op:
// the first should stay at 1, the second at 0.
func (s *benchDigestServer) report(b *testing.B) {
	b.ReportMetric(float64(s.requests.Load())/float64(b.N), "reqs/op")
	b.ReportMetric(float64(s.challenges.Load())/float64(b.N), "challenges/op")
}

func getJob(c *Client) error {
	_, err := c.GetRestoreJob(context.Background(), benchCluster, benchJobID)
	return err
}

func requestDownload(c *Client) error {
	_, err := c.RequestDownload(context.Background(), benchCluster, "6568a1b2c3d4e5f6000000a1")
	return err
}

func benchSerial(b *testing.B, call func(*Client) error) {
	s, c := startBench(b, call)
	b.ReportAllocs()
	for b.Loop() {
		if err := call(c); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s.report(b)
}

func benchParallel(b *testing.B, call func(*Client) error) {
	s, c := startBench(b, call)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := call(c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	s.report(b)
}

func BenchmarkGetRestoreJob(b *testing.B) { benchSerial(b, getJob) }

func BenchmarkGetRestoreJobParallel(b *testing.B) { benchParallel(b, getJob) }

func BenchmarkRequestDownload(b *testing.B) { benchSerial(b, requestDownload) }

func BenchmarkRequestDownloadParallel(b *testing.B) { benchParallel(b, requestDownload) }
