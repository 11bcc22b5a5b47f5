// SPDX-License-Identifier: MPL-2.0

//go:build !linux

package main

// procCPUSeconds is unknown on this platform.
func procCPUSeconds(int) float64 { return -1 }
