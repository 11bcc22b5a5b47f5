// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// codeRangeNotSatisfiable answers a Range that starts past the archive's end.
const codeRangeNotSatisfiable = "RANGE_NOT_SATISFIABLE" // simulator, download host

// downloadChunk is the fixed buffer an archive is streamed through.
const downloadChunk = 64 << 10

// downloadStallTimeout is how long one chunk of a download may take to be
// written before the connection is given up. It is a network deadline, on
// the real clock, renewed for every chunk so that big archives outlive the
// server's WriteTimeout.
const downloadStallTimeout = 2 * time.Minute

// archiveBody is what a download link serves: a bytes.Reader for the small
// built archive, an *Archive for a generated one.
type archiveBody interface {
	io.ReaderAt
	Size() int64
}

// downloadMeta are the validators and names of one download answer.
type downloadMeta struct {
	fileName     string
	etag         string    // strong
	lastModified time.Time // the job's finish time
	dropFault    bool      // Faults.DropRate hit this request (Faults.DownloadFaults)
}

// rangeOutcome is what a Range header asks for.
type rangeOutcome int

const (
	rangeNone          rangeOutcome = iota // no usable Range: send the whole archive
	rangeSatisfiable                       // send [start, end]
	rangeUnsatisfiable                     // 416
)

// parseRange reads a Range header (RFC 9110 section 14.2) against an entity of
// size bytes. Only single byte ranges are served: bytes=a-b, bytes=a- and
// bytes=-n. A header in another unit, with several ranges, or that does not
// parse is ignored (the whole archive is sent), as the RFC allows. end is
// inclusive.
func parseRange(header string, size int64) (start, end int64, outcome rangeOutcome) {
	unit, spec, ok := strings.Cut(strings.TrimSpace(header), "=")
	// Several ranges ("0-1,5-6") fail to parse as one below.
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return 0, 0, rangeNone
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, 0, rangeNone
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" { // bytes=-n: the last n bytes
		n, ok := parseDigits(last)
		switch {
		case !ok:
			return 0, 0, rangeNone
		case n == 0:
			return 0, 0, rangeUnsatisfiable
		}
		return max(0, size-n), size - 1, rangeSatisfiable
	}
	a, ok := parseDigits(first)
	if !ok {
		return 0, 0, rangeNone
	}
	end = size - 1
	if last != "" {
		b, ok := parseDigits(last)
		if !ok || b < a {
			return 0, 0, rangeNone
		}
		end = min(b, size-1)
	}
	if a >= size {
		return 0, 0, rangeUnsatisfiable
	}
	return a, end, rangeSatisfiable
}

// parseDigits reads a non-empty run of decimal digits.
func parseDigits(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ifRangeHolds reports whether an If-Range value lets the Range apply:
// absent, the archive's strong ETag, or exactly its Last-Modified date. A
// weak tag never matches.
func ifRangeHolds(v string, m downloadMeta) bool {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return true
	case strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "W/"):
		return v == m.etag
	}
	t, err := http.ParseTime(v)
	return err == nil && !m.lastModified.IsZero() && t.Equal(m.lastModified.Truncate(time.Second))
}

// sendArchive answers a download link with body: 200 with all of it, or
// 206 with the one range asked for, or 416; cut short by ArchiveDropAfter
// or a dropped-connection fault.
func (s *Server) sendArchive(c *call, body archiveBody, m downloadMeta) {
	size := body.Size()
	h := c.w.Header()
	h.Set("Content-Type", "application/gzip")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, m.fileName))
	h.Set("Cache-Control", "private, no-store")
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", m.etag)
	if !m.lastModified.IsZero() {
		h.Set("Last-Modified", m.lastModified.UTC().Format(http.TimeFormat))
	}

	rangeHeader := c.r.Header.Get("Range")
	ranged := rangeHeader != ""
	status, start, n := http.StatusOK, int64(0), size
	if ranged && ifRangeHolds(c.r.Header.Get("If-Range"), m) {
		a, b, outcome := parseRange(rangeHeader, size)
		switch outcome {
		case rangeSatisfiable:
			status, start, n = http.StatusPartialContent, a, b-a+1
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, size))
		case rangeUnsatisfiable:
			h.Del("Content-Disposition")
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			s.stats.download(0, true, false)
			c.fail(newAPIError(http.StatusRequestedRangeNotSatisfiable, codeRangeNotSatisfiable,
				fmt.Sprintf("The range %q is not satisfiable: the archive is %d bytes.", rangeHeader, size)))
			return
		}
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))

	send, cut := n, false
	limited := s.dropAfter > 0 && n > s.dropAfter // ArchiveDropAfter cuts this answer
	if limited {
		send, cut = s.dropAfter, true
	}
	if m.dropFault {
		// A dropped download sends half of what it would have, then hangs up.
		send, cut = min(send, n/2), true
		c.fault = faultDropped
	}
	c.w.WriteHeader(status)
	var written int64
	if c.r.Method != http.MethodHead {
		var p *pacer
		if s.downloadRate > 0 {
			p = &pacer{rate: s.downloadRate, now: s.now, sleep: s.sleep, start: s.now()}
		}
		written = streamArchive(c.r.Context(), c.w, body, start, send, p)
	}
	s.stats.download(written, ranged, limited)
	if cut {
		_ = http.NewResponseController(c.w).Flush()
		// ServeHTTP counts the request, then aborts the answer, which
		// closes the connection.
		c.dropped, c.droppedStatus = true, status
	}
}

// pacer holds a download answer to its rate (Config.DownloadRate).
type pacer struct {
	rate  int64 // bytes a second
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	start time.Time
}

// wait returns when the byte at offset sent (from the answer's start) is
// due: it is measured from the start, so a late wake-up is made up by the
// chunks after it and the rate holds over the whole answer.
func (p *pacer) wait(ctx context.Context, sent int64) error {
	due := p.start.Add(time.Duration(float64(sent) / float64(p.rate) * float64(time.Second)))
	if d := due.Sub(p.now()); d > 0 {
		return p.sleep(ctx, d)
	}
	return nil
}

// streamArchive writes n bytes of body from off through one fixed buffer,
// paced by p when it is not nil, and returns how many were written.
func streamArchive(ctx context.Context, w http.ResponseWriter, body io.ReaderAt, off, n int64, p *pacer) int64 {
	rc := http.NewResponseController(w)
	buf := make([]byte, min(n, downloadChunk))
	var written int64
	for written < n {
		if p != nil && p.wait(ctx, written) != nil {
			break
		}
		k := int(min(int64(len(buf)), n-written))
		got, err := body.ReadAt(buf[:k], off+written)
		if got == 0 && err != nil {
			break
		}
		_ = rc.SetWriteDeadline(time.Now().Add(downloadStallTimeout)) // unsupported by recorders: ignored
		wrote, err := w.Write(buf[:got])
		written += int64(wrote)
		if err != nil {
			break
		}
	}
	return written
}
