// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// feedCheck hands content to c in pieces of random sizes, as a download
// that fills buffers unevenly does.
func feedCheck(c *archiveCheck, content []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for len(content) > 0 {
		b := c.buffer()
		n := min(len(content), 1+r.IntN(len(b)))
		copy(b, content[:n])
		c.written(b[:n])
		content = content[n:]
	}
}

func TestArchiveCheckSumsWhatItIsFed(t *testing.T) {
	// Two gzip members make one valid stream, as concatenated archives do.
	content := append(gzipRandom(t, 700<<10, 21), gzipRandom(t, 90<<10, 22)...)
	for seed := range uint64(4) {
		c := newArchiveCheck()
		feedCheck(c, content, seed)
		sum, n, err := c.finish()
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(len(content)) || sum != sha256Hex(content) {
			t.Fatalf("split %d: %d bytes, sha256 %s; want %d, %s", seed, n, sum, len(content), sha256Hex(content))
		}
		if got := len(c.free); got != archiveBuffers {
			t.Fatalf("%d of %d buffers came back", got, archiveBuffers)
		}
	}
}

func TestArchiveCheckRefusesWhatIsNotOneGzipStream(t *testing.T) {
	whole := gzipRandom(t, 600<<10, 23)
	for name, content := range map[string][]byte{
		"empty":          nil,
		"not gzip":       bytes.Repeat([]byte("<html>an error page</html>"), 40000),
		"truncated":      whole[:len(whole)-9],
		"cut in a block": whole[:len(whole)/2],
		"bad trailer":    append(append([]byte{}, whole[:len(whole)-4]...), 1, 2, 3, 4),
		"trailing bytes": append(append([]byte{}, whole...), "junk after the stream"...),
	} {
		t.Run(name, func(t *testing.T) {
			c := newArchiveCheck()
			feedCheck(c, content, 1)
			_, _, err := c.finish()
			if err == nil || !strings.Contains(err.Error(), "gzip stream") {
				t.Fatalf("err = %v, want a gzip-stream error", err)
			}
			if got := len(c.free); got != archiveBuffers {
				t.Fatalf("%d of %d buffers came back: a later download would wait for ever", got, archiveBuffers)
			}
		})
	}
}

// TestArchiveCheckResetForgetsTheBytesBefore: after a restart the check
// covers only the bytes written since, though the bytes before were a
// broken start of another stream.
func TestArchiveCheckResetForgetsTheBytesBefore(t *testing.T) {
	first, second := gzipRandom(t, 500<<10, 24), gzipRandom(t, 300<<10, 25)
	c := newArchiveCheck()
	feedCheck(c, first[:len(first)/3], 2)
	c.reset()
	feedCheck(c, second, 3)
	sum, n, err := c.finish()
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(second)) || sum != sha256Hex(second) {
		t.Fatalf("%d bytes, sha256 %s; want only the second stream's %d, %s", n, sum, len(second), sha256Hex(second))
	}
	c.stop() // a second stop, as the download's deferred clean-up makes, is harmless
}

// TestDownloadArchiveStopsEarlyOnNonGzip: the check runs while the bytes
// arrive, so an answer that is not a gzip stream (an error page served with
// 200, say) ends the download at once instead of after the whole body.
func TestDownloadArchiveStopsEarlyOnNonGzip(t *testing.T) {
	const total = 256 << 20
	chunk := bytes.Repeat([]byte("<p>not an archive</p>\n"), 3000)
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(total))
		w.Header().Set("ETag", `"page"`)
		for sent.Load() < total {
			n, err := w.Write(chunk[:min(len(chunk), int(total-sent.Load()))])
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	c, _ := archiveClient(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.tar.gz")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.DownloadArchive(ctx, srv.URL+"/page", ArchiveOptions{Path: path})
	var ae *ArchiveError
	if !errors.As(err, &ae) || ae.Kind != "corrupt" || !strings.Contains(err.Error(), "not a gzip stream") {
		t.Fatalf("err = %v, want a corrupt-archive error", err)
	}
	srv.CloseClientConnections()
	if got := sent.Load(); got > total/4 {
		t.Fatalf("the server sent %d MiB of a %d MiB body before the download gave up", got>>20, total>>20)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// directAllowed says whether files in dir can be written with direct I/O.
func directAllowed(t *testing.T, dir string) bool {
	t.Helper()
	f, err := os.CreateTemp(dir, "probe-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	return setDirect(f, true)
}

// TestDownloadArchiveBothWaysOfWriting: through the page cache and with
// direct I/O (where the file system allows it), drops at offsets that are
// not block-aligned resume without fetching a byte twice, a changed
// archive starts over, and the file and checksum are the archive's.
func TestDownloadArchiveBothWaysOfWriting(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			defer func(was bool) { useDirectIO = was }(useDirectIO)
			useDirectIO = direct
			dir := t.TempDir()
			wantDirect := direct && directAllowed(t, dir)
			if direct && !wantDirect {
				t.Logf("the file system of %s refuses direct I/O: the page cache is used", dir)
			}

			content := gzipRandom(t, 1<<20+12345, 31)
			s := newArchiveServer(t, content)
			s.dropAfter = 100_003
			c, _ := archiveClient(t)
			path := filepath.Join(dir, "drops.tar.gz")
			res, err := c.DownloadArchive(context.Background(), s.link("tok-secret-1"), ArchiveOptions{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			checkDownloaded(t, path, content)
			if s.sentBytes() != int64(len(content)) || res.Resumes == 0 {
				t.Fatalf("sent %d bytes for %d with %d resumes: bytes were fetched twice, or none resumed", s.sentBytes(), len(content), res.Resumes)
			}
			if res.DirectIO != wantDirect {
				t.Fatalf("DirectIO = %v, want %v", res.DirectIO, wantDirect)
			}

			first, second := gzipRandom(t, 700<<10, 32), gzipRandom(t, 500<<10+77, 33)
			s2 := newArchiveServer(t, first)
			s2.dropAfter, s2.drops = 300_001, 1
			s2.onRequest = func(n int, _ *http.Request) {
				if n == 2 {
					s2.mu.Lock()
					s2.content, s2.etag = second, `"v2"`
					s2.mu.Unlock()
				}
			}
			path = filepath.Join(dir, "changed.tar.gz")
			res, err = c.DownloadArchive(context.Background(), s2.link("tok-secret-1"), ArchiveOptions{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			checkDownloaded(t, path, second)
			if res.Restarts != 1 || res.DirectIO != wantDirect {
				t.Fatalf("result %+v: want one restart, DirectIO %v", res, wantDirect)
			}
		})
	}
}

// TestArchiveCheckAbandonedStopsInflating: once abandoned, the check stops
// decompressing at its next read instead of inflating the rest of a highly
// compressed stream; without the abandonment the same stream checks whole.
func TestArchiveCheckAbandonedStopsInflating(t *testing.T) {
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = zw.Write(make([]byte, 64<<20))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if z.Len() > archiveBufferBytes {
		t.Fatalf("the compressed stream (%d bytes) does not fit one buffer", z.Len())
	}
	for _, abandoned := range []bool{false, true} {
		c := newArchiveCheck()
		b := c.buffer()
		n := copy(b, z.Bytes())
		feed := make(chan []byte, 1)
		feed <- b[:n]
		close(feed)
		c.abandoned.Store(abandoned)
		err := c.inflate(&feedReader{c: c, full: feed})
		switch {
		case abandoned && (err == nil || !strings.Contains(err.Error(), "abandoned")):
			t.Fatalf("abandoned: err = %v, want the check abandoned", err)
		case !abandoned && err != nil:
			t.Fatalf("not abandoned: err = %v", err)
		}
		c.abandoned.Store(false)
		c.stop()
	}
}
