// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingSleepsClient is a client whose waits between attempts are counted
// and pass no time.
func countingSleepsClient(t *testing.T, cfg Config, sleeps *atomic.Int64) *Client {
	t.Helper()
	cfg.PublicKey, cfg.PrivateKey = testUser, testPass
	cfg.Sleep = func(ctx context.Context, _ time.Duration) error {
		sleeps.Add(1)
		return ctx.Err()
	}
	cfg.Jitter = func() float64 { return 0 }
	cfg.Retry = RetryPolicy{MaxAttempts: 5}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dnsFailingTransport fails every dial as the resolver would with dnsErr,
// counting the dials. No name is resolved for real.
func dnsFailingTransport(dnsErr *net.DNSError, dials *atomic.Int64) http.RoundTripper {
	return &http.Transport{DialContext: func(_ context.Context, network, _ string) (net.Conn, error) {
		dials.Add(1)
		return nil, &net.OpError{Op: "dial", Net: network, Err: dnsErr}
	}}
}

// TestPermanentTransportFailuresFailAtOnce: an untrusted certificate, a
// refused redirect and a name that does not exist are not retried, and
// PermanentCause tells them apart; a resolver that failed for the moment is
// retried and has no permanent cause.
func TestPermanentTransportFailuresFailAtOnce(t *testing.T) {
	type setup struct {
		cfg   Config
		tries func() int64 // requests or dials that reached the far side
		// leaked, when set, reports whether anything reached a host the
		// request must not go to.
		leaked func() bool
	}
	tests := []struct {
		name      string
		setup     func(t *testing.T) setup
		wantTries int64
		wantKind  PermanentKind // 0 for none
		wantHint  string        // a prefix of the Detail
	}{
		{
			name: "untrusted TLS certificate",
			setup: func(t *testing.T) setup {
				var conns atomic.Int64
				srv := httptest.NewUnstartedServer(jsonHandler(200, jobJSON))
				srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
				srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
					if s == http.StateNew {
						conns.Add(1)
					}
				}
				srv.StartTLS()
				t.Cleanup(srv.Close)
				// The default transport, trusting the system roots only.
				return setup{cfg: Config{BaseURL: srv.URL}, tries: conns.Load}
			},
			wantTries: 1,
			wantKind:  UntrustedCertificate,
			wantHint:  "x509: ",
		},
		{
			name: "redirect to another host",
			setup: func(t *testing.T) setup {
				var other atomic.Int64
				elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					other.Add(1)
					fmt.Fprint(w, jobJSON)
				}))
				t.Cleanup(elsewhere.Close)
				var redirects atomic.Int64
				as := newAuthServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					redirects.Add(1)
					http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
				}))
				srv := httptest.NewServer(as)
				t.Cleanup(srv.Close)
				return setup{cfg: Config{BaseURL: srv.URL}, tries: redirects.Load, leaked: func() bool { return other.Load() > 0 }}
			},
			wantTries: 1,
			wantKind:  RedirectRefused,
			wantHint:  "127.0.0.1:",
		},
		{
			name: "host name does not exist",
			setup: func(*testing.T) setup {
				var dials atomic.Int64
				tr := dnsFailingTransport(&net.DNSError{Err: "no such host", Name: "cloud.mongodb.test", IsNotFound: true}, &dials)
				return setup{cfg: Config{BaseURL: "https://cloud.mongodb.test", Transport: tr}, tries: dials.Load}
			},
			wantTries: 1,
			wantKind:  UnknownHost,
		},
		{
			name: "resolver timed out",
			setup: func(*testing.T) setup {
				var dials atomic.Int64
				tr := dnsFailingTransport(&net.DNSError{Err: "i/o timeout", Name: "cloud.mongodb.test", IsTimeout: true}, &dials)
				return setup{cfg: Config{BaseURL: "https://cloud.mongodb.test", Transport: tr}, tries: dials.Load}
			},
			wantTries: 5,
		},
		{
			name: "resolver failed for the moment",
			setup: func(*testing.T) setup {
				var dials atomic.Int64
				tr := dnsFailingTransport(&net.DNSError{Err: "server misbehaving", Name: "cloud.mongodb.test", IsTemporary: true}, &dials)
				return setup{cfg: Config{BaseURL: "https://cloud.mongodb.test", Transport: tr}, tries: dials.Load}
			},
			wantTries: 5,
		},
	}
	calls := []struct {
		name string
		do   func(c *Client) error
	}{
		{"GET", func(c *Client) error {
			_, err := c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1")
			return err
		}},
		{"POST", func(c *Client) error {
			_, err := c.RequestDownload(context.Background(), testCluster, testSnapshot)
			return err
		}},
	}
	for _, tt := range tests {
		for _, call := range calls {
			t.Run(tt.name+"/"+call.name, func(t *testing.T) {
				st := tt.setup(t)
				var sleeps atomic.Int64
				c := countingSleepsClient(t, st.cfg, &sleeps)
				err := call.do(c)
				if err == nil {
					t.Fatal("want an error")
				}
				if got := st.tries(); got != tt.wantTries {
					t.Errorf("tries = %d, want %d", got, tt.wantTries)
				}
				if got, want := sleeps.Load(), tt.wantTries-1; got != want {
					t.Errorf("waits between attempts = %d, want %d", got, want)
				}
				cause := PermanentCause(err)
				switch {
				case tt.wantKind == 0 && cause != nil:
					t.Errorf("PermanentCause = %+v, want none", cause)
				case tt.wantKind != 0 && (cause == nil || cause.Kind != tt.wantKind || !strings.HasPrefix(cause.Detail, tt.wantHint)):
					t.Errorf("PermanentCause = %+v, want kind %d with detail %q...", cause, tt.wantKind, tt.wantHint)
				}
				if tt.wantKind != 0 && !Unreachable(err) {
					t.Errorf("Unreachable(%v) = false", err)
				}
				if st.leaked != nil && st.leaked() {
					t.Error("the request reached the other host")
				}
			})
		}
	}
}

func TestPermanentCauseOfOtherErrors(t *testing.T) {
	for _, err := range []error{
		nil,
		&Error{StatusCode: 400, ErrorCode: "VALIDATION_ERROR"},
		&transportError{method: "GET", path: "/x", err: io.ErrUnexpectedEOF},
		&transportError{method: "GET", path: "/x", err: &net.DNSError{Err: "no such host", IsNotFound: true, IsTemporary: true}},
		&net.DNSError{Err: "no such host", IsNotFound: true}, // not from a request
	} {
		if got := PermanentCause(err); got != nil {
			t.Errorf("PermanentCause(%v) = %+v, want nil", err, got)
		}
	}
}
