// SPDX-License-Identifier: MPL-2.0

package main

import (
	"crypto/sha256"
	"os"
	"testing"
)

// TestProcCPUSeconds: the reading of this process grows while it computes.
func TestProcCPUSeconds(t *testing.T) {
	before := procCPUSeconds(os.Getpid())
	if before < 0 {
		t.Fatal("this process's /proc stat could not be read")
	}
	buf := make([]byte, 1<<20)
	after := before
	for i := 0; i < 200 && after < before+0.05; i++ {
		for range 16 {
			_ = sha256.Sum256(buf)
		}
		after = procCPUSeconds(os.Getpid())
	}
	if after < before+0.05 {
		t.Fatalf("CPU time read %v, then %v after a few seconds of hashing", before, after)
	}
	if got := procCPUSeconds(1 << 30); got != -1 {
		t.Fatalf("a process that does not exist read %v, want -1", got)
	}
}
