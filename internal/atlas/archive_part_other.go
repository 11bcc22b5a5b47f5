// SPDX-License-Identifier: MPL-2.0

//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package atlas

import "os"

// lockPart does nothing: on Windows a file that a process holds open
// cannot be removed, which is what keeps a live download's part file.
func lockPart(*os.File) {}

func removeUnlocked(p string) { _ = os.Remove(p) }
