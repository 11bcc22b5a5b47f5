// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
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
	probing *probe // the first challenge fetch under way, if any

	challenges atomic.Int64
	// waitHook, when set (by tests), runs each time a request starts
	// waiting for another's probe.
	waitHook func()
}

// probe is one leader's fetch of the challenge. done is closed when it
// ends; refusal is set before that when the keys were refused.
type probe struct {
	scope   string
	done    chan struct{}
	refusal *refusal
}

// refusal is the answer with which Atlas refused the keys, kept so that the
// requests waiting on the same probe get it without asking again.
type refusal struct {
	status int
	header http.Header
	body   []byte
}

// maxRefusalBytes bounds the refusal body kept; Atlas's is under 200 bytes.
const maxRefusalBytes = 16 << 10

// response is the refusal as an answer to req.
func (r *refusal) response(req *http.Request) *http.Response {
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", r.status, http.StatusText(r.status)),
		StatusCode: r.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        r.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(r.body)),
		ContentLength: int64(len(r.body)),
		Request:       req,
	}
}

// keepRefusal reads the leader's refused answer so that it can be shared,
// and gives the leader an equal one.
func keepRefusal(resp *http.Response) (*http.Response, *refusal) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRefusalBytes))
	_ = resp.Body.Close()
	if err != nil {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return resp, nil
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	h := resp.Header.Clone()
	for _, k := range []string{"WWW-Authenticate", "Date", "Set-Cookie"} {
		h.Del(k) // of this exchange only
	}
	return resp, &refusal{status: resp.StatusCode, header: h, body: body}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// refusalScope names what a refusal of req says the keys may not do.
//
// Which 401s prove the keys wrong? None on its own: Atlas answers 401 with
// a fresh challenge both for keys it does not know and for keys that lack
// a role (USER_UNAUTHORIZED, NOT_IN_GROUP, TENANT_SNAPSHOT_ACCESS_DENIED
// alike), and roles are granted per project and differ between reads and a
// download request (Project Read Only against Project Owner, or Project
// Backup Export Operator for Flex). So a refusal is passed on only to waiters
// asking for the same access: the same method under the same project and
// endpoint family. Everything else probes for itself, and nothing is kept
// once the probe's waiters have their answer.
func refusalScope(req *http.Request) string {
	segs := strings.Split(req.URL.EscapedPath(), "/")
	for i, s := range segs {
		if s == "groups" && i+2 < len(segs) {
			return req.Method + " " + strings.Join(segs[:i+3], "/")
		}
	}
	return req.Method + " " + req.URL.EscapedPath()
}

// Challenges is how many digest challenges (401 answers carrying one) the
// transport has received.
func (t *digestTransport) Challenges() int64 { return t.challenges.Load() }

// acquire returns the cached challenge with the next nonce count, or makes
// the caller the one request that goes out unsigned to learn the challenge
// (leader), while any others wait for it. A waiter whose leader found the
// keys refused for the same scope gets that refusal instead.
func (t *digestTransport) acquire(ctx context.Context, scope string) (chal *digest.Challenge, nc int, leader bool, ref *refusal, err error) {
	for {
		t.mu.Lock()
		if t.chal != nil {
			t.nc++
			chal, nc = t.chal, t.nc
			t.mu.Unlock()
			return chal, nc, false, nil, nil
		}
		if t.probing == nil {
			t.probing = &probe{scope: scope, done: make(chan struct{})}
			t.mu.Unlock()
			return nil, 0, true, nil, nil
		}
		p := t.probing
		t.mu.Unlock()
		if t.waitHook != nil {
			t.waitHook()
		}
		select {
		case <-p.done:
		case <-ctx.Done():
			return nil, 0, false, nil, &unsentError{ctx.Err()}
		}
		if p.refusal != nil && p.scope == scope {
			return nil, 0, false, p.refusal, nil
		}
		// Either the leader published a challenge, or it learnt none (or
		// was refused for another scope) and this request may take the
		// lead: look again.
	}
}

// endProbe publishes the challenge the leader's request passed with (nil:
// none worth keeping; the leader spent nonce count 1 on it) or the refusal
// it got, and wakes the waiters.
func (t *digestTransport) endProbe(chal *digest.Challenge, ref *refusal) {
	t.mu.Lock()
	if chal != nil {
		t.chal, t.nc = chal, 1
	}
	if p := t.probing; p != nil {
		p.refusal = ref
		close(p.done)
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
	chal, nc, leader, ref, err := t.acquire(req.Context(), refusalScope(req))
	if err != nil || ref != nil {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper closes the body, sent or not
		}
		if err != nil {
			return nil, err
		}
		return ref.response(req), nil
	}
	if !leader {
		resp, passed, _, err := t.signed(req, 1, chal, nc)
		if passed != nil && passed != chal {
			t.adopt(chal, passed)
		}
		return resp, err
	}
	// The leader sends its request unsigned to learn the challenge, then
	// signed. Waiters get the challenge once it has passed, so wrong keys
	// are found by one request, not by every waiting one.
	resp, _, err := t.send(req, 1, nil, 0)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.endProbe(nil, nil)
		return resp, err
	}
	fresh, ferr := digest.FindChallenge(resp.Header)
	if ferr != nil {
		t.endProbe(nil, nil)
		return resp, nil //nolint:nilerr // a 401 without a digest challenge is a final answer, not an error
	}
	t.challenges.Add(1)
	if !replayable(req) {
		t.endProbe(nil, nil)
		return resp, nil
	}
	drain(resp)
	resp, passed, refused, err := t.signed(req, 2, fresh, 1)
	if refused {
		resp, ref = keepRefusal(resp)
	}
	t.endProbe(passed, ref)
	return resp, err
}

// signed sends req with chal at nonce count nc. A 401 on it is most often
// an expired nonce (stale=true), or a parallel request whose higher nonce
// count reached a strict server first; either way the 401 carries a new
// challenge, and one more try with that challenge, which no other request
// has seen, cannot lose such a race. A second 401 is a real refusal,
// unless it answers a copy that net/http sent again (see send): that copy
// repeats a nonce count the first one spent, which says nothing of the key.
// passed is the challenge the request got through with (nil if refused);
// refused says the server turned the signature down twice with a
// non-stale challenge, which is what wrong keys look like.
func (t *digestTransport) signed(req *http.Request, attempt int, chal *digest.Challenge, nc int) (resp *http.Response, passed *digest.Challenge, refused bool, err error) {
	resp, _, err = t.send(req, attempt, chal, nc)
	if err != nil {
		return nil, chal, false, err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return resp, chal, false, nil
	}
	fresh, ferr := digest.FindChallenge(resp.Header)
	if ferr != nil {
		return resp, nil, false, nil //nolint:nilerr // a 401 without a challenge is the answer
	}
	t.challenges.Add(1)
	if !replayable(req) {
		return resp, nil, false, nil
	}
	// stale=true says the credentials were right and only the nonce was
	// old, so a nonce that expires before its first use (a slow network)
	// is renewed a few times more. Another 401 is given one more try, for
	// a resend that send cannot see (a proxy on the way that retries). A
	// third refusal is final: the keys are wrong.
	refusals, renewals, replays := 0, 0, 0
	for {
		drain(resp)
		attempt++
		var resent bool
		resp, resent, err = t.send(req, attempt, fresh, 1)
		if err != nil {
			return nil, fresh, false, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, fresh, false, nil
		}
		next, ferr := digest.FindChallenge(resp.Header)
		if ferr != nil {
			return resp, nil, false, nil //nolint:nilerr // a 401 without a challenge is the answer
		}
		t.challenges.Add(1)
		fresh = next
		if resent {
			// Sign again with the fresh challenge; this 401 is no
			// evidence against the key, so it counts as no refusal.
			replays++
			if replays > maxReplays {
				drain(resp)
				return nil, fresh, false, errResentTooOften
			}
			continue
		}
		if !next.Stale {
			refusals++
		}
		if refusals > 1 {
			return resp, nil, true, nil
		}
		if renewals >= maxStaleRenewals {
			return resp, nil, false, nil
		}
		renewals++
	}
}

// maxStaleRenewals bounds the renewals of nonces that keep expiring.
const maxStaleRenewals = 3

// maxReplays bounds the 401s excused as answers to a resent copy. Past it
// the request fails as the dropped connection it is (errResentTooOften),
// which the client's retry policy paces and bounds, never as a refusal.
const maxReplays = 3

var errResentTooOften = errors.New("the connection dropped before the answer, and each resend was refused for repeating a digest nonce count")

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// send clones req with a fresh body and, when a challenge is given, the
// Authorization header for it, and sends it. resent reports that the
// request went out whole more than once: net/http resends an idempotent
// request by itself when a reused keep-alive connection drops before the
// answer, with the same Authorization, so the copy repeats a nonce count
// the server may have taken already. Whether Atlas refuses a repeated
// count is not documented; the client assumes it may, and the simulator
// does (atlassim/digest.go).
func (t *digestTransport) send(req *http.Request, attempt int, chal *digest.Challenge, nc int) (resp *http.Response, resent bool, err error) {
	var writes atomic.Int32
	ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				writes.Add(1)
			}
		},
	})
	out := req.Clone(ctx)
	if attempt > 1 && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, false, fmt.Errorf("atlas: replaying request body: %w", err)
		}
		out.Body = body
	}
	if chal != nil {
		cred, err := digest.Digest(chal, digest.Options{
			Method:   req.Method,
			URI:      req.URL.RequestURI(),
			Count:    nc,
			Username: t.username,
			Password: t.password,
		})
		if err != nil {
			return nil, false, errors.New("atlas: cannot answer the server's digest challenge: " + err.Error())
		}
		out.Header.Set("Authorization", cred.String())
	}
	resp, err = t.base.RoundTrip(out)
	return resp, writes.Load() > 1, err
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
