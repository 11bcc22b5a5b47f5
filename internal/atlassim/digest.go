// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// digestRealm is the realm Atlas (and Ops Manager) challenge with.
const digestRealm = "MMS Public API"

const (
	// maxNonces bounds memory: the oldest nonce is forgotten past this many,
	// and a client using it gets a fresh challenge.
	maxNonces = 10000
	// maxCountsPerNonce bounds the used-nonce-count set of one nonce; a nonce
	// that reaches it is forgotten the same way.
	maxCountsPerNonce = 1 << 16
	// maxAuthorizationLen rejects absurd headers before parsing.
	maxAuthorizationLen = 8 << 10
)

// digestAuth verifies RFC 7616 Digest credentials (MD5, qop=auth) the way
// Atlas' API gateway does, and remembers which nonce counts were used.
type digestAuth struct {
	user, pass string

	mu     sync.Mutex
	nonces map[string]*nonceState
	order  []string // issue order, for eviction
}

type nonceState struct {
	issued time.Time // for the NonceLifetime fault
	used   map[uint32]struct{}
	maxNC  uint32 // for the StrictNonceCount fault
}

func newDigestAuth(user, pass string) *digestAuth {
	return &digestAuth{user: user, pass: pass, nonces: map[string]*nonceState{}}
}

// issue makes a new unguessable nonce and remembers it.
func (d *digestAuth) issue(now time.Time) string {
	var b [30]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("atlassim: reading random bytes: %v", err))
	}
	nonce := base64.StdEncoding.EncodeToString(b[:])
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.order) >= maxNonces {
		delete(d.nonces, d.order[0])
		d.order = d.order[1:]
	}
	d.nonces[nonce] = &nonceState{issued: now, used: map[uint32]struct{}{}}
	d.order = append(d.order, nonce)
	return nonce
}

// challenge is the WWW-Authenticate value for a fresh nonce.
func (d *digestAuth) challenge(now time.Time, stale bool) string {
	return fmt.Sprintf(`Digest realm="%s", domain="", nonce="%s", algorithm=MD5, qop="auth", stale=%t`,
		digestRealm, d.issue(now), stale)
}

// authOutcome says why a request was or was not let in.
type authOutcome int

const (
	authOK authOutcome = iota
	authMissing
	authRejected
	// authStale is a correct digest over a nonce that has expired: the
	// client should retry with the fresh nonce (stale=true).
	authStale
)

// nonceRules are the fault settings that change how nonces are accepted.
type nonceRules struct {
	now      time.Time
	lifetime time.Duration // 0: nonces never expire
	strict   bool          // nc must exceed every count used before
}

// verify checks r's Authorization header. requestURI is the URI as the
// client sent it, which the digest's uri field must repeat.
func (d *digestAuth) verify(r *http.Request, requestURI string, rules nonceRules) authOutcome {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return authMissing
	}
	if len(values) > 1 || len(values[0]) > maxAuthorizationLen {
		return authRejected
	}
	p, ok := parseDigestAuthorization(values[0])
	if !ok {
		return authRejected
	}
	for _, k := range []string{"username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce"} {
		if p[k] == "" {
			return authRejected
		}
	}
	if alg, ok := p["algorithm"]; ok && !strings.EqualFold(alg, "MD5") {
		return authRejected
	}
	if p["qop"] != "auth" || p["realm"] != digestRealm || p["uri"] != requestURI {
		return authRejected
	}
	nc, ok := parseNonceCount(p["nc"])
	if !ok {
		return authRejected
	}
	if subtle.ConstantTimeCompare([]byte(p["username"]), []byte(d.user)) != 1 {
		return authRejected
	}
	ha1 := md5Hex(p["username"] + ":" + digestRealm + ":" + d.pass)
	ha2 := md5Hex(r.Method + ":" + p["uri"])
	want := md5Hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":" + p["qop"] + ":" + ha2)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(p["response"])), []byte(want)) != 1 {
		return authRejected
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	st, known := d.nonces[p["nonce"]]
	if !known {
		return authRejected
	}
	if rules.lifetime > 0 && rules.now.Sub(st.issued) > rules.lifetime {
		d.forgetLocked(p["nonce"])
		return authStale
	}
	// A count used before is refused (401, stale=false, a fresh nonce), even
	// when the answer to its first use was dropped: net/http then sends a
	// GET again with the same header. The Atlas reference is silent on
	// repeated counts; RFC 7616 lets a server take them as replays, and the
	// simulator chooses to be strict so that clients must cope.
	if _, replay := st.used[nc]; replay {
		return authRejected
	}
	if rules.strict && len(st.used) > 0 && nc <= st.maxNC {
		return authRejected
	}
	st.used[nc] = struct{}{}
	st.maxNC = max(st.maxNC, nc)
	if len(st.used) >= maxCountsPerNonce {
		d.forgetLocked(p["nonce"])
	}
	return authOK
}

func (d *digestAuth) forgetLocked(nonce string) {
	delete(d.nonces, nonce)
	for i, n := range d.order {
		if n == nonce {
			d.order = append(d.order[:i], d.order[i+1:]...)
			break
		}
	}
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// parseNonceCount accepts exactly eight hex digits, as RFC 7616 writes nc.
func parseNonceCount(s string) (uint32, bool) {
	if len(s) != 8 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// parseDigestAuthorization splits `Digest k=v, k="quoted, \"v\"", ...` into
// lower-cased keys and unquoted values. Anything malformed (duplicate keys,
// an unterminated quote, junk between pairs) is refused rather than guessed.
func parseDigestAuthorization(h string) (map[string]string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Digest") {
		return nil, false
	}
	params := map[string]string{}
	s := rest
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, false
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		if key == "" || strings.ContainsAny(key, " \t\",") {
			return nil, false
		}
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i, closed := 1, false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return nil, false
			}
			val, s = b.String(), s[i:]
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		if _, dup := params[key]; dup {
			return nil, false
		}
		params[key] = val
		s = strings.TrimLeft(s, " \t")
		if s != "" && s[0] != ',' {
			return nil, false
		}
	}
	return params, true
}
