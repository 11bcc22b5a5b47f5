// SPDX-License-Identifier: MPL-2.0

//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package atlas

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockPart holds an advisory lock on f until it is closed or its process
// ends, killed or not. Where the file system has no locks, f stays
// unlocked, and removeUnlocked cannot lock any part there either.
func lockPart(f *os.File) { _ = unix.Flock(int(f.Fd()), unix.LOCK_EX) }

// removeUnlocked removes the file at p unless a live process holds it.
func removeUnlocked(p string) {
	f, err := os.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		_ = os.Remove(p)
	}
}
