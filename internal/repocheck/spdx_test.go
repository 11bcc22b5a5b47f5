// SPDX-License-Identifier: MPL-2.0

// Package repocheck holds tests about the repository itself rather than
// about the code.
package repocheck

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const spdxLine = "// SPDX-License-Identifier: MPL-2.0"

// skipDirs are trees that hold no code of the project's own.
var skipDirs = map[string]bool{".git": true, ".tools": true, "bin": true, "dist": true, "testdata": true, ".terraform": true}

// Every Go file names the project's licence in its first line.
func TestGoFilesCarrySPDXHeader(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDirs[d.Name()] && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		checked++
		first, err := firstLine(path)
		if err != nil {
			return err
		}
		if first != spdxLine {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s starts with %q, want %q", rel, first, spdxLine)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d Go files; the walk did not start at the repository root", checked)
	}
}

func firstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if sc.Scan() {
		return sc.Text(), nil
	}
	return "", sc.Err()
}
