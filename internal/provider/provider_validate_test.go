// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// badBaseURLs are base URLs that carry user information and fail a check
// other than the one for credentials first. %s is where the user and
// password go.
var badBaseURLs = []struct{ name, form string }{
	{"another scheme", "ftp://%s@cloud.mongodb.com"},
	{"leading space", " https://%s@cloud.mongodb.com"},
	{"trailing newline", "https://%s@cloud.mongodb.com\n"},
	{"port out of range", "https://%s@cloud.mongodb.com:99999"},
	{"port not a number", "https://%s@cloud.mongodb.com:44x"},
	{"no host", "https://%s@"},
	{"no scheme", "//%s@cloud.mongodb.com"},
	{"no slashes", "%s@cloud.mongodb.com"},
	{"plain http to a remote host", "http://%s@cloud.mongodb.com"},
	{"space in the password", "https://%s d@cloud.mongodb.com"},
	{"slash in the password", "https://%s/d@cloud.mongodb.com"},
	{"hash in the password", "https://%s#d@cloud.mongodb.com"},
	{"query", "https://%s@cloud.mongodb.com/?x=1"},
	{"path", "https://%s@cloud.mongodb.com/api/atlas/v2"},
}

// baseURLCase gives each form its own user and password, so that a leak
// is traced to the case that made it.
func baseURLCase(i int, form string) (raw, user, password string) {
	user, password = fmt.Sprintf("opsUsr%02dq", i), fmt.Sprintf("Pw%02dzXq7Kv", i)
	return fmt.Sprintf(form, user+":"+password), user, password
}

// terraformQuote drops the lines in which Terraform quotes the
// configuration file under a diagnostic ("  3:   base_url = ..."): they
// are the user's own source, not a message.
var terraformQuote = regexp.MustCompile(`(?m)^[\s│]*\d+:.*$`)

// TestAccBaseURL_userinfoNeverEchoed refuses every bad base URL with a
// message that names base_url: at plan time (the provider block), at apply
// time (a provider block value known only then, which Terraform validates
// again before configuring) and at configure time (the environment). Neither
// the message nor any line of the TRACE log holds the URL's user or
// password.
func TestAccBaseURL_userinfoNeverEchoed(t *testing.T) {
	logDir := t.TempDir()
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
	unsetAtlasEnv(t)

	creds := fmt.Sprintf(`
  public_key  = %q
  private_key = %q
`, atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey)
	ways := []struct {
		name string
		cfg  string
		env  bool   // the URL is MONGODB_ATLAS_BASE_URL rather than var.base_url
		rpc  string // the call that refuses it
		want string
	}{
		{"plan time", `
variable "base_url" {
  type = string
}
provider "atlas" {
  base_url = var.base_url` + creds + `}
` + defaultTenantResource, false, "ValidateProviderConfig", `Invalid Atlas Base URL.*base_url`},
		{"apply time", `
variable "base_url" {
  type = string
}
# Empty, and known only at apply: the URL itself is in no state.
resource "terraform_data" "later" {
  input = ""
}
provider "atlas" {
  base_url = "${var.base_url}${terraform_data.later.output}"` + creds + `}
` + defaultTenantResource, false, "ValidateProviderConfig", `Invalid Atlas Base URL.*base_url`},
		{"configure time", "\nprovider \"atlas\" {" + creds + "}\n" + defaultTenantResource, true, "ConfigureProvider",
			`Invalid Atlas Base URL.*MONGODB_ATLAS_BASE_URL.*base_url`},
	}
	for i, bad := range badBaseURLs {
		raw, user, password := baseURLCase(i, bad.form)
		for _, way := range ways {
			t.Run(bad.name+"/"+way.name, func(t *testing.T) {
				env := newTestEnv(t, atlassim.Config{})
				vars := config.Variables{}
				if way.env {
					t.Setenv(envBaseURL[0], raw)
				} else {
					vars["base_url"] = config.StringVariable(raw)
				}
				var failure string
				resource.Test(t, resource.TestCase{
					ProtoV6ProviderFactories: env.factories(),
					// The error is caught here rather than by ExpectError so
					// that its whole text can be searched.
					ErrorCheck: func(err error) error {
						failure = err.Error()
						return nil
					},
					Steps: []resource.TestStep{{Config: way.cfg, ConfigVariables: vars}},
				})
				if failure == "" {
					t.Fatal("the step did not fail")
				}
				message := terraformQuote.ReplaceAllString(failure, "")
				if !wrapped(`(?s)` + way.want).MatchString(message) {
					t.Errorf("the error does not match %q:\n%s", way.want, message)
				}
				for _, secret := range []string{password, user} {
					if strings.Contains(message, secret) {
						t.Errorf("the error holds %q:\n%s", secret, message)
					}
				}
				data, err := os.ReadFile(filepath.Join(logDir, strings.ReplaceAll(t.Name(), "/", "__")+".log"))
				if err != nil {
					t.Fatal(err)
				}
				log := withoutHarnessConfig(t, string(data))
				// The log must hold the diagnostic, from the call meant, or
				// the search proves nothing.
				if !anyLineHasAll(strings.Split(log, "\n"), []string{"Response contains error diagnostic", "tf_rpc=" + way.rpc, "Invalid Atlas Base URL"}) {
					t.Errorf("no line of the log (%d bytes) holds the diagnostic from %s", len(log), way.rpc)
				}
				for _, line := range strings.Split(log, "\n") {
					for _, secret := range []string{password, user} {
						if strings.Contains(line, secret) {
							t.Errorf("a log line holds %q: %.400s", secret, line)
						}
					}
				}
				if st := env.sim.Stats(); st.TotalRequests != 0 {
					t.Errorf("a bad base URL reached the simulator: %d requests", st.TotalRequests)
				}
			})
		}
	}
}

func TestAccProvider_badBaseURL(t *testing.T) {
	unsetAtlasEnv(t)
	for _, tt := range []struct{ url, want string }{
		{"http://cloud.mongodb.com", `(?s)Invalid Atlas Base URL.*plain http`},
		{"not a url", `(?s)Invalid Atlas Base URL.*must start with https://`},
		{"https://cloud.mongodb.com/api/atlas", `(?s)Invalid Atlas Base URL.*host only`},
	} {
		t.Run(tt.url, func(t *testing.T) {
			env := newTestEnv(t, atlassim.Config{})
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
provider "atlas" {
  base_url = %q
}
resource "atlas_tenant_snapshot_download" "test" {
  project_id   = %q
  cluster_name = "Cluster0"
  snapshot_id  = %q
}
`, tt.url, atlassim.DefaultProjectID, atlassim.DefaultSnapshotID),
					PlanOnly:    true,
					ExpectError: wrapped(tt.want),
				}},
			})
		})
	}
}

// TestEveryBaseURLProblemIsWorded: each problem ParseBaseURL reports has a
// phrase here, where the user's words are; a kind added to internal/atlas
// without one fails this test.
func TestEveryBaseURLProblemIsWorded(t *testing.T) {
	for p := atlas.BaseURLEmpty; p <= atlas.BaseURLPlainHTTP; p++ {
		if baseURLProblems[p] == "" {
			t.Errorf("base URL problem %d has no wording", p)
		}
	}
}
