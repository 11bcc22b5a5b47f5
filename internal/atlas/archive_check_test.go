// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// feedCheck writes content to c in pieces of random sizes, as reads from
// the network bring it, up to the first write the check refuses.
func feedCheck(c *archiveCheck, content []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for len(content) > 0 {
		n := min(len(content), 1+r.IntN(archiveReadBytes))
		if _, err := c.Write(content[:n]); err != nil {
			return
		}
		content = content[n:]
	}
}

func TestArchiveCheckSumsWhatItIsFed(t *testing.T) {
	// Two gzip members make one valid stream, as concatenated archives do.
	content := append(gzipRandom(t, 700<<10, 21), gzipRandom(t, 90<<10, 22)...)
	for seed := range uint64(4) {
		c := newArchiveCheck()
		feedCheck(c, content, seed)
		sum, err := c.finish()
		if err != nil {
			t.Fatal(err)
		}
		if sum != sha256Hex(content) {
			t.Fatalf("split %d: sha256 %s; want %s", seed, sum, sha256Hex(content))
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
			if _, err := c.finish(); err == nil {
				t.Fatal("the check passed")
			}
		})
	}
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
	if !errors.As(err, &ae) || ae.Kind != ArchiveCorrupt || !errors.Is(err, gzip.ErrHeader) {
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
