// SPDX-License-Identifier: MPL-2.0

//go:build !linux

package atlas

import "os"

// setDirect is refused here: downloads write through the page cache.
func setDirect(*os.File, bool) bool { return false }
