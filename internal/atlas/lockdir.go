// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// LockDir is a directory that every provider process of one user on one
// machine shares, to coordinate through file locks and small record files.
// It holds no secret: job ids, snapshot ids and times only.
type LockDir struct{ path string }

// DefaultLockDir is the lock directory used when none is given: one per
// user under the system's temporary directory.
func DefaultLockDir() string {
	return filepath.Join(os.TempDir(), "terraform-provider-atlas-"+strconv.Itoa(os.Getuid()))
}

// LockDirProblem is why a lock directory cannot be used.
type LockDirProblem int

const (
	LockDirUnresolvable  LockDirProblem = iota + 1 // no absolute path (Err says why)
	LockDirUncreatable                             // Err says why
	LockDirUnreadable                              // Err says why
	LockDirSymlink                                 // a symbolic link
	LockDirNotADirectory                           // a file or something else
	LockDirSharedWrite                             // writable by other users
	LockDirOtherOwner                              // owned by another user
	LockFileUnopenable                             // a lock file in it (Err says why)
)

var lockDirProblems = map[LockDirProblem]string{
	LockDirUnresolvable: "cannot be resolved", LockDirUncreatable: "cannot be created", LockDirUnreadable: "cannot be read",
	LockDirSymlink: "is a symbolic link", LockDirNotADirectory: "is not a directory",
	LockDirSharedWrite: "can be written by other users", LockDirOtherOwner: "belongs to another user",
	LockFileUnopenable: "has a lock file that cannot be opened",
}

// LockDirError is a lock directory that cannot be used safely.
type LockDirError struct {
	Path    string
	Problem LockDirProblem
	Err     error // the system's error, if any
}

func (e *LockDirError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("atlas: lock directory %s %s: %v", e.Path, lockDirProblems[e.Problem], e.Err)
	}
	return fmt.Sprintf("atlas: lock directory %s %s", e.Path, lockDirProblems[e.Problem])
}

func (e *LockDirError) Unwrap() error { return e.Err }

// OpenLockDir creates path (mode 0700) if it does not exist, and refuses a
// directory that someone else could use to plant records or links: a
// symbolic link, one owned by another user, or one that others can write.
func OpenLockDir(path string) (*LockDir, error) {
	if path == "" {
		path = DefaultLockDir()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &LockDirError{Path: path, Problem: LockDirUnresolvable, Err: err}
	}
	if err := os.Mkdir(abs, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, &LockDirError{Path: abs, Problem: LockDirUncreatable, Err: err}
	}
	fi, err := os.Lstat(abs)
	if err != nil {
		return nil, &LockDirError{Path: abs, Problem: LockDirUnreadable, Err: err}
	}
	if problem := unsafeDir(fi); problem != 0 {
		return nil, &LockDirError{Path: abs, Problem: problem}
	}
	return &LockDir{path: abs}, nil
}

// unsafeDir says why a lock directory must not be used, or 0.
func unsafeDir(fi fs.FileInfo) LockDirProblem {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return LockDirSymlink
	case !fi.IsDir():
		return LockDirNotADirectory
	}
	return unsafeOwner(fi)
}

// Path is the directory's absolute path.
func (d *LockDir) Path() string { return d.path }

// file names the file for key with the given suffix; the key is hashed so
// that any key makes a short, safe name.
func (d *LockDir) file(key, suffix string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(d.path, hex.EncodeToString(sum[:16])+suffix)
}

// openNoFollow opens a file of the directory for reading and writing,
// creating it 0600, and refuses one that is not a regular file of ours
// (a link planted there before the directory was checked, say).
func openNoFollow(name string, flag int) (*os.File, error) {
	f, err := os.OpenFile(name, flag|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", name)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// fileLock is a lock shared by the goroutines of this process and by other
// processes: an open lock file, locked shared or exclusive.
type fileLock struct{ f *os.File }

func (d *LockDir) lockFile(key string) (*fileLock, error) {
	f, err := openNoFollow(d.file(key, ".lock"), os.O_RDWR)
	if err != nil {
		return nil, &LockDirError{Path: d.path, Problem: LockFileUnopenable, Err: err}
	}
	return &fileLock{f: f}, nil
}

// lock takes the file lock, polling so that ctx can end the wait: the
// system calls that wait cannot be interrupted. The holders are other
// provider processes inside one request each, so waits are short.
func (l *fileLock) lock(ctx context.Context, exclusive bool) error {
	wait := time.Millisecond
	for {
		ok, err := tryLock(l.f, exclusive)
		if err != nil {
			return fmt.Errorf("atlas: locking %s: %w", l.f.Name(), err)
		}
		if ok {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

func (l *fileLock) unlock() { _ = unlockFile(l.f) }
