// SPDX-License-Identifier: MPL-2.0

//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// maxRSSKiB is the peak resident set of a finished process and the
// descendants it waited for, in KiB; 0 when unknown.
func maxRSSKiB(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) / 1024 //nolint:unconvert // bytes there, KiB elsewhere; int32 on some platforms
	}
	return int64(ru.Maxrss) //nolint:unconvert // int32 on some platforms
}

// cpuTime is the user and system CPU time of a finished process.
func cpuTime(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}
