// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
	"unsafe"
)

// archiveCheck verifies an archive while it is written, so that the
// download never reads the file back: each buffer, once on disk, is handed
// to a goroutine that adds it to a SHA-256 and feeds it to a gzip reader,
// while the next buffer is read from the network. It sees exactly the bytes
// on disk, in order: what a resume appends continues the same stream, and a
// restart (the bytes on disk thrown away) starts a new check with reset.
//
// The buffers are a fixed ring (archiveBuffers of archiveBufferBytes,
// aligned for direct I/O), shared with the file's writer (archive_writer.go)
// when there is one, so memory does not depend on the archive's size; when
// the check falls behind, the download waits for a free buffer.
type archiveCheck struct {
	free chan []byte // buffers to read into
	full chan []byte // bytes on disk, in order, not yet checked
	done chan struct{}
	// closed says full is closed and the goroutine has ended.
	closed bool
	// abandoned tells the goroutine its result is not wanted.
	abandoned atomic.Bool

	h       hash.Hash
	scratch []byte // decompressed bytes go here, to be counted and dropped

	mu     sync.Mutex
	n      int64 // raw bytes checked
	err    error // the stream is not a gzip stream, or not a whole one
	failed bool
}

// archiveBuffers is how many buffers the download and its check share.
const archiveBuffers = 4

// directAlign is the alignment direct I/O asks of buffer addresses, file
// offsets and lengths: the largest logical block size in common use.
const directAlign = 4096

// alignedBuffer is n bytes starting at a multiple of directAlign.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directAlign - 1)) //nolint:gosec // an address's remainder, never turned back into a pointer
	return b[off : off+n : off+n]
}

func newArchiveCheck() *archiveCheck {
	c := &archiveCheck{free: make(chan []byte, archiveBuffers), h: sha256.New(), scratch: make([]byte, 64<<10)}
	for range archiveBuffers {
		c.free <- alignedBuffer(archiveBufferBytes)
	}
	c.start()
	return c
}

func (c *archiveCheck) start() {
	c.full = make(chan []byte, archiveBuffers)
	c.done = make(chan struct{})
	c.closed = false
	c.abandoned.Store(false)
	c.h.Reset()
	c.n, c.err, c.failed = 0, nil, false
	go c.run(c.full, c.done)
}

// buffer waits for a free buffer, whole.
func (c *archiveCheck) buffer() []byte {
	b := <-c.free
	return b[:cap(b)]
}

// written hands b, which is on disk now, to the check; b must not be used
// again. An empty b is only given back.
func (c *archiveCheck) written(b []byte) {
	if len(b) == 0 {
		c.free <- b
		return
	}
	c.full <- b
}

// unused gives back a buffer that was taken but not written.
func (c *archiveCheck) unused(b []byte) { c.free <- b }

// failure returns the error, once the check has found the bytes are not a
// gzip stream; the download need not go on then.
func (c *archiveCheck) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed {
		return c.err
	}
	return nil
}

// reset throws the check of the bytes so far away and starts a new one.
func (c *archiveCheck) reset() {
	c.abandon()
	c.start()
}

// finish waits for the check of every byte handed to it and returns the
// SHA-256 (lower-case hex) and number of those bytes, or why they are not
// one complete gzip stream.
func (c *archiveCheck) finish() (string, int64, error) {
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return "", c.n, c.err
	}
	return hex.EncodeToString(c.h.Sum(nil)), c.n, nil
}

// abandon ends the check without its result: the goroutine stops
// decompressing (what is left of a highly compressed stream could take a
// while) and gives the buffers back. It may be called again.
func (c *archiveCheck) abandon() {
	c.abandoned.Store(true)
	c.stop()
}

// stop ends the check once every byte handed to it is checked; it may be
// called again.
func (c *archiveCheck) stop() {
	if !c.closed {
		close(c.full)
		<-c.done
		c.closed = true
	}
}

func (c *archiveCheck) run(full <-chan []byte, done chan<- struct{}) {
	defer close(done)
	fr := &feedReader{c: c, full: full}
	err := c.inflate(fr)
	if err != nil {
		c.mu.Lock()
		c.err, c.failed = err, true
		c.mu.Unlock()
	}
	// Whatever the gzip reader left (nothing, for a stream that ends at
	// the end of the bytes) is hashed, and every buffer given back.
	if fr.cur != nil {
		c.free <- fr.back
	}
	for b := range full {
		if err == nil {
			c.add(b)
		}
		c.free <- b
	}
}

// inflate reads the stream through a gzip reader to its end, dropping the
// decompressed bytes: a "decompression bomb" costs only time, which the
// download's context bounds.
func (c *archiveCheck) inflate(fr *feedReader) error {
	zr, err := gzip.NewReader(fr)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("the download is not a gzip stream: %w", err)
	}
	for !c.abandoned.Load() {
		_, err := zr.Read(c.scratch)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the download is not a complete gzip stream (%w at byte %d of the compressed data)", err, fr.pos())
		}
	}
	return errors.New("the check was abandoned")
}

func (c *archiveCheck) add(b []byte) {
	_, _ = c.h.Write(b)
	c.mu.Lock()
	c.n += int64(len(b))
	c.mu.Unlock()
}

// feedReader is the bytes handed to the check, as an io.ByteReader (so the
// gzip reader reads them without a buffer of its own); each buffer is
// hashed as it is taken and given back once read.
type feedReader struct {
	c    *archiveCheck
	full <-chan []byte
	cur  []byte // the unread rest of back
	back []byte // the buffer being read
	read int64  // bytes of earlier buffers
}

func (r *feedReader) next() bool {
	if r.cur != nil {
		r.read += int64(len(r.back))
		r.c.free <- r.back
		r.cur, r.back = nil, nil
	}
	b, ok := <-r.full
	if !ok {
		return false
	}
	r.c.add(b)
	r.cur, r.back = b, b
	return true
}

func (r *feedReader) pos() int64 { return r.read + int64(len(r.back)-len(r.cur)) }

func (r *feedReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if !r.next() {
			return 0, io.EOF
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

func (r *feedReader) ReadByte() (byte, error) {
	for len(r.cur) == 0 {
		if !r.next() {
			return 0, io.EOF
		}
	}
	b := r.cur[0]
	r.cur = r.cur[1:]
	return b, nil
}
