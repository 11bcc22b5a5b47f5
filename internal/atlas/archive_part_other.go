// SPDX-License-Identifier: MPL-2.0

//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package atlas

import (
	"os"
	"runtime"
)

// lockPart does nothing: on Windows a file that a process holds open
// cannot be removed, which is what keeps a live download's part file.
func lockPart(*os.File) {}

// removeUnlocked removes the file at p unless a live process holds it
// (Windows); elsewhere it cannot tell, and leaves the file.
func removeUnlocked(p string) {
	if runtime.GOOS == "windows" {
		_ = os.Remove(p)
	}
}
