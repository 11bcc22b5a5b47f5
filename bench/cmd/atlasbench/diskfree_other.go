// SPDX-License-Identifier: MPL-2.0

//go:build !unix

package main

// freeBytes is unknown on this platform.
func freeBytes(string) int64 { return -1 }

// syncAll does nothing on this platform.
func syncAll() {}
