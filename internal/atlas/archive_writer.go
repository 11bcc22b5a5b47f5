// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"errors"
	"os"
	"sync"
	"syscall"
)

// fileWriter writes whole buffers to a file in direct I/O in a goroutine
// of its own, so that the network is read while the disk writes, and then
// hands each written buffer to the check. A direct write waits for the
// disk, which the page cache would have hidden; overlapping it with the
// next reads hides it again, without the page cache's copy.
type fileWriter struct {
	f      *os.File
	chk    *archiveCheck
	q      chan []byte
	done   chan struct{}
	direct bool  // the file is still in direct I/O (the goroutine's alone)
	off    int64 // bytes written (the goroutine's alone)
	// flushed is how far writeback was started, once direct I/O is off.
	flushed int64
	// refused says the file system refused a direct write.
	refused bool
	stopped bool

	mu  sync.Mutex
	err error
}

func newFileWriter(f *os.File, chk *archiveCheck, direct bool, off int64) *fileWriter {
	w := &fileWriter{f: f, chk: chk, q: make(chan []byte, archiveBuffers), done: make(chan struct{}), direct: direct, off: off, flushed: off}
	go w.run()
	return w
}

// write queues b, which must not be used again.
func (w *fileWriter) write(b []byte) { w.q <- b }

// failure is the first write error, if any.
func (w *fileWriter) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// stop waits for every queued buffer to be written (or dropped after an
// error); it may be called again.
func (w *fileWriter) stop() {
	if !w.stopped {
		close(w.q)
		<-w.done
		w.stopped = true
	}
}

func (w *fileWriter) run() {
	defer close(w.done)
	for b := range w.q {
		if w.failure() != nil {
			w.chk.unused(b)
			continue
		}
		if err := w.writeAt(b); err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			w.chk.unused(b)
			continue
		}
		w.off += int64(len(b))
		w.chk.written(b)
		if !w.direct {
			writeback(w.f, &w.flushed, w.off)
		}
	}
}

// writeAt writes b at the end of the file: in direct I/O its aligned part,
// then, with direct I/O turned off, a tail (only the last buffer has one).
// A file system that refuses a direct write is written through the page
// cache from then on.
func (w *fileWriter) writeAt(b []byte) error {
	if w.direct {
		if k := len(b) &^ (directAlign - 1); k > 0 {
			n, err := w.f.Write(b[:k])
			switch {
			case err == nil:
				b = b[k:]
			case n == 0 && errors.Is(err, syscall.EINVAL):
				if !setDirect(w.f, false) {
					return err
				}
				w.direct, w.refused = false, true
			default:
				return err
			}
		}
		if len(b) > 0 && w.direct {
			if !setDirect(w.f, false) {
				return errors.New("direct I/O could not be turned off for the last bytes")
			}
			w.direct = false
		}
	}
	if len(b) == 0 {
		return nil
	}
	_, err := w.f.Write(b)
	return err
}
