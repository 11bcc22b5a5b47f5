// SPDX-License-Identifier: MPL-2.0

//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// maxRSSKiB is the peak resident set of a finished process, in KiB; 0 when
// unknown.
func maxRSSKiB(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) / 1024 //nolint:unconvert // bytes there, KiB elsewhere; int32 on some platforms
	}
	return int64(ru.Maxrss) //nolint:unconvert // int32 on some platforms
}
