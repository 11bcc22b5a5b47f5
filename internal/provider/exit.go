// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tfsdklog"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// revokeBudget is how long the process spends revoking its tokens as it
// ends: go-plugin waits two seconds for a plugin to exit after asking it
// to, then kills it.
const revokeBudget = 1500 * time.Millisecond

// AtExit revokes the access tokens this process took from a service
// account, so that a run of many commands does not pile up live tokens
// (Atlas allows a service account 100). Call it after the plugin server
// returns. Failures are logged at DEBUG and otherwise ignored.
func AtExit() {
	// The server's loggers are gone with it; this one writes to the same
	// stderr, which Terraform reads until the process exits.
	ctx := tfsdklog.NewRootProviderLogger(context.Background(),
		tfsdklog.WithStderrFromInit(), tfsdklog.WithLogName("atlas"), tflog.WithLevelFromEnv("TF_LOG_PROVIDER", "ATLAS"))
	ctx, cancel := context.WithTimeout(ctx, revokeBudget)
	defer cancel()
	if n := atlas.RevokeTokens(ctx); n > 0 {
		tflog.Debug(ctx, "revoked the atlas access tokens this process took", map[string]any{"revoked": n})
	}
}
