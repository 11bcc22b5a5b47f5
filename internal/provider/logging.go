// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"os"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// httpSubsystem is the tflog subsystem of the client's wire log. Its level
// follows TF_LOG_PROVIDER_ATLAS_HTTP, else the provider's level.
//
// Terraform passes a provider's log lines on only at or above
// TF_LOG_PROVIDER, else TF_LOG, whatever the provider's own variables say,
// so the wire log is written at DEBUG: TF_LOG=DEBUG is enough to see it,
// and TF_LOG_PROVIDER_ATLAS_HTTP can only leave it out (OFF, INFO).
const httpSubsystem = "atlas_http"

// Environment variable naming the HTTP subsystem's level: tflog joins the
// parts as TF_LOG_PROVIDER_ATLAS_HTTP.
const (
	envLogProviderAtlas = "TF_LOG_PROVIDER_ATLAS"
	envLogHTTPSuffix    = "HTTP"
)

// secretFieldKeys are log field names whose values are masked whatever they
// hold: a second line of defence should a secret ever be logged by name.
var secretFieldKeys = []string{
	"private_key", "snapshot_url", "token", "authorization", "password",
}

// secretPatterns mask what a presigned link's query or a digest answer
// look like, wherever they would appear in a message or a field.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(token|signature|x-amz-[a-z-]+|sig)=[^&\s"'<>]+`),
	regexp.MustCompile(`(?i)\bresponse="?[0-9a-f]{32,128}`),
}

// urlWithQuery masks the query of any URL in the provider's own lines; the
// wire log keeps its paging parameters, having redacted the rest itself.
var urlWithQuery = regexp.MustCompile(`(?i)(https?://[^\s"'<>?]*)\?[^\s"'<>]+`)

// maskSecrets returns ctx with the provider logger masking the private key
// and anything shaped like a link token or a digest answer. Every operation
// that may log calls it on its own context (tflog masks live in contexts).
func maskSecrets(ctx context.Context, secrets ...string) context.Context {
	var known []string
	for _, s := range secrets {
		if s != "" {
			known = append(known, s)
		}
	}
	patterns := append([]*regexp.Regexp{urlWithQuery}, secretPatterns...)
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, secretFieldKeys...)
	ctx = tflog.MaskAllFieldValuesRegexes(ctx, patterns...)
	ctx = tflog.MaskMessageRegexes(ctx, patterns...)
	if len(known) > 0 {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, known...)
		ctx = tflog.MaskMessageStrings(ctx, known...)
	}
	return ctx
}

// maskSubsystem is maskSecrets for the HTTP subsystem's logger.
func maskSubsystem(ctx context.Context, subsystem string, secrets ...string) context.Context {
	var known []string
	for _, s := range secrets {
		if s != "" {
			known = append(known, s)
		}
	}
	ctx = tflog.SubsystemMaskFieldValuesWithFieldKeys(ctx, subsystem, secretFieldKeys...)
	ctx = tflog.SubsystemMaskAllFieldValuesRegexes(ctx, subsystem, secretPatterns...)
	ctx = tflog.SubsystemMaskMessageRegexes(ctx, subsystem, secretPatterns...)
	if len(known) > 0 {
		ctx = tflog.SubsystemMaskAllFieldValuesStrings(ctx, subsystem, known...)
		ctx = tflog.SubsystemMaskMessageStrings(ctx, subsystem, known...)
	}
	return ctx
}

// httpLogger sends the client's wire log to the atlas_http subsystem, at
// DEBUG, on the context of the operation that made the call. A subsystem
// takes the root logger's fields (tf_req_id, tf_rpc, the resource or data
// source type) only when it is made, and they are the request's, so it is
// made for each line on that request's context.
func httpLogger(secrets ...string) atlas.LogFunc {
	return func(ctx context.Context, msg string, fields map[string]any) {
		ctx = tflog.NewSubsystem(ctx, httpSubsystem,
			tflog.WithLevelFromEnv(envLogProviderAtlas, envLogHTTPSuffix), tflog.WithRootFields())
		ctx = maskSubsystem(ctx, httpSubsystem, secrets...)
		tflog.SubsystemDebug(ctx, httpSubsystem, msg, fields)
	}
}

// logsOff is set by SilenceLogsUnlessAsked when nothing asked for logs, so
// that every provider log line would be dropped. The masks and the wire log
// are then not built at all.
var logsOff bool

// SilenceLogsUnlessAsked turns the provider's logs, and the plugin SDK's,
// off when no TF_LOG* variable in the environment asks for logs. The SDK
// otherwise formats every trace line as JSON for Terraform to throw away,
// which was over a third of the provider's CPU time in a 100-resource plan.
// main calls it before serving; tests, which run the provider in-process,
// do not, and keep every log line.
func SilenceLogsUnlessAsked() {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_LOG") || strings.HasPrefix(kv, "TF_ACC_LOG") {
			return
		}
	}
	_ = os.Setenv("TF_LOG_SDK", "OFF")
	_ = os.Setenv("TF_LOG_PROVIDER", "OFF")
	logsOff = true
}

// wireLog is the client's wire log, masking every secret of the
// configuration (private key, client secret, access token), or nil when
// logs are off.
func wireLog(secrets ...string) atlas.LogFunc {
	if logsOff {
		return nil
	}
	return httpLogger(secrets...)
}

// logContext masks secrets in an operation's context; d may be nil (a
// provider not configured yet).
func (d *providerData) logContext(ctx context.Context) context.Context {
	switch {
	case logsOff:
		return ctx
	case d == nil:
		return maskSecrets(ctx)
	default:
		return maskSecrets(ctx, d.secrets...)
	}
}
