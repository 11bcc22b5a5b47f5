// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"os"

	"golang.org/x/sys/unix"
)

// setDirect turns direct I/O (O_DIRECT) on or off for f: written bytes go
// from the buffer to the disk without a copy into the page cache, which on
// the machines measured saves most of the kernel's time per byte and the
// sync's wait. It reports whether the flag is now as asked; a file system
// that refuses it leaves the file as it was.
//
// It is turned on only on ext4 and XFS, local file systems where direct
// I/O is long settled: on network file systems each direct write would
// wait for a round trip, and some others accept the flag and ignore it.
func setDirect(f *os.File, on bool) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = rc.Control(func(fd uintptr) {
		if on {
			var st unix.Statfs_t
			if unix.Fstatfs(int(fd), &st) != nil || (st.Type != unix.EXT4_SUPER_MAGIC && st.Type != unix.XFS_SUPER_MAGIC) {
				return
			}
		}
		flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		if err != nil {
			return
		}
		if on {
			flags |= unix.O_DIRECT
		} else {
			flags &^= unix.O_DIRECT
		}
		_, err = unix.FcntlInt(fd, unix.F_SETFL, flags)
		ok = err == nil
	})
	return ok
}
