// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks Linux to start writing n bytes of f from off to the
// disk, without waiting for them (sync_file_range with
// SYNC_FILE_RANGE_WRITE). It promises nothing: the sync before the rename
// is what makes the file durable. A refusal only leaves more to that sync.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
