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
	"time"

	"github.com/icholy/digest"

	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

const (
	testUser  = "testpub"
	testPass  = "test-private-key-0000"
	testRealm = "MMS Public API"
)

// authServer is a digest-checking front for test handlers. It can expire
// nonces after a number of uses (answering stale=true) and can demand
// strictly increasing nonce counts, like a strict Atlas would.
type authServer struct {
	t          *testing.T
	next       http.Handler
	strict     bool
	nonceUses  int // 0: unlimited
	mu         sync.Mutex
	nonces     map[string]*nonceState
	challenges atomic.Int64
	unsigned   atomic.Int64
	rejected   atomic.Int64
	requests   atomic.Int64
	// now, when set, is the server clock: every answer's Date, the
	// challenges' included, comes from it.
	now func() time.Time
}

type nonceState struct {
	maxNC int
	seen  map[int]bool
	uses  int
}

func newAuthServer(t *testing.T, next http.Handler) *authServer {
	return &authServer{t: t, next: next, nonces: map[string]*nonceState{}}
}

func (s *authServer) start() (*httptest.Server, *Client) {
	srv := httptest.NewServer(s)
	s.t.Cleanup(srv.Close)
	return srv, testClient(s.t, srv.URL, testUser, testPass)
}

func testClient(t *testing.T, base, user, pass string) *Client {
	t.Helper()
	c, err := New(Config{
		BaseURL: base, PublicKey: user, PrivateKey: pass,
		Sleep:  func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		Jitter: func() float64 { return 0.5 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *authServer) challenge(w http.ResponseWriter, stale bool) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := hex.EncodeToString(b)
	s.mu.Lock()
	s.nonces[nonce] = &nonceState{seen: map[int]bool{}}
	s.mu.Unlock()
	s.challenges.Add(1)
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(
		`Digest realm="%s", domain="", nonce="%s", algorithm=MD5, qop="auth", stale=%t`, testRealm, nonce, stale))
	w.Header().Set("Content-Type", "application/json;charset=ISO-8859-1")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprint(w, `{"detail":"You are not authorized for this resource.","error":401,"errorCode":"USER_UNAUTHORIZED","parameters":[],"reason":"Unauthorized"}`)
}

func (s *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.now != nil {
		w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		s.unsigned.Add(1)
		s.challenge(w, false)
		return
	}
	cred, err := digest.ParseCredentials(h)
	if err != nil {
		s.rejected.Add(1)
		s.challenge(w, false)
		return
	}
	s.mu.Lock()
	ns, ok := s.nonces[cred.Nonce]
	verdict := "ok"
	switch {
	case !ok:
		verdict = "unknown"
	case s.nonceUses > 0 && ns.uses >= s.nonceUses:
		verdict = "stale"
	case ns.seen[cred.Nc] || (s.strict && cred.Nc <= ns.maxNC):
		verdict = "replay"
	default:
		ns.uses++
		ns.seen[cred.Nc] = true
		if cred.Nc > ns.maxNC {
			ns.maxNC = cred.Nc
		}
	}
	s.mu.Unlock()
	if verdict == "stale" {
		s.rejected.Add(1)
		s.challenge(w, true)
		return
	}
	want, _ := digest.Digest(&digest.Challenge{Realm: testRealm, Nonce: cred.Nonce, Algorithm: "MD5", QOP: []string{"auth"}},
		digest.Options{Method: r.Method, URI: r.URL.RequestURI(), Count: cred.Nc, Username: testUser, Password: testPass, Cnonce: cred.Cnonce})
	if verdict != "ok" || cred.Username != testUser || cred.URI != r.URL.RequestURI() || cred.Response != want.Response {
		s.rejected.Add(1)
		s.challenge(w, false)
		return
	}
	s.next.ServeHTTP(w, r)
}

// jsonHandler answers every request with status and body.
func jsonHandler(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

const jobJSON = `{"id":"6568a1b2c3d4e5f6000000b1","clusterName":"Cluster0","projectId":"6568a1b2c3d4e5f601234567",
"deliveryType":"DOWNLOAD","status":"COMPLETED","snapshotId":"6568a1b2c3d4e5f6000000a1",
"snapshotUrl":"https://example.invalid/restore.tar.gz?token=secret","expirationDate":"2026-11-28T16:00:00Z",
"restoreScheduledDate":"2026-11-28T12:00:00Z","unknownField":{"nested":true}}`

var testCluster = Cluster{Family: TenantV1, ProjectID: "6568a1b2c3d4e5f601234567", Name: "Cluster0"}

// fakeClock is the tests' clock: waits move it instead of passing real
// time.
type fakeClock = fakeclock.Clock

// clockStart is a whole second; tests add fractions where they matter.
var clockStart = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// clockClient is a client on clock, whose own clock runs ahead of it by
// ahead, with no jitter.
func clockClient(t *testing.T, base string, clock *fakeClock, ahead time.Duration, policy RetryPolicy) *Client {
	t.Helper()
	c, err := New(Config{
		BaseURL: base, PublicKey: testUser, PrivateKey: testPass,
		Now:    func() time.Time { return clock.Now().Add(ahead) },
		Sleep:  clock.Sleep,
		Jitter: func() float64 { return 0 },
		Retry:  policy,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
