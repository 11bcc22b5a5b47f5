// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"
)

// tokenCache shares a service account's access token between the provider
// processes of one user on one machine (Config.TokenCacheDir), so that a
// command's several processes, and the commands of an hour, take one token
// between them rather than one each: Atlas allows 10 token requests a
// minute and 100 live tokens. It is the lock directory's machinery (safe
// directory, file locks, files opened 0600 without following links) with
// one lock and one token file per base URL, client ID and secret: a wrong
// or rotated secret never rides on a token another secret took. The files
// hold the token and its expiry, never the secret; their names are a hash
// of the key (LockDir.file).
type tokenCache struct {
	dir *LockDir
	key string
}

// cacheRenewMargin is how long before its expiry a cached token is
// renewed: long enough that a process that reads it has a useful part of
// its hour left. Short-lived tokens (a simulator's) are renewed when a
// quarter of their life is left.
const cacheRenewMargin = 10 * time.Minute

func cacheMargin(lifetime time.Duration) time.Duration {
	return min(cacheRenewMargin, lifetime/4)
}

// TokenCacheDirError is a token cache directory that cannot be used
// safely; the fields are those of LockDirError.
type TokenCacheDirError struct {
	Path    string
	Problem LockDirProblem
	Err     error
}

func (e *TokenCacheDirError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("atlas: token cache directory %s %s: %v", e.Path, lockDirProblems[e.Problem], e.Err)
	}
	return fmt.Sprintf("atlas: token cache directory %s %s", e.Path, lockDirProblems[e.Problem])
}

func (e *TokenCacheDirError) Unwrap() error { return e.Err }

// openTokenCache opens the cache of clientID's tokens, taken with secret,
// at base in dir, refusing a directory that others could read from or
// plant in.
func openTokenCache(dir string, base *url.URL, clientID, secret string) (*tokenCache, error) {
	d, err := OpenLockDir(dir)
	var le *LockDirError
	if errors.As(err, &le) {
		return nil, &TokenCacheDirError{Path: le.Path, Problem: le.Problem, Err: le.Err}
	}
	if err != nil {
		return nil, err
	}
	// The prefix keeps these files apart from the download records when
	// one directory serves both.
	return &tokenCache{dir: d, key: "access token\n" + base.String() + "\n" + clientID + "\n" + secret}, nil
}

// cachedToken is the token file's content. Expires is on the client's
// clock, which is the wall clock outside tests.
type cachedToken struct {
	AccessToken string    `json:"access_token"`
	Expires     time.Time `json:"expires"`
	Lifetime    float64   `json:"lifetime_seconds"`
}

// take returns the cached token, or takes a new one and caches it, under
// the cache's file lock: processes that need a token at once take one
// between them. stale, when not "", is a token Atlas refused: it is
// dropped from the cache. ok is false when the cache cannot be used (its
// files cannot be opened or locked), and the caller takes a token of its
// own.
func (c *tokenCache) take(ctx context.Context, b *bearerAuth, stale string) (tok string, expiry, renewAt time.Time, ok bool, err error) {
	lock, err := c.dir.lockFile(c.key)
	if err != nil {
		b.c.log(ctx, "the atlas token cache cannot be used; taking a token of this process's own", map[string]any{"error": err.Error()})
		return "", time.Time{}, time.Time{}, false, nil
	}
	defer lock.f.Close()
	if err := lock.lock(ctx, true); err != nil {
		if ctx.Err() != nil {
			return "", time.Time{}, time.Time{}, true, &unsentError{ctx.Err()}
		}
		b.c.log(ctx, "the atlas token cache cannot be locked; taking a token of this process's own", map[string]any{"error": err.Error()})
		return "", time.Time{}, time.Time{}, false, nil
	}
	defer lock.unlock()

	name := c.dir.file(c.key, ".token")
	if ct, found := readCachedToken(name); found {
		margin := cacheMargin(time.Duration(ct.Lifetime * float64(time.Second)))
		switch {
		case ct.AccessToken == stale:
			_ = os.Remove(name) // refused: no process may be handed it again
		case b.c.now().Before(ct.Expires.Add(-margin)):
			return ct.AccessToken, ct.Expires, ct.Expires.Add(-margin), true, nil
		}
	}
	tok, lifetime, sent, err := b.fetch(ctx)
	if err != nil {
		return "", time.Time{}, time.Time{}, true, err
	}
	expiry = sent.Add(lifetime)
	if err := writeCachedToken(name, cachedToken{AccessToken: tok, Expires: expiry, Lifetime: lifetime.Seconds()}); err != nil {
		// Not shared, so this process revokes it as it ends.
		b.c.log(ctx, "writing the atlas token cache failed; the token serves this process only", map[string]any{"error": err.Error()})
		b.remember(tok, expiry)
	}
	return tok, expiry, expiry.Add(-cacheMargin(lifetime)), true, nil
}

// readCachedToken reads a token file; a missing, empty or damaged one (a
// process killed while writing it) holds no token.
func readCachedToken(name string) (cachedToken, bool) {
	var ct cachedToken
	f, err := openNoFollow(name, os.O_RDONLY)
	if err != nil {
		return ct, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil || json.Unmarshal(data, &ct) != nil || ct.AccessToken == "" || ct.Lifetime <= 0 {
		return cachedToken{}, false
	}
	return ct, true
}

func writeCachedToken(name string, ct cachedToken) error {
	data, err := json.Marshal(ct)
	if err != nil {
		return err
	}
	f, err := openNoFollow(name, os.O_WRONLY|os.O_TRUNC)
	if err != nil {
		return err
	}
	// A file left by an older run with wider permissions is narrowed.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
