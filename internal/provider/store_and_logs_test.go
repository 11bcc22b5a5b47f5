// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// countingState records every state a resource stores.
type countingState struct{ stored []tenantDownloadModel }

func (s *countingState) Set(_ context.Context, val any) diag.Diagnostics {
	s.stored = append(s.stored, *val.(*tenantDownloadModel))
	return nil
}

// TestWaitAndStore_storesOnceUnlessItWaits checks how often a download is
// written to the state: once when Atlas's first answer is final, and once
// before waiting as well when it is not, so that an interrupted wait still
// leaves the job in the state.
func TestWaitAndStore_storesOnceUnlessItWaits(t *testing.T) {
	r := &downloadResource[tenantDownloadModel, *tenantDownloadModel]{kind: tenantDownload}
	cl := atlas.Cluster{Family: atlas.TenantV1, ProjectID: "6568a1b2c3d4e5f601234567", Name: "Cluster0"}
	// A client whose waits end at once with the context's error; it never
	// gets as far as a request.
	client, err := atlas.New(atlas.Config{
		BaseURL: "http://127.0.0.1:1", PublicKey: "pub", PrivateKey: "priv",
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	for _, tc := range []struct {
		name       string
		ctx        context.Context
		job        atlas.RestoreJob
		wantStores int
		wantError  string // summary of the one error expected, "" for none
	}{
		{"completed at once", context.Background(),
			atlas.RestoreJob{ID: "j1", Status: atlas.StatusCompleted, SnapshotURL: "https://example.invalid/s"}, 1, ""},
		{"failed at once", context.Background(),
			atlas.RestoreJob{ID: "j2", Status: atlas.StatusFailed}, 1, "Download Job Failed"},
		{"queued, wait interrupted", canceled,
			atlas.RestoreJob{ID: "j3", Status: "QUEUED"}, 2, "Waiting for the Download Link Was Interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m tenantDownloadModel
			state := &countingState{}
			var diags diag.Diagnostics
			job := tc.job
			r.waitAndStore(tc.ctx, client, cl, &m, &job, time.Now().Add(time.Minute), time.Minute, state, &diags, "The job is kept.")

			if len(state.stored) != tc.wantStores {
				t.Errorf("state stored %d times, want %d", len(state.stored), tc.wantStores)
			}
			for i, s := range state.stored {
				if s.ID.ValueString() != tc.job.ID || s.Status.ValueString() != tc.job.Status {
					t.Errorf("store %d holds job %s (%s), want %s (%s)", i+1, s.ID, s.Status, tc.job.ID, tc.job.Status)
				}
			}
			var summaries []string
			for _, d := range diags.Errors() {
				summaries = append(summaries, d.Summary())
			}
			if got := strings.Join(summaries, "; "); got != tc.wantError {
				t.Errorf("errors %q, want %q", got, tc.wantError)
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
