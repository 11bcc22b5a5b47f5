// SPDX-License-Identifier: MPL-2.0

package examplestest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The mirror serves the provider under both registries' default host names,
// so that `source = "atlas-community/atlas"` resolves under Terraform
// (registry.terraform.io) and under OpenTofu (registry.opentofu.org).
var providerAddrs = []string{
	"registry.terraform.io/atlas-community/atlas",
	"registry.opentofu.org/atlas-community/atlas",
}

// mirrorVersion is the version the mirror offers; Terraform accepts only
// semantic versions there.
const mirrorVersion = "0.1.0"

// versionsTF is added to a snippet that does not say where its provider
// comes from, so that validation uses this provider and not a registry's
// hashicorp/atlas.
const versionsTF = `terraform {
  required_providers {
    atlas = {
      source = "atlas-community/atlas"
    }
  }
}
`

// queryFileSuffix ends the names of the files `terraform query` reads
// (list blocks), which `terraform validate -query` checks.
const queryFileSuffix = ".tfquery.hcl"

// hasQueryFiles reports whether dir holds a .tfquery.hcl file.
func hasQueryFiles(t *testing.T, dir string) bool {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+queryFileSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return len(m) > 0
}

// TestExamplesValidate runs `terraform init` and `terraform validate` on
// every directory under examples/ that holds .tf or .tfquery.hcl files
// (with -query for the latter), against the provider built from this
// checkout.
func TestExamplesValidate(t *testing.T) {
	tf := findTerraform(t)
	root := moduleRoot(t)
	dirs := exampleDirs(t, filepath.Join(root, "examples"))
	if len(dirs) == 0 {
		t.Fatal("no example directories with .tf files found under examples/")
	}
	version := terraformVersion(t, tf)
	t.Logf("terraform: %s (%s)", tf, version)

	tmp := t.TempDir()
	// The whole tree is copied, so that an example may use a module from a
	// sibling directory by a relative path, and nothing is written into the
	// checkout.
	tree := filepath.Join(tmp, "examples")
	copyTree(t, filepath.Join(root, "examples"), tree)
	mirror := filepath.Join(tmp, "mirror")
	buildProvider(t, root, mirror)
	rc := filepath.Join(tmp, "cli.tfrc")
	writeCLIConfig(t, rc, mirror)

	for _, rel := range dirs {
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			t.Parallel()
			if strings.HasPrefix(filepath.ToSlash(rel), "ephemeral-resources/") && version.less(1, 10) {
				t.Skipf("ephemeral resources need Terraform 1.10 or later; this is %s", version)
			}
			if (strings.HasPrefix(filepath.ToSlash(rel), "actions/") || strings.HasPrefix(filepath.ToSlash(rel), "list-resources/")) && version.less(1, 14) {
				t.Skipf("actions and list resources need Terraform 1.14 or later; this is %s", version)
			}
			work := filepath.Join(tree, rel)
			if version.less(1, 12) {
				// Import blocks with an identity need 1.12; the rest of
				// the directory is still validated.
				if err := os.Remove(filepath.Join(work, "import-by-identity.tf")); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
			}
			if !declaresProviders(t, work) {
				if err := os.WriteFile(filepath.Join(work, "versions_generated.tf"), []byte(versionsTF), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			runTF(t, tf, work, rc, "init", "-backend=false", "-input=false", "-no-color")
			args := []string{"validate", "-no-color"}
			if hasQueryFiles(t, work) {
				// Without -query, validate leaves .tfquery.hcl files unread.
				args = append(args, "-query")
			}
			runTF(t, tf, work, rc, args...)
		})
	}
}

// findTerraform takes TF_ACC_TERRAFORM_PATH, then terraform on PATH.
func findTerraform(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		abs, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("TF_ACC_TERRAFORM_PATH=%s: %v", p, err)
		}
		return abs
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("no terraform: set TF_ACC_TERRAFORM_PATH or put terraform on PATH (`make test` does) to validate the examples")
	}
	return p
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// exampleDirs lists, relative to examples, every directory that holds a .tf
// file directly.
func exampleDirs(t *testing.T, examples string) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(examples, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".terraform" || strings.HasPrefix(d.Name(), ".") && path != examples) {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(d.Name(), ".tf") || strings.HasSuffix(d.Name(), queryFileSuffix)) {
			rel, err := filepath.Rel(examples, filepath.Dir(path))
			if err != nil {
				return err
			}
			seen[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	return dirs
}

// buildProvider builds the provider once and places it in the mirror under
// every address in providerAddrs.
func buildProvider(t *testing.T, root, mirror string) {
	t.Helper()
	osArch := runtime.GOOS + "_" + runtime.GOARCH
	name := "terraform-provider-atlas_v" + mirrorVersion
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	first := filepath.Join(mirror, providerAddrs[0], mirrorVersion, osArch, name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-X main.version="+mirrorVersion, "-o", first, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	for _, addr := range providerAddrs[1:] {
		dst := filepath.Join(mirror, addr, mirrorVersion, osArch, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(first, dst); err != nil {
			data, rerr := os.ReadFile(first)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if werr := os.WriteFile(dst, data, 0o755); werr != nil {
				t.Fatal(werr)
			}
		}
	}
}

// writeCLIConfig installs this provider from the mirror and nothing from
// anywhere else, so a test never reaches a registry.
func writeCLIConfig(t *testing.T, path, mirror string) {
	t.Helper()
	quoted := make([]string, len(providerAddrs))
	for i, a := range providerAddrs {
		quoted[i] = strconv.Quote(a)
	}
	rc := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %s\n    include = [%s]\n  }\n}\n",
		strconv.Quote(filepath.ToSlash(mirror)), strings.Join(quoted, ", "))
	if err := os.WriteFile(path, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies the regular files under src to dst, leaving out what
// an earlier `terraform init` or apply may have left there.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		name := d.Name()
		switch {
		case d.IsDir() && name == ".terraform":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case !d.Type().IsRegular() || name == ".terraform.lock.hcl" || strings.Contains(name, ".tfstate"):
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// declaresProviders reports whether any .tf file in dir has a
// required_providers block.
func declaresProviders(t *testing.T, dir string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("required_providers")) {
			return true
		}
	}
	return false
}

func runTF(t *testing.T, tf, dir, rc string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tf, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(),
		"TF_CLI_CONFIG_FILE="+rc,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s failed: %v\n%s", filepath.Base(tf), strings.Join(args, " "), err, out)
	}
}

// cleanEnv drops the caller's TF_* variables (logs, plugin caches, extra
// CLI arguments) and Atlas settings, which would change what is checked.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_") || strings.HasPrefix(name, "MONGODB_ATLAS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// tfVersion is a Terraform (or OpenTofu) version.
type tfVersion struct {
	major, minor, patch int
	text                string
}

func (v tfVersion) String() string { return v.text }

func (v tfVersion) less(major, minor int) bool {
	return v.major < major || v.major == major && v.minor < minor
}

func terraformVersion(t *testing.T, tf string) tfVersion {
	t.Helper()
	out, err := exec.Command(tf, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version -json: %v", tf, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s version -json: %v", tf, err)
	}
	parsed, err := parseVersion(v.Version)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

func parseVersion(s string) (tfVersion, error) {
	core, _, _ := strings.Cut(strings.TrimPrefix(s, "v"), "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return tfVersion{}, errors.New("cannot read version " + strconv.Quote(s))
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return tfVersion{}, errors.New("cannot read version " + strconv.Quote(s))
		}
		nums[i] = n
	}
	return tfVersion{nums[0], nums[1], nums[2], s}, nil
}
