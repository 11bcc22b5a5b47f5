// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// A download link is a presigned address: anyone holding it can read the
// snapshot. Nothing in this file puts it, or any part of it but its host,
// in an error, a log line or a progress report.

// ArchiveOptions says where DownloadArchive puts the archive and how.
type ArchiveOptions struct {
	// Path is the file the archive becomes; its directory must exist.
	Path string
	// Overwrite allows replacing an existing file at Path.
	Overwrite bool
	// Renew, when set, is called when the link answers 403 or 410 (it has
	// expired): it returns a fresh link to the same snapshot.
	Renew func(ctx context.Context) (string, error)
	// Progress, when set, receives a report at most every ProgressEvery
	// (on the client's clock), one for each resume, restart and renewal,
	// and one at the end.
	Progress func(ArchiveProgress)
	// ProgressEvery defaults to 5s.
	ProgressEvery time.Duration
	// MaxAttempts bounds the attempts in a row that bring no byte
	// (default: the client's retry policy's attempts).
	MaxAttempts int
	// MaxRenewals bounds how often the link is renewed (default 3).
	MaxRenewals int
	// StallTimeout ends an attempt that brings no byte for so long
	// (default 2m), and the download resumes with a new connection: a
	// half-open connection would otherwise hold it until ctx ends. It is
	// measured on the wall clock, as a network watchdog.
	StallTimeout time.Duration

	// afterFunc starts the stall watchdog; tests replace it.
	afterFunc func(d time.Duration, f func()) stallTimer
}

// stallTimer is the part of *time.Timer the stall watchdog uses.
type stallTimer interface {
	Reset(d time.Duration) bool
	Stop() bool
}

// ArchiveProgress is one progress report.
type ArchiveProgress struct {
	Done  int64 // bytes received
	Total int64 // size of the archive, -1 while unknown
	// Rate is bytes per second since the download began (0 while no time
	// has passed); ETA is -1 while it cannot be estimated.
	Rate float64
	ETA  time.Duration
	// Event is "" for a periodic report, else one of "resumed",
	// "restarted", "renewed", "retrying", "verifying" or "done"; Note says
	// why in a sentence.
	Event string
	Note  string
}

// ArchiveResult describes a finished download.
type ArchiveResult struct {
	Path         string
	ChecksumPath string // Path + ".sha256"
	SHA256       string // lower-case hex
	Size         int64
	Attempts     int // HTTP requests made
	Resumes      int // Range requests that continued a partial download
	Restarts     int // times the partial download was thrown away
	Renewals     int // times Renew was called
}

// ArchiveError is a download that failed. Its text never holds the link.
type ArchiveError struct {
	Path string
	// Kind is "path" (the destination is unusable), "exists", "expired"
	// (the link expired and could not be renewed), "http" (a refusal),
	// "transport" (attempts ran out), "corrupt" (not a complete gzip
	// stream), "renew" (Renew failed) or "io".
	Kind       string
	StatusCode int
	Err        error
}

func (e *ArchiveError) Error() string {
	return fmt.Sprintf("atlas: download to %s: %v", e.Path, e.Err)
}

func (e *ArchiveError) Unwrap() error { return e.Err }

// CheckArchivePath says whether path can receive an archive: its directory
// exists and is writable, and path is not a directory, nor an existing file
// unless overwrite. The error names path.
func CheckArchivePath(path string, overwrite bool) error {
	fail := func(kind string, err error) error { return &ArchiveError{Path: path, Kind: kind, Err: err} }
	if path == "" {
		return fail("path", errors.New("the path is empty"))
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fail("path", fmt.Errorf("the directory %s does not exist", dir))
	case err != nil:
		return fail("path", fmt.Errorf("the directory %s cannot be read: %w", dir, unwrapPathError(err)))
	case !st.IsDir():
		return fail("path", fmt.Errorf("%s is not a directory", dir))
	}
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return fail("path", errors.New("the path is a directory; give a file name"))
		}
		if !overwrite {
			return fail("exists", errors.New("a file already exists there; set overwrite to replace it"))
		}
	}
	probe, err := os.CreateTemp(dir, ".atlas-write-check-*")
	if err != nil {
		return fail("path", fmt.Errorf("the directory %s is not writable: %w", dir, unwrapPathError(err)))
	}
	name := probe.Name()
	_ = probe.Close()
	_ = os.Remove(name)
	return nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// newLinkClient is the HTTP client for download links: the transport under
// the authentication and clock-skew layers (another host's Date says
// nothing of Atlas's clock), and under the wire log, whose lines would
// carry the link's path. Redirects may stay on the link's host only.
func newLinkClient(tr http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return &redirectError{phrase: "the download link redirected too many times"}
			}
			if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
				return &redirectError{phrase: "the download link redirected to another host, which was refused"}
			}
			return nil
		},
	}
}

// DownloadArchive streams the archive at link into a temporary file beside
// opts.Path, resuming with Range requests after a dropped connection or a
// 5xx. The bytes are hashed and checked to be one complete gzip stream as
// they arrive; at the end the file is synced and renamed into place, and
// Path.sha256 written in the sha256sum format. Memory use does not depend
// on the archive's size.
//
// The link goes to another host than the API: no credentials are sent with
// it, whichever way the client authenticates.
func (c *Client) DownloadArchive(ctx context.Context, link string, opts ArchiveOptions) (*ArchiveResult, error) {
	if err := CheckArchivePath(opts.Path, opts.Overwrite); err != nil {
		return nil, err
	}
	d := &archiveDownload{c: c, opts: opts, link: link, total: -1}
	if d.opts.ProgressEvery <= 0 {
		d.opts.ProgressEvery = 5 * time.Second
	}
	if d.opts.MaxAttempts <= 0 {
		d.opts.MaxAttempts = c.retry.MaxAttempts
	}
	if d.opts.MaxRenewals <= 0 {
		d.opts.MaxRenewals = 3
	}
	if d.opts.StallTimeout <= 0 {
		d.opts.StallTimeout = 2 * time.Minute
	}
	if d.opts.afterFunc == nil {
		d.opts.afterFunc = func(t time.Duration, f func()) stallTimer { return time.AfterFunc(t, f) }
	}
	if err := checkLink(link); err != nil {
		return nil, d.fail("http", 0, err)
	}
	f, err := os.CreateTemp(filepath.Dir(opts.Path), "."+filepath.Base(opts.Path)+".part-*")
	if err != nil {
		return nil, d.fail("path", 0, fmt.Errorf("cannot create a temporary file beside it: %w", unwrapPathError(err)))
	}
	d.f, d.chk, d.buf = f, newArchiveCheck(), make([]byte, archiveReadBytes)
	res, err := d.run(ctx)
	if err != nil {
		d.chk.abandon()
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, err
	}
	return res, nil
}

// archiveReadBytes is the most one read from the network brings; each is
// written at once, while its bytes are still in the processor's cache.
const archiveReadBytes = 64 << 10

// checkLink refuses a link that is not an absolute http(s) URL, or plain
// http to anything but loopback. Its text names at most the host.
func checkLink(link string) error {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return errors.New("the download link is not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return fmt.Errorf("the download link (host %s) is not https", printable(u.Hostname(), 100))
	}
	return nil
}

type archiveDownload struct {
	c    *Client
	opts ArchiveOptions
	link string
	f    *os.File
	chk  *archiveCheck
	buf  []byte

	done      int64
	total     int64  // -1: unknown
	validator string // ETag (strong) or Last-Modified of the bytes on disk
	etag      string // the ETag of the bytes on disk, if any

	// watch is the current attempt's stall watchdog; stalled says it fired.
	watch   stallTimer
	stalled atomic.Bool

	started    time.Time
	lastReport time.Time
	res        ArchiveResult
}

func (d *archiveDownload) fail(kind string, status int, err error) error {
	return &ArchiveError{Path: d.opts.Path, Kind: kind, StatusCode: status, Err: err}
}

// attemptResult is how one request ended.
type attemptResult int

const (
	attemptDone    attemptResult = iota // the archive is complete on disk
	attemptRetry                        // transient: back off and resume
	attemptRenew                        // the link expired
	attemptRestart                      // the bytes on disk are stale: start over at once
	attemptFail                         // permanent: the error is the answer
)

func (d *archiveDownload) run(ctx context.Context) (*ArchiveResult, error) {
	d.started = d.c.now()
	d.lastReport = d.started
	failures := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, d.fail("io", 0, err)
		}
		before := d.done
		outcome, status, retryAfterD, err := d.attempt(ctx)
		switch outcome {
		case attemptDone:
			return d.finish()
		case attemptFail:
			var ae *ArchiveError
			if errors.As(err, &ae) {
				return nil, err
			}
			return nil, d.fail("transport", status, err)
		case attemptRestart:
			if d.res.Restarts >= d.opts.MaxAttempts {
				return nil, d.fail("transport", status, fmt.Errorf("the download started over %d times; the last time because %w", d.res.Restarts, err))
			}
			d.restart(err.Error())
			continue
		case attemptRenew:
			if d.opts.Renew == nil || d.res.Renewals >= d.opts.MaxRenewals {
				return nil, d.fail("expired", status, fmt.Errorf("the download link was refused with HTTP %d (it has expired)%s", status, renewHint(d)))
			}
			link, rerr := d.opts.Renew(ctx)
			if rerr != nil {
				return nil, d.fail("renew", status, fmt.Errorf("the download link expired (HTTP %d) and renewing it failed: %w", status, stripURL(rerr)))
			}
			if cerr := checkLink(link); cerr != nil {
				return nil, d.fail("renew", status, cerr)
			}
			d.link = link
			d.res.Renewals++
			failures = 0
			note := "The download link expired; a new one was obtained and the download starts again."
			if d.done > 0 && d.validator != "" {
				note = fmt.Sprintf("The download link expired; a new one was obtained and the download resumes at byte %d if the archive is unchanged.", d.done)
			}
			d.report("renewed", note)
			continue
		}
		// attemptRetry; a body cut by ctx looks like a broken connection.
		if err := ctx.Err(); err != nil {
			return nil, d.fail("io", 0, err)
		}
		if d.done > before {
			failures = 0
		}
		failures++
		if failures >= d.opts.MaxAttempts {
			kind := "transport"
			if status != 0 {
				kind = "http"
			}
			return nil, d.fail(kind, status, fmt.Errorf("%d attempts in a row brought no data; the last: %w", failures, err))
		}
		delay := d.c.retry.delay(failures, retryAfterD, d.c.jitter())
		if dl, ok := ctx.Deadline(); ok && d.c.now().Add(delay).After(dl) {
			return nil, d.fail("transport", status, fmt.Errorf("%w (no time left to retry before the deadline)", err))
		}
		d.c.log(ctx, "retrying archive download", map[string]any{
			"path": d.opts.Path, "bytes_done": d.done, "attempt": failures, "error": sanitise(err.Error(), 200), "delay": delay.String(),
		})
		d.report("retrying", fmt.Sprintf("The download was interrupted at byte %d (%v); retrying in %s.", d.done, err, delay))
		if err := d.c.sleep(ctx, delay); err != nil {
			return nil, d.fail("io", 0, err)
		}
	}
}

func renewHint(d *archiveDownload) string {
	if d.opts.Renew == nil {
		return "; request a new download"
	}
	return fmt.Sprintf(" after %d renewals", d.res.Renewals)
}

// restart throws the bytes on disk away, and their check. A failure to
// truncate shows as a failed write or sync later.
func (d *archiveDownload) restart(why string) {
	_, _ = d.f.Seek(0, io.SeekStart)
	_ = d.f.Truncate(0)
	d.chk.abandon()
	d.chk = newArchiveCheck()
	d.res.Restarts++
	d.done, d.total, d.validator, d.etag = 0, -1, "", ""
	d.started = d.c.now()
	d.report("restarted", "The download starts again from the beginning: "+why+".")
}

// attempt makes one request and copies what it brings to the file.
func (d *archiveDownload) attempt(ctx context.Context) (attemptResult, int, time.Duration, error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.stalled.Store(false)
	d.watch = d.opts.afterFunc(d.opts.StallTimeout, func() {
		d.stalled.Store(true)
		cancel()
	})
	defer d.watch.Stop()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, d.link, nil)
	if err != nil {
		return attemptFail, 0, 0, errors.New("the download request could not be built")
	}
	// identity: a transparently decoded body could not be resumed by byte.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", d.c.userAgent)
	resuming := d.done > 0
	if resuming {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", d.done))
		req.Header.Set("If-Range", d.validator)
	}
	d.res.Attempts++
	resp, err := d.c.links.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return attemptFail, 0, 0, d.fail("io", 0, ctx.Err())
		}
		if d.stalled.Load() {
			return attemptRetry, 0, 0, fmt.Errorf("no answer came for %s", d.opts.StallTimeout)
		}
		if cause := permanentCause(err); cause != "" {
			return attemptFail, 0, 0, errors.New(cause)
		}
		return attemptRetry, 0, 0, stripURL(err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
		_ = resp.Body.Close()
	}()
	status := resp.StatusCode
	switch {
	case status == http.StatusForbidden || status == http.StatusGone:
		return attemptRenew, status, 0, nil
	case status == http.StatusTooManyRequests || status >= 500:
		return attemptRetry, status, parseRetryAfter(resp.Header.Get("Retry-After"), d.c.now()), fmt.Errorf("HTTP %d", status)
	case status == http.StatusRequestedRangeNotSatisfiable:
		if d.total >= 0 && d.done == d.total {
			return attemptDone, status, 0, nil
		}
		return attemptRestart, status, 0, errors.New("the server could not serve the rest of the archive (HTTP 416)")
	case status == http.StatusOK:
		if resuming {
			d.restart("the archive changed, or the server does not resume downloads")
		}
		d.learn(resp)
	case status == http.StatusPartialContent:
		if !resuming {
			return attemptRestart, status, 0, errors.New("the server answered a whole-file request with a part")
		}
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != d.done {
			return attemptRestart, status, 0, errors.New("the server sent another part of the archive than asked for")
		}
		if et := resp.Header.Get("ETag"); d.etag != "" && et != "" && et != d.etag {
			return attemptRestart, status, 0, errors.New("the archive's ETag changed")
		}
		if total >= 0 {
			d.total = total
		}
		d.res.Resumes++
		d.report("resumed", fmt.Sprintf("The download resumes at byte %d.", d.done))
	default:
		return attemptFail, status, 0, d.fail("http", status, fmt.Errorf("the download link was refused with HTTP %d", status))
	}
	return d.copyBody(resp)
}

// learn records the size and validator of a whole-file answer: a strong
// ETag, else Last-Modified (If-Range takes either); none means no resume
// is safe.
func (d *archiveDownload) learn(resp *http.Response) {
	d.total = resp.ContentLength
	d.etag, d.validator = "", ""
	if et := resp.Header.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		d.etag, d.validator = et, et
	} else if lm := resp.Header.Get("Last-Modified"); lm != "" {
		d.validator = lm
	}
}

// copyBody copies the answer's body to the file and to the check.
func (d *archiveDownload) copyBody(resp *http.Response) (attemptResult, int, time.Duration, error) {
	status := resp.StatusCode
	for {
		n, rerr := resp.Body.Read(d.buf)
		if n > 0 {
			d.watch.Reset(d.opts.StallTimeout)
			if _, err := d.f.Write(d.buf[:n]); err != nil {
				return attemptFail, 0, 0, d.fail("io", 0, fmt.Errorf("writing the temporary file: %w", unwrapPathError(err)))
			}
			if _, err := d.chk.Write(d.buf[:n]); err != nil {
				return attemptFail, 0, 0, d.fail("corrupt", 0, err)
			}
			d.done += int64(n)
			if d.c.now().Sub(d.lastReport) >= d.opts.ProgressEvery {
				d.report("", "")
			}
		}
		switch {
		case rerr == nil:
		case !errors.Is(rerr, io.EOF):
			if d.stalled.Load() {
				rerr = fmt.Errorf("no data came for %s", d.opts.StallTimeout)
			}
			if d.validator == "" {
				// Nothing to resume against: what is on disk may not match
				// what another answer would continue.
				return attemptRestart, status, 0, fmt.Errorf("the connection broke at byte %d and the server gave no ETag or Last-Modified to resume against", d.done)
			}
			return attemptRetry, status, 0, fmt.Errorf("the connection broke at byte %d: %w", d.done, stripURL(rerr))
		case d.total >= 0 && d.done < d.total:
			return attemptRetry, status, 0, fmt.Errorf("the connection ended at byte %d of %d", d.done, d.total)
		default:
			d.total = d.done
			return attemptDone, status, 0, nil
		}
	}
}

// parseContentRange reads "bytes START-END/TOTAL" (TOTAL may be "*").
func parseContentRange(v string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(s, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}

// report sends a progress report and restarts the pace.
func (d *archiveDownload) report(event, note string) {
	now := d.c.now()
	d.lastReport = now
	if d.opts.Progress == nil {
		return
	}
	p := ArchiveProgress{Done: d.done, Total: d.total, ETA: -1, Event: event, Note: note}
	if el := now.Sub(d.started).Seconds(); el > 0 {
		p.Rate = float64(d.done) / el
		if p.Rate > 0 && d.total >= d.done {
			p.ETA = time.Duration(float64(d.total-d.done) / p.Rate * float64(time.Second)).Round(time.Second)
		}
	}
	d.opts.Progress(p)
}

// finish ends the check, syncs and moves the file into place, and writes
// the checksum beside it.
func (d *archiveDownload) finish() (*ArchiveResult, error) {
	d.report("verifying", "The download is complete; checking that it is a whole gzip stream.")
	sum, err := d.chk.finish()
	if err != nil {
		return nil, d.fail("corrupt", 0, err)
	}
	if err := d.f.Sync(); err != nil {
		return nil, d.fail("io", 0, fmt.Errorf("syncing the temporary file: %w", unwrapPathError(err)))
	}
	if err := d.f.Close(); err != nil {
		return nil, d.fail("io", 0, err)
	}
	err = place(d.f.Name(), d.opts.Path, d.opts.Overwrite)
	if errors.Is(err, os.ErrExist) {
		return nil, d.fail("exists", 0, errors.New("a file appeared there during the download; set overwrite to replace it"))
	}
	if err != nil {
		return nil, d.fail("io", 0, fmt.Errorf("moving the download into place: %w", unwrapPathError(err)))
	}
	line := sum + "  " + filepath.Base(d.opts.Path) + "\n"
	if err := writeFileAtomic(d.opts.Path+".sha256", []byte(line)); err != nil {
		return nil, d.fail("io", 0, fmt.Errorf("writing the checksum file: %w", unwrapPathError(err)))
	}
	syncDir(filepath.Dir(d.opts.Path))
	d.res.Path, d.res.ChecksumPath, d.res.SHA256, d.res.Size = d.opts.Path, d.opts.Path+".sha256", sum, d.done
	d.report("done", fmt.Sprintf("The archive is complete: %d bytes, sha256 %s.", d.done, sum))
	res := d.res
	return &res, nil
}

// place moves the file tmp to path. Without overwrite it links instead,
// which never replaces: a file that appeared meanwhile is kept.
func place(tmp, path string, overwrite bool) error {
	if overwrite {
		return os.Rename(tmp, path)
	}
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return os.Remove(tmp)
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// syncDir makes the renames durable; a failure only weakens durability.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}

// archiveCheck is fed the bytes written to the file, as they are written:
// a goroutine hashes them and reads them through a gzip reader (dropping
// what it inflates), while the next bytes arrive. A gzip error closes the
// pipe, so the next Write fails and the download stops at once.
type archiveCheck struct {
	pw   *io.PipeWriter
	h    hash.Hash
	done chan error
}

func newArchiveCheck() *archiveCheck {
	pr, pw := io.Pipe()
	c := &archiveCheck{pw: pw, h: sha256.New(), done: make(chan error, 1)}
	go func() {
		err := inflate(bufio.NewReaderSize(io.TeeReader(pr, c.h), archiveReadBytes))
		_ = pr.CloseWithError(err)
		c.done <- err
	}()
	return c
}

func (c *archiveCheck) Write(p []byte) (int, error) { return c.pw.Write(p) }

// finish waits for the check of every byte written and returns their
// SHA-256 in lower-case hex.
func (c *archiveCheck) finish() (string, error) {
	_ = c.pw.Close()
	if err := <-c.done; err != nil {
		return "", err
	}
	return hex.EncodeToString(c.h.Sum(nil)), nil
}

// abandon ends the check without waiting for its verdict.
func (c *archiveCheck) abandon() { _ = c.pw.CloseWithError(errors.New("abandoned")) }

// inflate reads a gzip stream to its end, or says why r is not one
// complete gzip stream (gzip's multistream mode reads to r's end). A "decompression bomb" costs only time,
// which the download's context bounds.
func inflate(r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("the download is not a gzip stream: %w", err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("the download is not a complete gzip stream: %w", err)
	}
	return nil
}
