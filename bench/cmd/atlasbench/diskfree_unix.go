// SPDX-License-Identifier: MPL-2.0

//go:build unix

package main

import "syscall"

// freeBytes is the space an unprivileged user can still write in dir's
// file system; -1 when unknown.
func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize) //nolint:gosec,unconvert // block counts fit; types differ by platform
}

// syncAll asks the system to write every file's data to disk.
func syncAll() { syscall.Sync() }
