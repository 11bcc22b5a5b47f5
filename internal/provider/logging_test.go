// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// wireLine is how a wire log line starts, after the time and level.
var wireLine = regexp.MustCompile(`^\S+ \[[A-Z]+\] +\S+\.atlas_http: Atlas HTTP exchange:`)

// logField is the value of an unquoted field of an hclog line, or "".
func logField(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// TestAccWireLog_levelsAndRequestFields applies two downloads and a data
// source with only TF_LOG set to a level, as the README says, and reads
// the provider's log: at DEBUG and TRACE every exchange is there, each
// line carrying the request id of the RPC that made it and its resource or
// data source type, so that the two parallel creates can be told apart.
// TF_LOG_PROVIDER_ATLAS_HTTP=OFF leaves the wire log out and nothing else.
func TestAccWireLog_levelsAndRequestFields(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     map[string]string
		wantLog bool
	}{
		{"TF_LOG=DEBUG", map[string]string{"TF_LOG": "DEBUG"}, true},
		{"TF_LOG=TRACE", map[string]string{"TF_LOG": "TRACE"}, true},
		{"TF_LOG=DEBUG, wire log OFF", map[string]string{"TF_LOG": "DEBUG", "TF_LOG_PROVIDER_ATLAS_HTTP": "OFF"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			unsetLogEnv(t)
			logsOff = false
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			logDir := t.TempDir()
			t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
			unsetAtlasEnv(t)

			env := newTestEnv(t, atlassim.Config{})
			cfg := env.providerBlock() + fmt.Sprintf(`
resource "atlas_tenant_snapshot_download" "a" {
  project_id   = %[1]q
  cluster_name = %[2]q
  snapshot_id  = %[3]q
}
resource "atlas_tenant_snapshot_download" "b" {
  project_id   = %[1]q
  cluster_name = %[2]q
  snapshot_id  = %[4]q
}
data "atlas_flex_snapshots" "all" {
  project_id = %[1]q
  name       = %[5]q
}
`, atlassim.DefaultProjectID, atlassim.DefaultClusterName, atlassim.DefaultSnapshotID,
				atlassim.DefaultOlderSnapshotID, atlassim.DefaultFlexClusterName)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: env.factories(),
				Steps:                    []resource.TestStep{{Config: cfg}},
			})

			data, err := os.ReadFile(filepath.Join(logDir, strings.ReplaceAll(t.Name(), "/", "__")+".log"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(data), "\n")
			// Other lines of each request, by request id: the framework's and
			// the provider's own, which have always carried the root fields.
			var wire []string
			rpcOf := map[string]string{}
			for _, l := range lines {
				switch {
				case wireLine.MatchString(l):
					wire = append(wire, l)
				case logField(l, "tf_req_id") != "":
					rpcOf[logField(l, "tf_req_id")] = logField(l, "tf_rpc")
				}
			}
			creates := 0
			for _, rpc := range rpcOf {
				if rpc == "ApplyResourceChange" {
					creates++
				}
			}
			if creates < 2 {
				t.Fatalf("the log (%d lines) has %d ApplyResourceChange requests, want 2: it does not hold what it is searched for",
					len(lines), creates)
			}
			if !tt.wantLog {
				if len(wire) > 0 {
					t.Errorf("%d wire log lines with %v, want none; first: %.300s", len(wire), tt.env, wire[0])
				}
				return
			}
			if len(wire) == 0 {
				t.Fatalf("no wire log line with %v in %d lines of log", tt.env, len(lines))
			}
			postIDs := map[string]bool{}
			for _, l := range wire {
				id, rpc := logField(l, "tf_req_id"), logField(l, "tf_rpc")
				if id == "" || rpc == "" {
					t.Errorf("wire line without tf_req_id or tf_rpc: %.300s", l)
					continue
				}
				if rpcOf[id] != rpc {
					t.Errorf("wire line of request %s says tf_rpc=%s, the request's other lines %q", id, rpc, rpcOf[id])
				}
				if strings.Contains(l, "method=POST") && strings.Contains(l, "status=200") {
					if logField(l, "tf_resource_type") != "atlas_tenant_snapshot_download" || rpc != "ApplyResourceChange" {
						t.Errorf("download request without its resource type and RPC: %.300s", l)
					}
					postIDs[id] = true
				}
			}
			if len(postIDs) != 2 {
				t.Errorf("the two downloads were requested under %d distinct request ids, want 2", len(postIDs))
			}
			if !anyLineHasAll(wire, []string{"/flexClusters/" + atlassim.DefaultFlexClusterName + "/backup/snapshots",
				"status=200", "tf_data_source_type=atlas_flex_snapshots", "tf_rpc=ReadDataSource"}) {
				t.Error("no wire line of the snapshot listing with its data source type and RPC")
			}
		})
	}
}

// unsetLogEnv removes every variable that asks for logs, and those
// SilenceLogsUnlessAsked sets, for the rest of the test; t.Setenv restores
// them afterwards, and the cleanup restores logsOff.
func unsetLogEnv(t *testing.T) {
	t.Helper()
	wasOff := logsOff
	t.Cleanup(func() { logsOff = wasOff })
	names := []string{"TF_LOG_SDK", "TF_LOG_PROVIDER"}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_LOG") || strings.HasPrefix(name, "TF_ACC_LOG") {
			names = append(names, name)
		}
	}
	for _, name := range names {
		t.Setenv(name, "")
		_ = os.Unsetenv(name)
	}
}

func TestSilenceLogsUnlessAsked(t *testing.T) {
	t.Run("nothing asked", func(t *testing.T) {
		unsetLogEnv(t)
		SilenceLogsUnlessAsked()
		if !logsOff || os.Getenv("TF_LOG_PROVIDER") != "OFF" || os.Getenv("TF_LOG_SDK") != "OFF" {
			t.Errorf("logsOff=%v TF_LOG_PROVIDER=%q TF_LOG_SDK=%q, want logs off", logsOff,
				os.Getenv("TF_LOG_PROVIDER"), os.Getenv("TF_LOG_SDK"))
		}
		if wireLog("priv") != nil {
			t.Error("wire log built with logs off")
		}
		ctx := context.Background()
		if got := (&providerData{secrets: []string{"priv"}}).logContext(ctx); got != ctx {
			t.Error("logContext added masks with logs off")
		}
	})
	for _, asked := range []string{"TF_LOG", "TF_LOG_PROVIDER_ATLAS_HTTP", "TF_ACC_LOG_PATH"} {
		t.Run(asked, func(t *testing.T) {
			unsetLogEnv(t)
			logsOff = false
			t.Setenv(asked, "TRACE")
			SilenceLogsUnlessAsked()
			if logsOff || os.Getenv("TF_LOG_PROVIDER") != "" || os.Getenv("TF_LOG_SDK") != "" {
				t.Errorf("with %s set: logsOff=%v TF_LOG_PROVIDER=%q TF_LOG_SDK=%q, want logs left on", asked, logsOff,
					os.Getenv("TF_LOG_PROVIDER"), os.Getenv("TF_LOG_SDK"))
			}
			if wireLog("priv") == nil {
				t.Error("no wire log with logs asked for")
			}
		})
	}
}

// TestLogContext_masksWhenLogsOn checks that the masks stay when logs are
// wanted: the key given to the provider never reaches a log line.
func TestLogContext_masksWhenLogsOn(t *testing.T) {
	wasOff := logsOff
	logsOff = false
	t.Cleanup(func() { logsOff = wasOff })

	var out strings.Builder
	ctx := tflogtest.RootLogger(context.Background(), &out)
	ctx = (&providerData{secrets: []string{"5e1f2a3b-private"}}).logContext(ctx)
	tflog.Info(ctx, "key is 5e1f2a3b-private", map[string]any{"detail": "5e1f2a3b-private"})
	if got := out.String(); strings.Contains(got, "5e1f2a3b-private") || !strings.Contains(got, "key is") {
		t.Errorf("log line %q: want the message with the key masked", got)
	}
}
