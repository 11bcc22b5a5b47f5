// SPDX-License-Identifier: MPL-2.0

//go:build unix

package atlas

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

const noFollow = unix.O_NOFOLLOW

// unsafeOwner says why a directory that others can write, or that is
// not ours, must not be used, or 0.
func unsafeOwner(fi fs.FileInfo) LockDirProblem {
	if fi.Mode().Perm()&0o022 != 0 {
		return LockDirSharedWrite
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return LockDirOtherOwner
	}
	return 0
}

func tryLock(f *os.File, exclusive bool) (bool, error) {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

func unlockFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }
