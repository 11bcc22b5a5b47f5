// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// TestAccRestoreJobsDataSource_linksOnlyWhenAsked lists a cluster's jobs,
// one made by a download resource and others by an ephemeral download,
// without and then with include_links. Without it no listed job has a link,
// and no ephemeral link is anywhere in the state or plan files Terraform
// wrote; with it every job has its link, marked sensitive.
func TestAccRestoreJobsDataSource_linksOnlyWhenAsked(t *testing.T) {
	for _, tt := range []struct{ family, clusterAttr, cluster, snapshot string }{
		{"tenant", "cluster_name", atlassim.DefaultClusterName, atlassim.DefaultSnapshotID},
		{"flex", "name", atlassim.DefaultFlexClusterName, atlassim.DefaultFlexSnapshotID},
	} {
		t.Run(tt.family, func(t *testing.T) {
			// The raw files Terraform writes are searched, so the working
			// directories go where the test can find them.
			workDirs := t.TempDir()
			t.Setenv("TF_ACC_TEMP_DIR", workDirs)
			env := newTestEnv(t, atlassim.Config{})
			kept := fmt.Sprintf("atlas_%s_snapshot_download.kept", tt.family)
			listed := fmt.Sprintf("data.atlas_%s_restore_jobs.listed", tt.family)
			base := env.providerBlock() + fmt.Sprintf(`
resource "atlas_%[1]s_snapshot_download" "kept" {
  project_id  = %[2]q
  %[3]s = %[4]q
  snapshot_id = %[5]q
}
ephemeral "atlas_%[1]s_snapshot_download" "link" {
  project_id  = %[2]q
  %[3]s = %[4]q
  snapshot_id = %[5]q
}
`, tt.family, atlassim.DefaultProjectID, tt.clusterAttr, tt.cluster, tt.snapshot)
			list := func(extra string) string {
				return base + fmt.Sprintf(`
data "atlas_%[1]s_restore_jobs" "listed" {
  project_id = %[2]q
  %[3]s = %[4]q
  %[5]s
  depends_on = [atlas_%[1]s_snapshot_download.kept]
}
`, tt.family, atlassim.DefaultProjectID, tt.clusterAttr, tt.cluster, extra)
			}
			jobs := tfjsonpath.New("restore_jobs")
			resource.Test(t, resource.TestCase{
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{ephemeralResourcesTestable()},
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{
					{
						Config: base,
						Check: func(*terraform.State) error {
							if n := len(env.sim.Jobs()); n < 2 {
								return fmt.Errorf("the simulator holds %d jobs: want the resource's and at least one ephemeral one", n)
							}
							return nil
						},
					},
					{
						Config: list(""),
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(listed, jobs, everyElement{min: 2, attr: "snapshot_url", check: knownvalue.Null()}),
							statecheck.CompareValueCollection(listed, []tfjsonpath.Path{jobs, tfjsonpath.New("id")},
								kept, tfjsonpath.New("id"), compare.ValuesSame()),
						},
						Check: func(s *terraform.State) error {
							return env.linksInFiles(workDirs, s.RootModule().Resources[kept].Primary.ID)
						},
					},
					{
						Config: list("include_links = true"),
						ConfigStateChecks: []statecheck.StateCheck{
							statecheck.ExpectKnownValue(listed, jobs, everyElement{min: 2, attr: "snapshot_url",
								check: knownvalue.StringRegexp(regexp.MustCompile(`\?token=`))}),
							statecheck.ExpectSensitiveValue(listed, jobs.AtSliceIndex(0).AtMapKey("snapshot_url")),
							statecheck.CompareValueCollection(listed, []tfjsonpath.Path{jobs, tfjsonpath.New("snapshot_url")},
								kept, tfjsonpath.New("snapshot_url"), compare.ValuesSame()),
						},
					},
				},
			})
		})
	}
}

// everyElement checks attr of every object in a list, of which there must
// be at least min.
type everyElement struct {
	min   int
	attr  string
	check knownvalue.Check
}

func (e everyElement) CheckValue(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("expected a list, got %T", v)
	}
	if len(list) < e.min {
		return fmt.Errorf("expected at least %d elements, got %d", e.min, len(list))
	}
	for i, el := range list {
		obj, ok := el.(map[string]any)
		if !ok {
			return fmt.Errorf("element %d: expected an object, got %T", i, el)
		}
		if err := e.check.CheckValue(obj[e.attr]); err != nil {
			return fmt.Errorf("element %d, %s: %w", i, e.attr, err)
		}
	}
	return nil
}

func (e everyElement) String() string {
	return fmt.Sprintf("at least %d elements, each with %s %s", e.min, e.attr, e.check)
}

// linksInFiles searches every state file and every saved plan under root
// for the token of each link the simulator has made. The token of
// keptJob's link may appear once in a state file (the resource's own
// attribute, and evidence that the search finds what it looks for); no
// other token may appear at all.
func (e *testEnv) linksInFiles(root, keptJob string) error {
	tokens := map[string]string{} // token -> job id
	for _, j := range e.sim.Jobs() {
		u, err := url.Parse(j.SnapshotURL)
		if err != nil || u.Query().Get("token") == "" {
			return fmt.Errorf("job %s has no link with a token: %q", j.ID, j.SnapshotURL)
		}
		tokens[u.Query().Get("token")] = j.ID
	}
	files, err := terraformFiles(root)
	if err != nil {
		return err
	}
	var problems []string
	keptSeen := false
	for name, data := range files {
		for tok, job := range tokens {
			n := bytes.Count(data, []byte(tok))
			switch {
			case job == keptJob && strings.HasSuffix(name, "terraform.tfstate") && n == 1:
				keptSeen = true
			case job == keptJob && strings.Contains(name, "tfplan"):
				// A plan holds the resource's attributes as well.
			case n > 0:
				problems = append(problems, fmt.Sprintf("%s holds the link of job %s %d times", name, job, n))
			}
		}
	}
	if !keptSeen {
		problems = append(problems, fmt.Sprintf("no state file holds the resource's own link once (files: %d)", len(files)))
	}
	if len(tokens) < 2 {
		problems = append(problems, fmt.Sprintf("the simulator made %d links: nothing ephemeral to look for", len(tokens)))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// terraformFiles reads every terraform.tfstate under root, and every entry
// of every saved plan (a zip archive).
func terraformFiles(root string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		switch d.Name() {
		case "terraform.tfstate":
			data, err := os.ReadFile(path)
			out[name] = data
			return err
		case "tfplan":
			zr, err := zip.OpenReader(path)
			if err != nil {
				return err
			}
			defer zr.Close()
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					return err
				}
				data, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					return err
				}
				out[name+"!"+f.Name] = data
			}
		}
		return nil
	})
	return out, err
}
