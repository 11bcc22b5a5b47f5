// SPDX-License-Identifier: MPL-2.0

//go:build windows

package atlas

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// Windows has no O_NOFOLLOW; the directory check below refuses a link.
const noFollow = 0

// unsafeOwner: a user's temporary directory on Windows is private by its
// ACL, which this does not read.
func unsafeOwner(fs.FileInfo) LockDirProblem { return 0 }

func tryLock(f *os.File, exclusive bool) (bool, error) {
	var flags uint32 = windows.LOCKFILE_FAIL_IMMEDIATELY
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, new(windows.Overlapped))
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return false, nil
	}
	return err == nil, err
}

func unlockFile(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}
