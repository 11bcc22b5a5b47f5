package atlas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/icholy/digest"
)

// digestTransport signs requests with HTTP Digest (RFC 7616) and keeps one
// challenge for the whole client, so that in steady state every call is a
// single round trip. Only requests to host are signed: a redirect or a
// presigned download link elsewhere never sees the credentials.
//
// github.com/icholy/digest computes the credentials; the challenge cache is
// ours because its Transport lets parallel cold requests each fetch their own
// challenge and surfaces nonce-count races as 401s.
type digestTransport struct {
	username, password string
	host               string
	base               http.RoundTripper

	mu      sync.Mutex
	chal    *digest.Challenge
	nc      int
	probing chan struct{} // closed when the first challenge fetch ends

	challenges atomic.Int64
}

// Challenges is how many digest challenges (401 answers carrying one) the
// transport has received.
func (t *digestTransport) Challenges() int64 { return t.challenges.Load() }

// acquire returns the cached challenge with the next nonce count, or makes
// the caller the one request that goes out unsigned to learn the challenge
// (leader), while any others wait for it.
func (t *digestTransport) acquire(ctx context.Context) (chal *digest.Challenge, nc int, leader bool, err error) {
	for {
		t.mu.Lock()
		if t.chal != nil {
			t.nc++
			chal, nc = t.chal, t.nc
			t.mu.Unlock()
			return chal, nc, false, nil
		}
		if t.probing == nil {
			t.probing = make(chan struct{})
			t.mu.Unlock()
			return nil, 0, true, nil
		}
		wait := t.probing
		t.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, 0, false, ctx.Err()
		}
		// Either the leader published a challenge, or it learnt none and
		// this request may take the lead: look again.
	}
}

// endProbe publishes the challenge the leader's request passed with (nil:
// none worth keeping; the leader spent nonce count 1 on it) and wakes the
// waiters.
func (t *digestTransport) endProbe(chal *digest.Challenge) {
	t.mu.Lock()
	if chal != nil {
		t.chal, t.nc = chal, 1
	}
	if t.probing != nil {
		close(t.probing)
		t.probing = nil
	}
	t.mu.Unlock()
}

// adopt caches fresh (whose nonce count 1 is spent) in place of failed,
// unless another request already replaced failed.
func (t *digestTransport) adopt(failed, fresh *digest.Challenge) {
	t.mu.Lock()
	if t.chal == nil || t.chal.Nonce == failed.Nonce {
		t.chal, t.nc = fresh, 1
	}
	t.mu.Unlock()
}

func (t *digestTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		return t.base.RoundTrip(req)
	}
	chal, nc, leader, err := t.acquire(req.Context())
	if err != nil {
		return nil, err
	}
	if !leader {
		resp, passed, err := t.signed(req, 1, chal, nc)
		if passed != nil && passed != chal {
			t.adopt(chal, passed)
		}
		return resp, err
	}
	// The leader sends its request unsigned to learn the challenge, then
	// signed. Waiters get the challenge once it has passed, so wrong keys
	// are found by one request, not by every waiting one.
	resp, err := t.send(req, 1, nil, 0)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.endProbe(nil)
		return resp, err
	}
	fresh, ferr := digest.FindChallenge(resp.Header)
	if ferr != nil {
		t.endProbe(nil)
		return resp, nil //nolint:nilerr // a 401 without a digest challenge is a final answer, not an error
	}
	t.challenges.Add(1)
	if !replayable(req) {
		t.endProbe(nil)
		return resp, nil
	}
	drain(resp)
	resp, passed, err := t.signed(req, 2, fresh, 1)
	t.endProbe(passed)
	return resp, err
}

// signed sends req with chal at nonce count nc. A 401 on it is most often
// an expired nonce (stale=true), or a parallel request whose higher nonce
// count reached a strict server first; either way the 401 carries a new
// challenge, and one more try with that challenge, which no other request
// has seen, cannot lose such a race. A second 401 is a real refusal.
// passed is the challenge the request got through with (nil if refused).
func (t *digestTransport) signed(req *http.Request, attempt int, chal *digest.Challenge, nc int) (resp *http.Response, passed *digest.Challenge, err error) {
	resp, err = t.send(req, attempt, chal, nc)
	if err != nil {
		return nil, chal, err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return resp, chal, nil
	}
	fresh, ferr := digest.FindChallenge(resp.Header)
	if ferr != nil {
		return resp, nil, nil //nolint:nilerr // a 401 without a challenge is the answer
	}
	t.challenges.Add(1)
	if !replayable(req) {
		return resp, nil, nil
	}
	// stale=true says the credentials were right and only the nonce was
	// old, so a nonce that expires before its first use (a slow network)
	// is renewed a few times more. Another 401 is given one more try:
	// net/http resends an idempotent request by itself when a reused
	// connection drops, and the resent copy repeats a spent nonce count.
	// A third refusal is final: the keys are wrong.
	refusals := 0
	for renewals := 0; ; renewals++ {
		drain(resp)
		attempt++
		resp, err = t.send(req, attempt, fresh, 1)
		if err != nil {
			return nil, fresh, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, fresh, nil
		}
		next, ferr := digest.FindChallenge(resp.Header)
		if ferr != nil {
			return resp, nil, nil //nolint:nilerr // a 401 without a challenge is the answer
		}
		t.challenges.Add(1)
		if !next.Stale {
			refusals++
		}
		if refusals > 1 || renewals >= maxStaleRenewals {
			return resp, nil, nil
		}
		fresh = next
	}
}

// maxStaleRenewals bounds the renewals of nonces that keep expiring.
const maxStaleRenewals = 3

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// send clones req with a fresh body and, when a challenge is given, the
// Authorization header for it, and sends it.
func (t *digestTransport) send(req *http.Request, attempt int, chal *digest.Challenge, nc int) (*http.Response, error) {
	out := req.Clone(req.Context())
	if attempt > 1 && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("atlas: replaying request body: %w", err)
		}
		out.Body = body
	}
	if chal == nil {
		return t.base.RoundTrip(out)
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method:   req.Method,
		URI:      req.URL.RequestURI(),
		Count:    nc,
		Username: t.username,
		Password: t.password,
	})
	if err != nil {
		return nil, errors.New("atlas: cannot answer the server's digest challenge: " + err.Error())
	}
	out.Header.Set("Authorization", cred.String())
	return t.base.RoundTrip(out)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// underlying transport.
func (t *digestTransport) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := t.base.(closer); ok {
		c.CloseIdleConnections()
	}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}
