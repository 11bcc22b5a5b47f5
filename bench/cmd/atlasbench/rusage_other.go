// SPDX-License-Identifier: MPL-2.0

//go:build !unix

package main

import (
	"os"
	"time"
)

// maxRSSKiB is unknown on this platform.
func maxRSSKiB(*os.ProcessState) int64 { return 0 }

// cpuTime is the user and system CPU time of a finished process.
func cpuTime(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}
