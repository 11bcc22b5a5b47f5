// SPDX-License-Identifier: MPL-2.0

//go:build unix

package atlas

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenLockDir: the directory is created private, and one that others
// could use to plant records or links is refused with the reason.
func TestOpenLockDir(t *testing.T) {
	root := t.TempDir()
	d, err := OpenLockDir(filepath.Join(root, "new"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(d.Path()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("created %v (%v), want mode 0700", fi.Mode(), err)
	}
	open := filepath.Join(root, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777) // past the umask
	link := filepath.Join(root, "link")
	if err := os.Symlink(d.Path(), link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "file")
	os.WriteFile(file, nil, 0o600)
	for _, tt := range []struct {
		path string
		want LockDirProblem
	}{
		{open, LockDirSharedWrite},
		{link, LockDirSymlink},
		{file, LockDirNotADirectory},
	} {
		_, err := OpenLockDir(tt.path)
		var le *LockDirError
		if !errors.As(err, &le) || le.Problem != tt.want || le.Path != tt.path {
			t.Errorf("OpenLockDir(%s) = %v, want a *LockDirError of problem %d", tt.path, err, tt.want)
		}
	}
	if os.Geteuid() == 0 {
		theirs := filepath.Join(root, "theirs")
		os.Mkdir(theirs, 0o700)
		if err := os.Chown(theirs, 65534, 65534); err == nil {
			var le *LockDirError
			if _, err := OpenLockDir(theirs); !errors.As(err, &le) || le.Problem != LockDirOtherOwner {
				t.Errorf("OpenLockDir(another user's) = %v, want a refusal", err)
			}
		}
	}
}

// TestLockFileRefusesAPlantedLink: a link planted where a lock or record
// file goes is not followed.
func TestLockFileRefusesAPlantedLink(t *testing.T) {
	d, err := OpenLockDir(filepath.Join(t.TempDir(), "locks"))
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(target, []byte("keep"), 0o600)
	if err := os.Symlink(target, d.file("k", ".lock")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.lockFile("k"); err == nil {
		t.Fatal("lockFile followed a planted link")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link's target changed: %q", b)
	}
}

// TestFileLockExcludesAndWaitsForContext: an exclusive lock held through
// one open file keeps another out (as it would another process), and the
// wait ends with ctx.
func TestFileLockExcludesAndWaitsForContext(t *testing.T) {
	d, err := OpenLockDir(filepath.Join(t.TempDir(), "locks"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := d.lockFile("k")
	b, _ := d.lockFile("k")
	if err := a.lock(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.lock(ctx, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exclusive lock beside a shared one: %v, want to wait until ctx ends", err)
	}
	a.unlock()
	if err := b.lock(context.Background(), true); err != nil {
		t.Fatalf("exclusive lock once free: %v", err)
	}
	b.unlock()
}
