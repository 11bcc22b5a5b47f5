// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// archiveServer serves one archive at /dl/<token>/archive.tar.gz with
// Range, If-Range and ETag support, and can misbehave on demand.
type archiveServer struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	content []byte
	etag    string
	tokens  map[string]bool // valid tokens; others answer 410
	// dropAfter > 0 drops each connection after that many body bytes.
	dropAfter int
	// drops limits how many responses are dropped (-1: all).
	drops int
	// fail5xx answers that many requests 503 first.
	fail5xx int
	// onRequest runs for every request before it is answered.
	onRequest func(n int, r *http.Request)

	requests []http.Header
	sent     int64 // body bytes sent in all
}

func gzipRandom(t testing.TB, n int, seed uint64) []byte {
	t.Helper()
	raw := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return buf.Bytes()
}

func newArchiveServer(t *testing.T, content []byte) *archiveServer {
	s := &archiveServer{t: t, content: content, etag: `"v1"`, tokens: map[string]bool{"tok-secret-1": true}, drops: -1}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *archiveServer) link(token string) string {
	return s.srv.URL + "/dl/" + token + "/archive.tar.gz?token=" + token
}

func (s *archiveServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Header.Clone())
	n := len(s.requests)
	hook := s.onRequest
	s.mu.Unlock()
	if hook != nil {
		hook(n, r)
	}
	s.mu.Lock()
	content, etag := s.content, s.etag
	parts := strings.Split(r.URL.Path, "/")
	valid := len(parts) == 4 && s.tokens[parts[2]]
	fail := s.fail5xx > 0
	if fail {
		s.fail5xx--
	}
	drop := 0
	if s.dropAfter > 0 && s.drops != 0 {
		drop = s.dropAfter
		if s.drops > 0 {
			s.drops--
		}
	}
	s.mu.Unlock()
	switch {
	case !valid:
		http.Error(w, "link expired", http.StatusGone)
		return
	case fail:
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/gzip")
	start := 0
	status := http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && (r.Header.Get("If-Range") == "" || r.Header.Get("If-Range") == etag) {
		v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || v > len(content) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(content)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start, status = v, http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", v, len(content)-1, len(content)))
	}
	body := content[start:]
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if drop > 0 && drop < len(body) {
		_, _ = w.Write(body[:drop])
		s.addSent(drop)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}
	_, _ = w.Write(body)
	s.addSent(len(body))
}

func (s *archiveServer) addSent(n int) {
	s.mu.Lock()
	s.sent += int64(n)
	s.mu.Unlock()
}

func (s *archiveServer) sentBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

func (s *archiveServer) headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.requests...)
}

// archiveClient is a client with API keys for another host, on a fake
// clock.
func archiveClient(t *testing.T) (*Client, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	c, err := New(Config{
		BaseURL: "http://127.0.0.1:1", PublicKey: testUser, PrivateKey: testPass,
		Now: clk.Now, Sleep: clk.Sleep, Jitter: func() float64 { return 0.5 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func checkDownloaded(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file has %d bytes (sha256 %s), want %d (sha256 %s)", len(got), sha256Hex(got), len(want), sha256Hex(want))
	}
	sum, err := os.ReadFile(path + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	if line := sha256Hex(want) + "  " + filepath.Base(path) + "\n"; string(sum) != line {
		t.Fatalf("checksum file = %q, want %q", sum, line)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*part*"))
	if len(leftovers) > 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
}

func noToken(t *testing.T, what string, s string) {
	t.Helper()
	if strings.Contains(s, "tok-secret") {
		t.Fatalf("%s holds the link's token: %s", what, s)
	}
}

func TestDownloadArchiveWritesFileAndChecksum(t *testing.T) {
	content := gzipRandom(t, 300<<10, 1)
	s := newArchiveServer(t, content)
	c, _ := archiveClient(t)
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	res, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, path, content)
	if res.SHA256 != sha256Hex(content) || res.Size != int64(len(content)) || res.Attempts != 1 || res.Resumes != 0 {
		t.Fatalf("result = %+v", res)
	}
	for _, h := range s.headers() {
		if h.Get("Authorization") != "" {
			t.Fatalf("the download link was sent credentials: %q", RedactAuthorization(h.Get("Authorization")))
		}
		if h.Get("Accept-Encoding") != "identity" {
			t.Fatalf("Accept-Encoding = %q, want identity (a decoded body cannot be resumed by byte)", h.Get("Accept-Encoding"))
		}
	}
}

// TestDownloadArchiveSendsNoCredentialsToLinkOnAPIHost: even a link on the
// API's own host gets no Authorization, with keys or with a token.
func TestDownloadArchiveSendsNoCredentialsToLinkOnAPIHost(t *testing.T) {
	content := gzipRandom(t, 10<<10, 2)
	s := newArchiveServer(t, content)
	for name, cfg := range map[string]Config{
		"digest": {PublicKey: testUser, PrivateKey: testPass},
		"bearer": {AccessToken: "secret-access-token"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.BaseURL = s.srv.URL
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "a.tgz")
			if _, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path}); err != nil {
				t.Fatal(err)
			}
			h := s.headers()
			if got := h[len(h)-1].Get("Authorization"); got != "" {
				t.Fatalf("the download link was sent credentials: %q", RedactAuthorization(got))
			}
		})
	}
}

func TestDownloadArchiveResumesAfterDrops(t *testing.T) {
	content := gzipRandom(t, 1<<20, 3)
	s := newArchiveServer(t, content)
	s.dropAfter = 200 << 10
	c, clk := archiveClient(t)
	var events []ArchiveEvent
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	res, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path,
		Progress: func(p ArchiveProgress) {
			noToken(t, "a progress report", fmt.Sprint(p))
			if p.Event != ArchiveProgressed {
				events = append(events, p.Event)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, path, content)
	h := s.headers()
	if len(h) < 5 || res.Resumes != len(h)-1 || res.Restarts != 0 {
		t.Fatalf("%d requests, result %+v: want every request after the first to resume", len(h), res)
	}
	for i, hh := range h[1:] {
		if want := fmt.Sprintf("bytes=%d-", (i+1)*(200<<10)); hh.Get("Range") != want || hh.Get("If-Range") != `"v1"` {
			t.Fatalf("request %d: Range %q If-Range %q, want %q and the ETag", i+2, hh.Get("Range"), hh.Get("If-Range"), want)
		}
	}
	if s.sentBytes() != int64(len(content)) {
		t.Fatalf("the server sent %d bytes for a %d-byte archive: bytes were fetched twice", s.sentBytes(), len(content))
	}
	if sl := clk.Sleeps(); len(sl) != len(h)-1 || sl[0] <= 0 {
		t.Fatalf("backoff sleeps on the client's clock = %v, want one per drop", sl)
	}
	if !containsAll(events, ArchiveRetrying, ArchiveResumed, ArchiveFinishing, ArchiveDone) {
		t.Fatalf("progress events = %v", events)
	}
}

func containsAll[T comparable](have []T, want ...T) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestDownloadArchiveRestartsWhenETagChanges: after a drop the archive is
// another one; If-Range makes the server send it whole, and the download
// starts over instead of splicing two archives.
func TestDownloadArchiveRestartsWhenETagChanges(t *testing.T) {
	first, second := gzipRandom(t, 400<<10, 4), gzipRandom(t, 400<<10, 5)
	s := newArchiveServer(t, first)
	s.dropAfter, s.drops = 100<<10, 1
	s.onRequest = func(n int, _ *http.Request) {
		if n == 2 {
			s.mu.Lock()
			s.content, s.etag = second, `"v2"`
			s.mu.Unlock()
		}
	}
	c, _ := archiveClient(t)
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	res, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, path, second)
	if res.Restarts != 1 || res.Resumes != 0 {
		t.Fatalf("result = %+v, want one restart", res)
	}
}

// TestDownloadArchiveRenewsExpiredLink: the link dies mid-way (410); Renew
// gives a new one and the download resumes where it was.
func TestDownloadArchiveRenewsExpiredLink(t *testing.T) {
	content := gzipRandom(t, 600<<10, 6)
	s := newArchiveServer(t, content)
	s.dropAfter, s.drops = 250<<10, 1
	s.onRequest = func(n int, _ *http.Request) {
		if n == 2 {
			s.mu.Lock()
			s.tokens = map[string]bool{"tok-secret-2": true}
			s.mu.Unlock()
		}
	}
	c, _ := archiveClient(t)
	renewals := 0
	var reports []string
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	res, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path,
		Renew: func(context.Context) (string, error) {
			renewals++
			return s.link("tok-secret-2"), nil
		},
		Progress: func(p ArchiveProgress) { reports = append(reports, fmt.Sprint(p)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, path, content)
	if renewals != 1 || res.Renewals != 1 || res.Resumes != 1 || res.Restarts != 0 {
		t.Fatalf("renewals %d, result %+v: want one renewal and a resume", renewals, res)
	}
	if s.sentBytes() != int64(len(content)) {
		t.Fatalf("the server sent %d bytes for %d: the renewal restarted", s.sentBytes(), len(content))
	}
	for _, r := range reports {
		noToken(t, "a progress report", r)
	}
}

func TestDownloadArchiveExpiredLinkWithoutRenew(t *testing.T) {
	s := newArchiveServer(t, gzipRandom(t, 1000, 7))
	c, _ := archiveClient(t)
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	_, err := c.DownloadArchive(context.Background(), s.link("tok-secret-old"), ArchiveOptions{Path: path})
	var ae *ArchiveError
	var se *ArchiveStatusError
	if !errors.As(err, &ae) || ae.Kind != ArchiveExpired || !errors.As(err, &se) || se.StatusCode != http.StatusGone {
		t.Fatalf("err = %v, want an expired-link ArchiveError", err)
	}
	noToken(t, "the error", err.Error())
	if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("a failed download left %s", path)
	}
}

func TestDownloadArchiveRefusesIncompleteGzip(t *testing.T) {
	whole := gzipRandom(t, 50<<10, 8)
	for name, content := range map[string][]byte{
		"truncated":   whole[:len(whole)-100],
		"not gzip":    []byte("<html>an error page</html>"),
		"bad trailer": append(append([]byte{}, whole[:len(whole)-4]...), 0, 0, 0, 0),
	} {
		t.Run(name, func(t *testing.T) {
			s := newArchiveServer(t, content)
			c, _ := archiveClient(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "snap.tar.gz")
			_, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path})
			var ae *ArchiveError
			if !errors.As(err, &ae) || ae.Kind != ArchiveCorrupt || ae.Path != path {
				t.Fatalf("err = %v, want a corrupt-archive error of the path", err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
}

func TestDownloadArchiveOverwrite(t *testing.T) {
	content := gzipRandom(t, 5000, 9)
	s := newArchiveServer(t, content)
	c, _ := archiveClient(t)
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path})
	var ae *ArchiveError
	if !errors.As(err, &ae) || ae.Kind != ArchiveExists || ae.At != path {
		t.Fatalf("err = %v, want an error naming the existing path", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "keep me" || len(s.headers()) != 0 {
		t.Fatalf("the existing file was touched (%q) or the link fetched (%d requests)", got, len(s.headers()))
	}
	if _, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, path, content)
}

// TestDownloadArchiveKeepsFileThatAppearsMeanwhile: without overwrite, a
// file that appears during the download is not replaced.
func TestDownloadArchiveKeepsFileThatAppearsMeanwhile(t *testing.T) {
	s := newArchiveServer(t, gzipRandom(t, 5000, 10))
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	s.onRequest = func(int, *http.Request) { _ = os.WriteFile(path, []byte("theirs"), 0o600) }
	c, _ := archiveClient(t)
	_, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path})
	var ae *ArchiveError
	if !errors.As(err, &ae) || ae.Kind != ArchiveExists {
		t.Fatalf("err = %v, want exists", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "theirs" {
		t.Fatalf("the file that appeared was replaced: %q", got)
	}
}

// TestDownloadArchiveChecksumFailureKeepsArchive: when Path.sha256 cannot
// be written once the archive is in place (here a directory appears
// there), the error says so and the result describes the archive.
func TestDownloadArchiveChecksumFailureKeepsArchive(t *testing.T) {
	content := gzipRandom(t, 5000, 15)
	s := newArchiveServer(t, content)
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	s.onRequest = func(int, *http.Request) { _ = os.Mkdir(path+".sha256", 0o700) }
	c, _ := archiveClient(t)
	res, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path, Overwrite: true})
	var ae *ArchiveError
	if !errors.As(err, &ae) || ae.Kind != ArchiveChecksumFailed || ae.At != path+".sha256" {
		t.Fatalf("err = %v, want the checksum file's failure", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) || res == nil || res.SHA256 != sha256Hex(content) || res.Size != int64(len(content)) {
		t.Fatalf("the archive at the path has %d bytes, result %+v: want the whole archive, described", len(got), res)
	}
}

// TestDownloadArchiveTreatsChecksumPathLikePath: without overwrite,
// whatever is at Path.sha256 (a file, a symlink) is refused before the link
// is fetched, and left alone; a directory there is refused even with
// overwrite; one that appears during the download is not replaced.
func TestDownloadArchiveTreatsChecksumPathLikePath(t *testing.T) {
	content := gzipRandom(t, 5000, 16)
	for _, tc := range []struct {
		name      string
		overwrite bool
		before    bool // put it there before the download, else during it
		put       func(t *testing.T, p string)
		kind      ArchiveErrorKind
	}{
		{"file", false, true, func(t *testing.T, p string) { writeFile(t, p, "theirs\n") }, ArchiveExists},
		{"symlink", false, true, func(t *testing.T, p string) {
			writeFile(t, p+".target", "theirs\n")
			if err := os.Symlink(p+".target", p); err != nil {
				t.Fatal(err)
			}
		}, ArchiveExists},
		{"directory", true, true, func(t *testing.T, p string) { _ = os.Mkdir(p, 0o700) }, ArchiveIsDir},
		{"appears meanwhile", false, false, func(t *testing.T, p string) { writeFile(t, p, "theirs\n") }, ArchiveChecksumFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newArchiveServer(t, content)
			path := filepath.Join(t.TempDir(), "snap.tar.gz")
			sum := path + ".sha256"
			if tc.before {
				tc.put(t, sum)
			} else {
				s.onRequest = func(int, *http.Request) { tc.put(t, sum) }
			}
			was, _ := os.Lstat(sum)
			c, _ := archiveClient(t)
			_, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path, Overwrite: tc.overwrite})
			var ae *ArchiveError
			if !errors.As(err, &ae) || ae.Kind != tc.kind || ae.At != sum {
				t.Fatalf("err = %v, want %s at the checksum path", err, tc.kind)
			}
			if tc.before && len(s.headers()) != 0 {
				t.Fatalf("the link was fetched %d times", len(s.headers()))
			}
			now, err := os.Lstat(sum)
			if was == nil {
				was = now
			}
			if err != nil || now.Mode() != was.Mode() || now.ModTime() != was.ModTime() {
				t.Fatalf("what was at the checksum path was replaced (%v, %v)", now, err)
			}
			if tc.name != "directory" {
				if got, _ := os.ReadFile(sum); string(got) != "theirs\n" {
					t.Fatalf("the checksum path reads %q", got)
				}
			}
		})
	}
}

// TestCheckArchivePathSaysWhatIsThere: a refusal says what is in the way;
// a dangling symbolic link is one, and overwrite replaces it.
func TestCheckArchivePathSaysWhatIsThere(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.tgz")
	writeFile(t, file, "x")
	link := filepath.Join(dir, "link.tgz")
	dangling := filepath.Join(dir, "dangling.tgz")
	gone := filepath.Join(dir, "gone", "old.tgz")
	if os.Symlink(file, link) != nil || os.Symlink(gone, dangling) != nil {
		t.Skip("no symbolic links here")
	}
	for _, tc := range []struct {
		path   string
		found  ArchiveFound
		target string
	}{
		{file, ArchiveFoundFile, ""},
		{link, ArchiveFoundSymlink, file},
		{dangling, ArchiveFoundDangling, gone},
	} {
		var ae *ArchiveError
		if err := CheckArchivePath(tc.path, false); !errors.As(err, &ae) || ae.Kind != ArchiveExists || ae.Found != tc.found || ae.Target != tc.target {
			t.Errorf("%s: err = %v (found %q, target %q), want %s to %q", tc.path, err, ae.Found, ae.Target, tc.found, tc.target)
		}
	}
	content := gzipRandom(t, 5000, 17)
	s := newArchiveServer(t, content)
	c, _ := archiveClient(t)
	if _, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: dangling, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, dangling, content)
}

// TestDownloadArchiveRemovesStaleParts: part files of the same path that
// no live run holds (those a killed run left) are removed when a download
// starts; the part file of a download still running, those of other paths
// and names that only look alike are kept.
func TestDownloadArchiveRemovesStaleParts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.tar.gz")
	first, second := gzipRandom(t, 64<<10, 18), gzipRandom(t, 5000, 19)
	sent, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(first)))
		_, _ = w.Write(first[:1000])
		w.(http.Flusher).Flush()
		close(sent)
		<-release
		_, _ = w.Write(first[1000:])
	}))
	t.Cleanup(slow.Close)
	c, _ := archiveClient(t)
	running := make(chan error, 1)
	go func() {
		_, err := c.DownloadArchive(context.Background(), slow.URL+"/a.tgz", ArchiveOptions{Path: path, Overwrite: true})
		running <- err
	}()
	<-sent // the part file is made before the request
	live, _ := filepath.Glob(filepath.Join(dir, ".snap.tar.gz.part-*"))
	if len(live) != 1 {
		t.Fatalf("part files of the running download: %v", live)
	}
	stale := filepath.Join(dir, ".snap.tar.gz.part-123456")
	kept := []string{live[0], filepath.Join(dir, ".snap.tar.gz.part-12x"), filepath.Join(dir, ".other.tgz.part-123456"),
		filepath.Join(dir, ".snap.tar.gz.part-1.part-2"), filepath.Join(dir, "snap.tar.gz.part-123456")}
	for _, p := range append(kept[1:], stale) {
		writeFile(t, p, "left")
	}
	s := newArchiveServer(t, second)
	if _, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale part file is still there (%v)", err)
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}
	close(release)
	if err := <-running; err != nil {
		t.Fatalf("the download that was running failed: %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, first) {
		t.Fatal("the path does not hold the archive of the download that finished last")
	}
}

func writeFile(t *testing.T, p, text string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheckArchivePath(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "there.tgz")
	_ = os.WriteFile(existing, nil, 0o600)
	locked := filepath.Join(dir, "locked")
	_ = os.Mkdir(locked, 0o500)
	for _, tc := range []struct {
		name, path string
		overwrite  bool
		kind       ArchiveErrorKind
		at         string
	}{
		{"ok", filepath.Join(dir, "new.tgz"), false, "", ""},
		{"missing dir", filepath.Join(dir, "nope", "a.tgz"), false, ArchiveNoDir, filepath.Join(dir, "nope")},
		{"dir not a dir", filepath.Join(existing, "a.tgz"), false, ArchiveNoDir, existing},
		{"dir itself", dir, true, ArchiveIsDir, dir},
		{"exists", existing, false, ArchiveExists, existing},
		{"exists overwrite", existing, true, "", ""},
		{"not writable", filepath.Join(locked, "a.tgz"), false, ArchiveDirNotWritable, locked},
		{"empty", "", false, ArchivePathEmpty, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "not writable" && os.Geteuid() == 0 {
				t.Skip("root writes anywhere")
			}
			err := CheckArchivePath(tc.path, tc.overwrite)
			var ae *ArchiveError
			switch {
			case tc.kind == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.kind != "" && (!errors.As(err, &ae) || ae.Kind != tc.kind || ae.At != tc.at):
				t.Fatalf("err = %v, want kind %s at %q", err, tc.kind, tc.at)
			}
		})
	}
}

func TestDownloadArchiveRetries5xxWithBackoff(t *testing.T) {
	content := gzipRandom(t, 5000, 11)
	s := newArchiveServer(t, content)
	s.fail5xx = 2
	c, clk := archiveClient(t)
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	if _, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path}); err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, path, content)
	sl := clk.Sleeps()
	if len(sl) != 2 || sl[1] <= sl[0] {
		t.Fatalf("sleeps = %v, want two growing backoffs", sl)
	}

	s.mu.Lock()
	s.fail5xx = 1000
	s.mu.Unlock()
	path2 := filepath.Join(t.TempDir(), "snap.tar.gz")
	_, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path2, MaxAttempts: 4})
	var ae *ArchiveError
	var se *ArchiveStatusError
	if !errors.As(err, &ae) || ae.Kind != ArchiveUnreachable || ae.Attempts != 4 || !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want to give up after 4 attempts", err)
	}
	noToken(t, "the error", err.Error())
}

// TestDownloadArchiveStopsRetryingAtDeadline: the time ctx allows is
// counted on the client's clock from the start of the download, so the
// backoffs stop when they would pass it, whatever the wall clock says.
func TestDownloadArchiveStopsRetryingAtDeadline(t *testing.T) {
	s := newArchiveServer(t, gzipRandom(t, 5000, 13))
	s.fail5xx = 1000
	c, clk := archiveClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := clk.Now()
	_, err := c.DownloadArchive(ctx, s.link("tok-secret-1"), ArchiveOptions{Path: filepath.Join(t.TempDir(), "a"), MaxAttempts: 100})
	var ae *ArchiveError
	if !errors.As(err, &ae) || ae.Kind != ArchiveStopped || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want stopped at the deadline", err)
	}
	if waited := clk.Now().Sub(start); waited > time.Minute {
		t.Errorf("the retries waited %s on the client's clock, past the minute allowed", waited)
	}
	if len(clk.Sleeps()) == 0 {
		t.Error("no retry was made before the deadline")
	}
}

// TestDownloadArchiveUntrustedLinkFailsAtOnce: a link whose certificate
// does not verify is not retried, and the error carries the typed cause.
func TestDownloadArchiveUntrustedLinkFailsAtOnce(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c, clk := archiveClient(t) // trusts the system roots only
	_, err := c.DownloadArchive(context.Background(), srv.URL+"/dl/a.tgz?token=tok-secret-1", ArchiveOptions{Path: filepath.Join(t.TempDir(), "a")})
	var ae *ArchiveError
	if !errors.As(err, &ae) || ae.Kind != ArchiveUnreachable || ae.Permanent == nil || ae.Permanent.Kind != UntrustedCertificate {
		t.Fatalf("err = %v, want unreachable for an untrusted certificate", err)
	}
	if ae.Attempts != 1 || len(clk.Sleeps()) != 0 {
		t.Errorf("%d attempts and %d waits, want one attempt and no retry", ae.Attempts, len(clk.Sleeps()))
	}
	noToken(t, "the error", err.Error())
}

func TestDownloadArchiveRefusalNamesNoLink(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	c, _ := archiveClient(t)
	_, err := c.DownloadArchive(context.Background(), srv.URL+"/dl/tok-secret-1/a.tgz?token=tok-secret-1", ArchiveOptions{Path: filepath.Join(t.TempDir(), "a")})
	var ae *ArchiveError
	var se *ArchiveStatusError
	if !errors.As(err, &ae) || ae.Kind != ArchiveRefused || !errors.As(err, &se) || se.StatusCode != http.StatusNotFound {
		t.Fatalf("err = %v, want HTTP 404", err)
	}
	noToken(t, "the error", err.Error())
	if _, err := c.DownloadArchive(context.Background(), "ftp://example.com/tok-secret-1", ArchiveOptions{Path: filepath.Join(t.TempDir(), "a")}); err == nil {
		t.Fatal("an ftp link was accepted")
	} else {
		noToken(t, "the error", err.Error())
	}
}

// TestDownloadArchiveProgressPace: reports come at the set pace on the
// client's clock, with bytes, total, rate and ETA.
func TestDownloadArchiveProgressPace(t *testing.T) {
	content := gzipRandom(t, 8<<20, 12)
	s := newArchiveServer(t, content)
	clk := fakeclock.New(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	tick := func() time.Time { clk.Advance(time.Second); return clk.Now() }
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", PublicKey: testUser, PrivateKey: testPass, Now: tick, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	var periodic []ArchiveProgress
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	_, err = c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path, ProgressEvery: 2 * time.Second,
		Progress: func(p ArchiveProgress) {
			if p.Event == "" {
				periodic = append(periodic, p)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(periodic) == 0 {
		t.Fatal("no periodic progress report")
	}
	for i, p := range periodic {
		if p.Total != int64(len(content)) || p.Rate <= 0 || p.ETA < 0 || (i > 0 && p.Done <= periodic[i-1].Done) {
			t.Fatalf("report %d = %+v", i, p)
		}
	}
}

// TestDownloadArchiveMemoryIsFlat: a large archive streams through a fixed
// buffer; the heap does not grow with it.
func TestDownloadArchiveMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 128 MiB")
	}
	member := gzipRandom(t, 1<<20, 13) // gzip members concatenate into one valid stream
	const members = 128
	total := int64(len(member)) * members
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.FormatInt(total, 10))
		w.Header().Set("ETag", `"big"`)
		for range members {
			if _, err := w.Write(member); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	clk := fakeclock.New(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", PublicKey: testUser, PrivateKey: testPass,
		Now: func() time.Time { clk.Advance(time.Millisecond); return clk.Now() }, Sleep: clk.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	reports := 0
	path := filepath.Join(t.TempDir(), "big.tar.gz")
	res, err := c.DownloadArchive(context.Background(), srv.URL+"/big", ArchiveOptions{Path: path, ProgressEvery: time.Nanosecond,
		Progress: func(ArchiveProgress) {
			reports++
			if reports%64 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != total {
		t.Fatalf("size %d, want %d", res.Size, total)
	}
	if grew := int64(peak) - int64(base); grew > 16<<20 {
		t.Fatalf("the heap grew by %d MiB while streaming %d MiB", grew>>20, total>>20)
	}
	if reports < 64 {
		t.Fatalf("only %d progress reports: the heap was not sampled", reports)
	}
}

// signalTimer tells on reset, which the download does after every read
// that brought bytes.
type signalTimer struct{ reset chan struct{} }

func (s signalTimer) Reset(time.Duration) bool {
	select {
	case s.reset <- struct{}{}:
	default:
	}
	return true
}
func (signalTimer) Stop() bool { return true }

// TestDownloadArchiveResumesAfterStall: a connection that stops sending
// mid-body is given up when the watchdog fires (here on the test's signal,
// not after real time), and the download resumes on a new one.
func TestDownloadArchiveResumesAfterStall(t *testing.T) {
	content := gzipRandom(t, 64<<10, 14)
	stalled := make(chan struct{})
	var mu sync.Mutex
	var ranges []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		n := len(ranges)
		mu.Unlock()
		w.Header().Set("ETag", `"s1"`)
		if n > 1 {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		_, _ = w.Write(content[:1000])
		w.(http.Flusher).Flush()
		close(stalled)
		<-r.Context().Done() // stalls until the client gives up
	}))
	t.Cleanup(srv.Close)
	var fmu sync.Mutex
	var watchdogs []func()
	read := make(chan struct{}, 1)
	go func() {
		<-stalled
		<-read // the client holds the first 1000 bytes
		fmu.Lock()
		fire := watchdogs[0]
		fmu.Unlock()
		fire()
	}()
	c, _ := archiveClient(t)
	var why []error
	path := filepath.Join(t.TempDir(), "snap.tar.gz")
	res, err := c.DownloadArchive(context.Background(), srv.URL+"/a.tgz", ArchiveOptions{Path: path,
		afterFunc: func(_ time.Duration, f func()) stallTimer {
			fmu.Lock()
			watchdogs = append(watchdogs, f)
			fmu.Unlock()
			return signalTimer{reset: read}
		},
		Progress: func(p ArchiveProgress) {
			if p.Event == ArchiveRetrying {
				why = append(why, p.Err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkDownloaded(t, path, content)
	mu.Lock()
	defer mu.Unlock()
	// The first read may have brought less than the 1000 bytes sent.
	var at int
	if len(ranges) == 2 {
		_, _ = fmt.Sscanf(ranges[1], "bytes=%d-", &at)
	}
	if res.Resumes != 1 || at <= 0 || at > 1000 {
		t.Fatalf("result %+v, requests with Range %q: want one resume within the first 1000 bytes", res, ranges)
	}
	if len(why) != 1 || !errors.Is(why[0], ErrArchiveStalled) {
		t.Fatalf("the retry reports give %v as causes, want the stall", why)
	}
}
