// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// RevokePath is Atlas's OAuth 2.0 revocation endpoint.
const RevokePath = "/api/oauth/revoke"

// The tokens this process took from a token endpoint and has not handed
// to a shared cache. A service account holds at most 100 live tokens and
// Terraform starts several provider processes per command, so each
// process gives its tokens back when it ends (RevokeTokens) rather than
// leave them live for their hour.
var taken struct {
	mu   sync.Mutex
	toks []takenToken
}

type takenToken struct {
	b      *bearerAuth
	tok    string
	expiry time.Time // on b's client clock
}

// remember records a token b took, for RevokeTokens. Tokens already
// expired are dropped on the way, so the list stays short in a long life.
func (b *bearerAuth) remember(tok string, expiry time.Time) {
	taken.mu.Lock()
	defer taken.mu.Unlock()
	kept := taken.toks[:0]
	for _, t := range taken.toks {
		if t.b.c.now().Before(t.expiry) {
			kept = append(kept, t)
		}
	}
	taken.toks = append(kept, takenToken{b: b, tok: tok, expiry: expiry})
}

// forget drops tok from the tokens to revoke: Atlas refused it, or it
// now belongs to the shared cache.
func forget(tok string) {
	taken.mu.Lock()
	defer taken.mu.Unlock()
	for i, t := range taken.toks {
		if t.tok == tok {
			taken.toks = append(taken.toks[:i], taken.toks[i+1:]...)
			return
		}
	}
}

// RevokeTokens revokes, at once and within ctx, every live token the
// service-account clients of this process took, and returns how many
// Atlas accepted. Failures are logged (to each client's Log) and otherwise
// ignored: the token expires within the hour anyway. Access tokens given
// to a client are never revoked (they are the user's), nor are tokens in a
// shared token cache (other processes use them). Call it once, as the
// process ends: clients that still run lose their tokens.
func RevokeTokens(ctx context.Context) int {
	return revokeTokens(ctx, nil)
}

// revokeTokens revokes the tokens of the clients that mine accepts (nil:
// all), so that tests in one process leave each other's alone.
func revokeTokens(ctx context.Context, mine func(*Client) bool) int {
	taken.mu.Lock()
	var toks, kept []takenToken
	for _, t := range taken.toks {
		if mine == nil || mine(t.b.c) {
			toks = append(toks, t)
		} else {
			kept = append(kept, t)
		}
	}
	taken.toks = kept
	taken.mu.Unlock()

	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for _, t := range toks {
		if !t.b.c.now().Before(t.expiry) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := t.b.revoke(ctx, t.tok); err != nil {
				t.b.c.log(ctx, "revoking an atlas access token failed; it stays valid until it expires", map[string]any{
					"path": RevokePath, "error": err.Error(),
				})
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return n
}

// revoke asks Atlas to revoke tok (RFC 7009), with the client's Basic
// credentials encoded as for the token request.
func (b *bearerAuth) revoke(ctx context.Context, tok string) error {
	u, err := url.Parse(b.cc.TokenURL)
	if err != nil {
		return err
	}
	u.Path = RevokePath
	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(b.cc.ClientID), url.QueryEscape(b.cc.ClientSecret))
	resp, err := b.http.Do(req)
	if err != nil {
		return stripURL(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// take gets a new token for b and says when it expires and when to renew
// it. stale, when not "", is a token Atlas refused. A token taken here is
// remembered for RevokeTokens.
func (b *bearerAuth) take(ctx context.Context, stale string) (tok string, expiry, renewAt time.Time, err error) {
	if stale != "" {
		forget(stale)
	}
	if b.cache != nil {
		// Cached tokens are not remembered: other processes use them.
		if tok, expiry, renewAt, ok, err := b.cache.take(ctx, b, stale); ok {
			return tok, expiry, renewAt, err
		}
	}
	tok, lifetime, sent, err := b.fetch(ctx)
	if err != nil {
		return "", time.Time{}, time.Time{}, err
	}
	expiry = sent.Add(lifetime)
	b.remember(tok, expiry)
	return tok, expiry, expiry.Add(-renewMargin(lifetime)), nil
}
