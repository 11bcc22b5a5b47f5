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
	Path      string // the file the archive becomes; its directory must exist
	Overwrite bool   // replace what is at Path and Path.sha256
	// Renew, when set, returns a fresh link to the same snapshot once the
	// link answers 403 or 410 (expired).
	Renew func(ctx context.Context) (string, error)
	// Progress, when set, receives a report at most every ProgressEvery
	// (default 5s, on the client's clock), and one for each event.
	Progress      func(ArchiveProgress)
	ProgressEvery time.Duration
	MaxAttempts   int // attempts in a row that bring no byte (default: the retry policy's)
	MaxRenewals   int // default 3
	// StallTimeout (default 2m, wall clock) ends an attempt that brings no
	// byte for so long: a half-open connection would hold it until ctx ends.
	StallTimeout time.Duration

	// afterFunc starts the stall watchdog; tests replace it.
	afterFunc func(d time.Duration, f func()) stallTimer
}

// stallTimer is the part of *time.Timer the stall watchdog uses.
type stallTimer interface {
	Reset(d time.Duration) bool
	Stop() bool
}

// ArchiveProgress is one progress report; the caller words it.
type ArchiveProgress struct {
	Event       ArchiveEvent
	Done, Total int64         // bytes received; the archive's size, -1 while unknown
	Rate        float64       // bytes per second since the download (re)started
	ETA         time.Duration // -1 while unknown
	// Err says why an attempt ended (ArchiveRetrying) or the bytes so far
	// were dropped (ArchiveRestarted); Delay is the wait before a retry.
	Err   error
	Delay time.Duration
}

// ArchiveEvent says what a progress report is about.
type ArchiveEvent string

const (
	ArchiveProgressed ArchiveEvent = ""          // periodic
	ArchiveResumed    ArchiveEvent = "resumed"   // a Range request continues at Done
	ArchiveRestarted  ArchiveEvent = "restarted" // the download starts over
	ArchiveRenewed    ArchiveEvent = "renewed"   // Renew gave a new link; the download goes on
	ArchiveRetrying   ArchiveEvent = "retrying"  // an attempt ended at Done
	ArchiveFinishing  ArchiveEvent = "finishing" // every byte is in: the check ends, the file is synced and moved
	ArchiveDone       ArchiveEvent = "done"      // the archive is at its path
)

// Why an attempt ended or the bytes so far were dropped, besides network
// errors and *ArchiveStatusError.
var (
	ErrArchiveStalled  = errors.New("atlas: no data came within the stall timeout")
	ErrArchiveChanged  = errors.New("atlas: the archive changed, or the server does not resume downloads")
	ErrArchiveNoResume = errors.New("atlas: the server cannot resume the download")
	// ErrArchiveRedirected: to another host, or too often.
	ErrArchiveRedirected = errors.New("atlas: the download link redirected elsewhere")
)

// ArchiveStatusError is an HTTP status of the download link: 403 or 410
// (expired), 429 or 5xx (retried), or one that no retry changes.
type ArchiveStatusError struct{ StatusCode int }

func (e *ArchiveStatusError) Error() string { return fmt.Sprintf("atlas: HTTP %d", e.StatusCode) }

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

// ArchiveError is a download that failed; the caller words it. Nothing
// is left at Path unless Kind says so. Its text never holds the link.
type ArchiveError struct {
	Kind ArchiveErrorKind
	Path string // the archive's path
	At   string // the path or directory the problem is at
	// Found (ArchiveExists) is what is at At, Target where it points if
	// it is a symbolic link.
	Found  ArchiveFound
	Target string
	// Attempts (ArchiveUnreachable) is how many attempts in a row failed,
	// Renewals (ArchiveExpired) how many renewals were done.
	Attempts, Renewals int
	// Permanent (ArchiveUnreachable) is why the link cannot be reached by
	// repeating, when that is so; the download was not retried.
	Permanent *PermanentFailure
	Err       error
}

// ArchiveFound is what is at a path.
type ArchiveFound string

const (
	ArchiveFoundFile     ArchiveFound = "file"
	ArchiveFoundSymlink  ArchiveFound = "symlink"
	ArchiveFoundDangling ArchiveFound = "dangling-symlink" // a symbolic link to nothing
	ArchiveFoundOther    ArchiveFound = "other"
)

// ArchiveErrorKind says why a download failed.
type ArchiveErrorKind string

const (
	ArchivePathEmpty      ArchiveErrorKind = "path-empty"
	ArchiveNoDir          ArchiveErrorKind = "no-dir"           // the directory At does not exist, or is not one
	ArchiveDirNotWritable ArchiveErrorKind = "dir-not-writable" // At cannot be written (Err says why)
	ArchiveIsDir          ArchiveErrorKind = "is-dir"           // At is a directory
	ArchiveExists         ArchiveErrorKind = "exists"           // something is at At, and Overwrite is off
	ArchiveBadLink        ArchiveErrorKind = "bad-link"         // not an absolute https URL (http only to loopback)
	ArchiveRefused        ArchiveErrorKind = "refused"          // an HTTP status (Err) that no retry changes
	ArchiveExpired        ArchiveErrorKind = "expired"          // 403 or 410, and no more renewals
	ArchiveRenewFailed    ArchiveErrorKind = "renew-failed"     // Renew failed (Err)
	ArchiveUnreachable    ArchiveErrorKind = "unreachable"      // Attempts in a row brought nothing; Err is the last cause
	ArchiveCorrupt        ArchiveErrorKind = "corrupt"          // not one complete gzip stream (Err)
	ArchiveWriteFailed    ArchiveErrorKind = "write-failed"     // the file could not be written, synced or moved (Err)
	// ArchiveChecksumFailed: the archive is whole at Path, but the checksum
	// file At could not be written (Err); DownloadArchive's result
	// describes the archive.
	ArchiveChecksumFailed ArchiveErrorKind = "checksum-failed"
	ArchiveStopped        ArchiveErrorKind = "stopped" // ctx ended (Err is its error)
)

func (e *ArchiveError) Error() string {
	return fmt.Sprintf("atlas: download to %s: %s %s: %v", e.Path, e.Kind, e.At, e.Err)
}

func (e *ArchiveError) Unwrap() error { return e.Err }

// CheckArchivePath says whether path can receive an archive: its directory
// exists and is writable, and neither path nor path.sha256 is a directory,
// or anything at all unless overwrite.
func CheckArchivePath(path string, overwrite bool) error {
	fail := func(kind ArchiveErrorKind, at string, err error) error {
		return &ArchiveError{Kind: kind, Path: path, At: at, Err: err}
	}
	if path == "" {
		return fail(ArchivePathEmpty, "", nil)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist) || err == nil && !st.IsDir():
		return fail(ArchiveNoDir, dir, nil)
	case err != nil:
		return fail(ArchiveDirNotWritable, dir, unwrapPathError(err))
	}
	// The checksum file is held to the same rules as the archive.
	for _, p := range []string{path, path + ".sha256"} {
		if ae := inTheWay(path, p); ae != nil && (ae.Kind == ArchiveIsDir || !overwrite) {
			return ae
		}
	}
	probe, err := os.CreateTemp(dir, ".atlas-write-check-*")
	if err != nil {
		return fail(ArchiveDirNotWritable, dir, unwrapPathError(err))
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	return nil
}

// inTheWay says what is at p, where the archive at path or its checksum
// goes: nil for nothing, else an ArchiveIsDir or ArchiveExists error.
func inTheWay(path, p string) *ArchiveError {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil // nothing there; anything else shows when the file is placed
	}
	st, serr := os.Stat(p)
	if serr == nil && st.IsDir() {
		return &ArchiveError{Kind: ArchiveIsDir, Path: path, At: p}
	}
	ae := &ArchiveError{Kind: ArchiveExists, Path: path, At: p, Found: ArchiveFoundOther}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		ae.Found = ArchiveFoundSymlink
		ae.Target, _ = os.Readlink(p)
		if serr != nil {
			ae.Found = ArchiveFoundDangling
		}
	case fi.Mode().IsRegular():
		ae.Found = ArchiveFoundFile
	}
	return ae
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
			if len(via) >= 5 || req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
				return ErrArchiveRedirected
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
// on the archive's size. It returns a result with an error only when the
// checksum file alone failed (ArchiveChecksumFailed).
//
// The link goes to another host than the API: no credentials are sent with
// it, whichever way the client authenticates.
func (c *Client) DownloadArchive(ctx context.Context, link string, opts ArchiveOptions) (*ArchiveResult, error) {
	deadline, bounded := c.deadline(ctx)
	if err := CheckArchivePath(opts.Path, opts.Overwrite); err != nil {
		return nil, err
	}
	opts.ProgressEvery = orDefault(opts.ProgressEvery, 5*time.Second)
	opts.MaxAttempts = orDefault(opts.MaxAttempts, c.retry.MaxAttempts)
	opts.MaxRenewals = orDefault(opts.MaxRenewals, 3)
	opts.StallTimeout = orDefault(opts.StallTimeout, 2*time.Minute)
	d := &archiveDownload{c: c, opts: opts, link: link, total: -1, deadline: deadline, bounded: bounded}
	if d.opts.afterFunc == nil {
		d.opts.afterFunc = func(t time.Duration, f func()) stallTimer { return time.AfterFunc(t, f) }
	}
	if !linkOK(link) {
		return nil, d.fail(ArchiveBadLink, nil)
	}
	removeStaleParts(opts.Path)
	f, err := createPart(opts.Path)
	if err != nil {
		return nil, &ArchiveError{Kind: ArchiveDirNotWritable, Path: opts.Path, At: filepath.Dir(opts.Path), Err: unwrapPathError(err)}
	}
	// Once the archive is renamed into place this removes nothing; once it
	// is linked, the temporary name.
	defer os.Remove(f.Name())
	d.f, d.chk, d.buf = f, newArchiveCheck(), make([]byte, archiveReadBytes)
	res, err := d.run(ctx)
	if err != nil {
		d.chk.abandon()
		_ = f.Close()
	}
	return res, err
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// createPart creates the file the archive is written to, beside path, and
// locks it (see lockPart) so that other runs do not take it for stale.
func createPart(path string) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
		if err != nil {
			return nil, err
		}
		lockPart(f)
		// Another run may have removed it between its creation and the lock.
		st, err1 := f.Stat()
		now, err2 := os.Stat(f.Name())
		if err1 == nil && err2 == nil && os.SameFile(st, now) || try == 2 {
			return f, nil
		}
		_ = f.Close()
	}
}

// removeStaleParts removes the part files of path that earlier runs left
// (a killed process cannot remove its own): those named as createPart
// names them (CreateTemp's random part is digits) that no live process
// holds.
func removeStaleParts(path string) {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+".part-"
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if ok && rest != "" && strings.Trim(rest, "0123456789") == "" && e.Type().IsRegular() {
			removeUnlocked(filepath.Join(dir, e.Name()))
		}
	}
}

// archiveReadBytes is the most one read from the network brings; each is
// written at once, while its bytes are still in the processor's cache.
const archiveReadBytes = 64 << 10

// linkOK says whether link is an absolute https URL, or plain http to
// loopback.
func linkOK(link string) bool {
	u, err := url.Parse(link)
	return err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname()))
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

	// deadline is ctx's, on the client's clock, fixed when the download
	// starts; bounded says ctx has one.
	deadline time.Time
	bounded  bool

	retryAfter time.Duration // the last answer's Retry-After
	started    time.Time
	lastReport time.Time
	res        ArchiveResult
}

func (d *archiveDownload) fail(kind ArchiveErrorKind, err error) *ArchiveError {
	return &ArchiveError{Kind: kind, Path: d.opts.Path, At: d.opts.Path, Err: err}
}

// run makes attempts until the archive is whole or one fails for good.
// An attempt's error says what comes next: an *ArchiveError ends the
// download, ErrArchiveChanged and ErrArchiveNoResume start it over, an
// expired link is renewed, and anything else is retried after a backoff.
func (d *archiveDownload) run(ctx context.Context) (*ArchiveResult, error) {
	d.started = d.c.now()
	d.lastReport = d.started
	failures := 0
	for {
		before := d.done
		err := d.attempt(ctx)
		var ae *ArchiveError
		var se *ArchiveStatusError
		switch {
		case err == nil:
			return d.finish()
		case ctx.Err() != nil: // a body cut by ctx looks like a broken connection
			return nil, d.fail(ArchiveStopped, ctx.Err())
		case errors.As(err, &ae):
			return nil, err
		case errors.Is(err, ErrArchiveChanged) || errors.Is(err, ErrArchiveNoResume):
			if d.res.Restarts >= d.opts.MaxAttempts {
				ae = d.fail(ArchiveUnreachable, err)
				ae.Attempts = d.res.Restarts
				return nil, ae
			}
			d.restart(err)
			continue
		case errors.As(err, &se) && (se.StatusCode == http.StatusForbidden || se.StatusCode == http.StatusGone):
			if err := d.renew(ctx, err); err != nil {
				return nil, err
			}
			failures = 0
			continue
		}
		if d.done > before {
			failures = 0
		}
		if failures++; failures >= d.opts.MaxAttempts {
			ae = d.fail(ArchiveUnreachable, err)
			ae.Attempts = failures
			return nil, ae
		}
		delay := d.c.retry.delay(failures, d.retryAfter, d.c.jitter())
		if d.bounded && d.c.now().Add(delay).After(d.deadline) {
			return nil, d.fail(ArchiveStopped, context.DeadlineExceeded)
		}
		d.c.log(ctx, "retrying archive download", map[string]any{
			"path": d.opts.Path, "bytes_done": d.done, "attempt": failures, "error": sanitise(err.Error(), 200), "delay": delay.String(),
		})
		d.report(ArchiveProgress{Event: ArchiveRetrying, Err: err, Delay: delay})
		if err := d.c.sleep(ctx, delay); err != nil {
			return nil, d.fail(ArchiveStopped, err)
		}
	}
}

// renew asks for a fresh link after the link answered expired.
func (d *archiveDownload) renew(ctx context.Context, expired error) error {
	if d.opts.Renew == nil || d.res.Renewals >= d.opts.MaxRenewals {
		ae := d.fail(ArchiveExpired, expired)
		ae.Renewals = d.res.Renewals
		return ae
	}
	link, err := d.opts.Renew(ctx)
	if err != nil {
		return d.fail(ArchiveRenewFailed, stripURL(err))
	}
	if !linkOK(link) {
		return d.fail(ArchiveRenewFailed, d.fail(ArchiveBadLink, nil))
	}
	d.link = link
	d.res.Renewals++
	d.report(ArchiveProgress{Event: ArchiveRenewed})
	return nil
}

// restart throws the bytes on disk away, and their check. A failure to
// truncate shows as a failed write or sync later.
func (d *archiveDownload) restart(why error) {
	_, _ = d.f.Seek(0, io.SeekStart)
	_ = d.f.Truncate(0)
	d.chk.abandon()
	d.chk = newArchiveCheck()
	d.res.Restarts++
	d.done, d.total, d.validator, d.etag = 0, -1, "", ""
	d.started = d.c.now()
	d.report(ArchiveProgress{Event: ArchiveRestarted, Err: why})
}

// attempt makes one request and copies what it brings to the file.
func (d *archiveDownload) attempt(ctx context.Context) error {
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
		return d.fail(ArchiveBadLink, nil)
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
	d.retryAfter = 0
	resp, err := d.c.links.Do(req)
	switch perm := permanent(err); {
	case err == nil:
	case d.stalled.Load():
		return ErrArchiveStalled
	case errors.Is(err, ErrArchiveRedirected) || perm != nil:
		ae := d.fail(ArchiveUnreachable, stripURL(err))
		ae.Attempts, ae.Permanent = 1, perm
		return ae
	default:
		return stripURL(err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
		_ = resp.Body.Close()
	}()
	status := &ArchiveStatusError{StatusCode: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code == http.StatusForbidden || code == http.StatusGone:
		return status
	case code == http.StatusTooManyRequests || code >= 500:
		d.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), d.c.now())
		return status
	case code == http.StatusRequestedRangeNotSatisfiable:
		if d.total >= 0 && d.done == d.total {
			return nil
		}
		return ErrArchiveNoResume
	case code == http.StatusOK:
		if resuming {
			d.restart(ErrArchiveChanged)
		}
		d.learn(resp)
	case code == http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !resuming || !ok || start != d.done {
			return ErrArchiveNoResume
		}
		if et := resp.Header.Get("ETag"); d.etag != "" && et != "" && et != d.etag {
			return ErrArchiveChanged
		}
		if total >= 0 {
			d.total = total
		}
		d.res.Resumes++
		d.report(ArchiveProgress{Event: ArchiveResumed})
	default:
		return d.fail(ArchiveRefused, status)
	}
	return d.copyBody(resp.Body)
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
func (d *archiveDownload) copyBody(body io.Reader) error {
	for {
		n, err := body.Read(d.buf)
		if n > 0 {
			d.watch.Reset(d.opts.StallTimeout)
			if _, err := d.f.Write(d.buf[:n]); err != nil {
				return d.fail(ArchiveWriteFailed, unwrapPathError(err))
			}
			if _, err := d.chk.Write(d.buf[:n]); err != nil {
				return d.fail(ArchiveCorrupt, err)
			}
			d.done += int64(n)
			if d.c.now().Sub(d.lastReport) >= d.opts.ProgressEvery {
				d.report(ArchiveProgress{})
			}
		}
		switch {
		case err == nil:
		case !errors.Is(err, io.EOF) && d.validator == "":
			// Nothing to resume against: what is on disk may not match
			// what another answer would continue.
			return ErrArchiveNoResume
		case d.stalled.Load():
			return ErrArchiveStalled
		case !errors.Is(err, io.EOF):
			return stripURL(err)
		case d.total >= 0 && d.done < d.total:
			return io.ErrUnexpectedEOF
		default:
			d.total = d.done
			return nil
		}
	}
}

// parseContentRange reads "bytes START-END/TOTAL" (TOTAL may be "*").
func parseContentRange(v string) (start, total int64, ok bool) {
	rng, tot, ok := strings.Cut(strings.TrimPrefix(v, "bytes "), "/")
	s, _, ok2 := strings.Cut(rng, "-")
	start, err := strconv.ParseInt(s, 10, 64)
	if !strings.HasPrefix(v, "bytes ") || !ok || !ok2 || err != nil || start < 0 {
		return 0, 0, false
	}
	if tot == "*" {
		return start, -1, true
	}
	total, err = strconv.ParseInt(tot, 10, 64)
	return start, total, err == nil
}

// report fills p in, sends it, and restarts the pace.
func (d *archiveDownload) report(p ArchiveProgress) {
	now := d.c.now()
	d.lastReport = now
	if d.opts.Progress == nil {
		return
	}
	p.Done, p.Total, p.ETA = d.done, d.total, -1
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
	d.report(ArchiveProgress{Event: ArchiveFinishing})
	sum, err := d.chk.finish()
	if err != nil {
		return nil, d.fail(ArchiveCorrupt, err)
	}
	if err := d.f.Sync(); err != nil {
		return nil, d.fail(ArchiveWriteFailed, unwrapPathError(err))
	}
	if err := d.f.Close(); err != nil {
		return nil, d.fail(ArchiveWriteFailed, unwrapPathError(err))
	}
	err = place(d.f.Name(), d.opts.Path, d.opts.Overwrite)
	if ae := inTheWay(d.opts.Path, d.opts.Path); errors.Is(err, os.ErrExist) && ae != nil {
		return nil, ae
	}
	if err != nil {
		return nil, d.fail(ArchiveWriteFailed, unwrapPathError(err))
	}
	d.res.Path, d.res.ChecksumPath, d.res.SHA256, d.res.Size = d.opts.Path, d.opts.Path+".sha256", sum, d.done
	res := d.res
	if err := writeChecksum(&res, d.opts.Overwrite); err != nil {
		ae := d.fail(ArchiveChecksumFailed, unwrapPathError(err))
		ae.At = res.ChecksumPath
		return &res, ae
	}
	d.report(ArchiveProgress{Event: ArchiveDone})
	return &res, nil
}

// place moves the file tmp to path. Without overwrite it links instead
// (the caller removes tmp), which never replaces: a file that appeared
// meanwhile is kept.
func place(tmp, path string, overwrite bool) error {
	if overwrite {
		return os.Rename(tmp, path)
	}
	return os.Link(tmp, path)
}

// writeChecksum writes res's checksum file in the sha256sum format,
// through a temporary file placed as the archive was.
func writeChecksum(res *ArchiveResult, overwrite bool) error {
	f, err := os.CreateTemp(filepath.Dir(res.ChecksumPath), "."+filepath.Base(res.ChecksumPath)+".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(res.SHA256 + "  " + filepath.Base(res.Path) + "\n")
	if err = errors.Join(err, f.Sync(), f.Close()); err == nil {
		err = place(f.Name(), res.ChecksumPath, overwrite)
	}
	syncDir(filepath.Dir(res.ChecksumPath)) // the archive's rename too
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
		// Multistream mode reads to the end of the bytes: anything after
		// the last member is an error. A "decompression bomb" costs time
		// only, and at most one buffer's worth once abandoned.
		zr, err := gzip.NewReader(bufio.NewReaderSize(io.TeeReader(pr, c.h), archiveReadBytes))
		if err == nil {
			_, err = io.Copy(io.Discard, zr)
		} else if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
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
