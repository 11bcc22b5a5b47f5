// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func cacheClient(s *oauthServer, t *testing.T, url, dir string) *Client {
	return s.client(t, url, func(cfg *Config) { cfg.TokenCacheDir = dir })
}

// Clients that share a cache directory, as the provider processes of one
// machine do (each opens its own lock file, so the file lock excludes
// them from each other as it does processes), take one token between
// them however many start at once; without the cache each takes its own.
func TestTokenCache_oneTokenForManyProcesses(t *testing.T) {
	for _, tt := range []struct {
		name   string
		cached bool
		want   int64
	}{{"cached", true, 1}, {"not cached", false, 12}} {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := newOAuthServer(t)
			dir := ""
			if tt.cached {
				dir = filepath.Join(t.TempDir(), "tokens")
			}
			var wg sync.WaitGroup
			for range 12 {
				c := cacheClient(s, t, srv.URL, dir)
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := fetchJob(c); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if n := s.tokenReqs.Load(); n != tt.want {
				t.Errorf("token requests = %d, want %d", n, tt.want)
			}
		})
	}
}

// A client whose secret is wrong (or was rotated) does not ride on the
// token another secret cached: it asks the token endpoint, which refuses.
func TestTokenCache_wrongSecretDoesNotShareToken(t *testing.T) {
	s, srv := newOAuthServer(t)
	dir := filepath.Join(t.TempDir(), "tokens")
	if err := fetchJob(cacheClient(s, t, srv.URL, dir)); err != nil {
		t.Fatal(err)
	}
	wrong := s.client(t, srv.URL, func(cfg *Config) { cfg.TokenCacheDir, cfg.ClientSecret = dir, "mdb_sa_sk_wrongwrongwrong" })
	var te *TokenError
	if err := fetchJob(wrong); !errors.As(err, &te) || te.StatusCode != 401 {
		t.Fatalf("err = %v, want the token endpoint's 401", err)
	}
	if n := s.tokenReqs.Load(); n != 2 {
		t.Errorf("token requests = %d, want 2 (one per secret)", n)
	}
}

// The cache's files are private (0600 in a 0700 directory) and hold the
// token, never the secret; cached tokens are not revoked at exit, since
// other processes use them.
func TestTokenCache_filesPrivateAndNotRevoked(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	s, srv := newRevokeServer(t)
	dir := filepath.Join(t.TempDir(), "tokens")
	c := cacheClient(s.oauthServer, t, srv.URL, dir)
	if err := fetchJob(c); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	holding := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), testClientSecret) {
			t.Errorf("%s holds the client secret", e.Name())
		}
		if strings.Contains(string(data), s.token(1)) {
			holding++
		}
	}
	if holding != 1 {
		t.Errorf("%d files hold the token, want 1 (files: %d)", holding, len(entries))
	}
	if n := revokeOf(c); n != 0 || len(s.revoked) != 0 {
		t.Errorf("a cached token was revoked (%q)", s.revoked)
	}
}

// A directory that others can write, or a link, is refused with a typed
// error before anything is sent.
func TestTokenCache_unsafeDirectoryRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	root := t.TempDir()
	open := filepath.Join(root, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	s, srv := newOAuthServer(t)
	for dir, problem := range map[string]LockDirProblem{open: LockDirSharedWrite, link: LockDirSymlink} {
		_, err := New(Config{BaseURL: srv.URL, ClientID: testClientID, ClientSecret: testClientSecret, TokenCacheDir: dir})
		var ce *TokenCacheDirError
		if !errors.As(err, &ce) || ce.Path != dir || ce.Problem != problem {
			t.Errorf("%s: err = %v, want a TokenCacheDirError of problem %d", dir, err, problem)
		}
	}
	if n := s.tokenReqs.Load(); n != 0 {
		t.Errorf("%d token requests", n)
	}
}

// A cached token that Atlas refuses is dropped from the cache and renewed
// once; the next process finds the new one.
func TestTokenCache_refusedTokenDroppedAndRenewed(t *testing.T) {
	s, srv := newOAuthServer(t)
	dir := filepath.Join(t.TempDir(), "tokens")
	if err := fetchJob(cacheClient(s, t, srv.URL, dir)); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.refused[s.token(1)] = true // revoked elsewhere
	s.mu.Unlock()
	if err := fetchJob(cacheClient(s, t, srv.URL, dir)); err != nil {
		t.Fatal(err)
	}
	if err := fetchJob(cacheClient(s, t, srv.URL, dir)); err != nil {
		t.Fatal(err)
	}
	if n := s.tokenReqs.Load(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
	if last := s.apiSeen[len(s.apiSeen)-1]; last != "Bearer "+s.token(2) {
		t.Errorf("the last process sent %q, want the renewed token", last)
	}
}

// A cached token is renewed ten minutes before it expires: a process that
// starts eleven minutes before uses it, one that starts nine minutes
// before takes a new one.
func TestTokenCache_renewedTenMinutesBeforeExpiry(t *testing.T) {
	s, srv := newOAuthServer(t)
	dir := filepath.Join(t.TempDir(), "tokens")
	if err := fetchJob(cacheClient(s, t, srv.URL, dir)); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(49 * time.Minute)
	if err := fetchJob(cacheClient(s, t, srv.URL, dir)); err != nil {
		t.Fatal(err)
	}
	if n := s.tokenReqs.Load(); n != 1 {
		t.Errorf("at 49 minutes: token requests = %d, want 1", n)
	}
	s.clock.Advance(2 * time.Minute)
	if err := fetchJob(cacheClient(s, t, srv.URL, dir)); err != nil {
		t.Fatal(err)
	}
	if n := s.tokenReqs.Load(); n != 2 {
		t.Errorf("at 51 minutes: token requests = %d, want 2", n)
	}
}
