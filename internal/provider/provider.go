// SPDX-License-Identifier: MPL-2.0

// Package provider is the Terraform side of the atlas provider: schemas,
// plan behaviour and the create, read, update and delete of each resource.
// It speaks to Atlas only through internal/atlas.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// Environment variables read when the provider block leaves an argument
// out. The first of each list that is set wins; they are the names
// MongoDB's own tools read.
var (
	envPublicKey  = []string{"MONGODB_ATLAS_PUBLIC_KEY", "MONGODB_ATLAS_PUBLIC_API_KEY"}
	envPrivateKey = []string{"MONGODB_ATLAS_PRIVATE_KEY", "MONGODB_ATLAS_PRIVATE_API_KEY"}
	envBaseURL    = []string{"MONGODB_ATLAS_BASE_URL"}
	envLockDir    = []string{"MONGODB_ATLAS_LOCK_DIR"}
)

var (
	_ provider.Provider                       = (*atlasProvider)(nil)
	_ provider.ProviderWithValidateConfig     = (*atlasProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*atlasProvider)(nil)
	_ provider.ProviderWithActions            = (*atlasProvider)(nil)
	_ provider.ProviderWithListResources      = (*atlasProvider)(nil)
)

// Option adjusts the provider for tests: a clock, or client settings.
type Option func(*atlasProvider)

// WithClock makes the provider read time from now: expiry decisions, the
// client's clock and its waits (sleep) all go through it.
func WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(p *atlasProvider) {
		p.now = now
		p.sleep = sleep
	}
}

// WithClientConfig lets a test change the Atlas client's configuration just
// before the client is built.
func WithClientConfig(f func(*atlas.Config)) Option {
	return func(p *atlasProvider) { p.tweakClient = f }
}

// New returns a constructor of the provider at the given version.
func New(version string, opts ...Option) func() provider.Provider {
	return func() provider.Provider {
		p := &atlasProvider{version: version, now: time.Now}
		for _, o := range opts {
			o(p)
		}
		return p
	}
}

type atlasProvider struct {
	version     string
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	tweakClient func(*atlas.Config)
}

type providerModel struct {
	PublicKey    types.String `tfsdk:"public_key"`
	PrivateKey   types.String `tfsdk:"private_key"`
	ClientID     types.String `tfsdk:"client_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
	AccessToken  types.String `tfsdk:"access_token"`
	BaseURL      types.String `tfsdk:"base_url"`
	LockDir      types.String `tfsdk:"lock_dir"`

	TokenCacheDir types.String `tfsdk:"token_cache_dir"` // see token_cache.go
}

func (p *atlasProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "atlas"
	resp.Version = p.version
}

func (p *atlasProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Requests download links for MongoDB Atlas backup snapshots and hands them to " +
			"the rest of a configuration. Authenticates with an Atlas service account (OAuth 2.0 client " +
			"credentials), an access token obtained elsewhere, or a programmatic API key (HTTP Digest): exactly one.",
		Attributes: map[string]schema.Attribute{
			"public_key": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Public part of the Atlas programmatic API key. Defaults to the environment " +
					"variable `MONGODB_ATLAS_PUBLIC_KEY`, then `MONGODB_ATLAS_PUBLIC_API_KEY`.",
			},
			"private_key": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "Private part of the Atlas programmatic API key. Defaults to the environment " +
					"variable `MONGODB_ATLAS_PRIVATE_KEY`, then `MONGODB_ATLAS_PRIVATE_API_KEY`. Prefer the environment " +
					"variable, so the key stays out of configuration files.",
			},
			"client_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Client ID of an Atlas service account (OAuth 2.0 client credentials), used " +
					"instead of an API key. Defaults to the environment variable `MONGODB_ATLAS_CLIENT_ID`. The " +
					"provider requests access tokens with it and `client_secret`, and renews them before they expire.",
			},
			"client_secret": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "Secret of the Atlas service account named by `client_id`. Defaults to the " +
					"environment variable `MONGODB_ATLAS_CLIENT_SECRET`. Prefer the environment variable, so the " +
					"secret stays out of configuration files.",
			},
			"access_token": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "An Atlas access token obtained elsewhere (for example by a pipeline from a " +
					"service account), sent as it is. Defaults to the environment variable " +
					"`MONGODB_ATLAS_ACCESS_TOKEN`. The provider cannot renew it: Atlas's tokens last an hour, so a " +
					"run that may outlast the token should give `client_id` and `client_secret` instead.",
			},
			"base_url": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Address of the Atlas Administration API, without a path. Defaults to the " +
					"environment variable `MONGODB_ATLAS_BASE_URL`, then `" + atlas.DefaultBaseURL + "`. Use " +
					"`https://cloud.mongodbgov.com` for Atlas for Government. Must be `https`, except for a " +
					"loopback address such as a local Atlas simulator.",
			},
			"lock_dir": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Directory in which the provider processes of this user on this machine " +
					"coordinate download requests, so that parallel applies, aliases and modules never take one " +
					"download job twice after a lost answer. It holds lock files and a record of job ids, snapshot " +
					"ids and times, never a secret. Defaults to the environment variable `MONGODB_ATLAS_LOCK_DIR`, " +
					"then to `terraform-provider-atlas-<uid>` in the system's temporary directory. Created with mode " +
					"0700; a directory that other users can write, that belongs to another user, or a symbolic link " +
					"is refused. Point runs that must coordinate at the same directory.",
			},
			"token_cache_dir": tokenCacheDirAttribute(),
		},
	}
}

// ValidateConfig checks what can be checked before any call: the base URL,
// and credentials arguments that cannot work (empty, padded, or holding a
// control character). Missing credentials are not an error here: they are
// when something needs Atlas, and the environment may still give them.
func (p *atlasProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	validateKeyArguments(cfg, &resp.Diagnostics)
	if cfg.BaseURL.IsNull() || cfg.BaseURL.IsUnknown() {
		return
	}
	if _, err := atlas.ParseBaseURL(cfg.BaseURL.ValueString()); err != nil {
		addBaseURLError(&resp.Diagnostics, "config", err)
	}
}

func (p *atlasProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &providerData{}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.EphemeralResourceData = data
	resp.ActionData = data
	resp.ListResourceData = data

	baseURL, baseFrom := resolve(cfg.BaseURL, envBaseURL)
	if baseFrom == "" {
		baseURL, baseFrom = atlas.DefaultBaseURL, "the default"
	}
	for _, v := range []types.String{cfg.PublicKey, cfg.PrivateKey, cfg.ClientID, cfg.ClientSecret, cfg.AccessToken, cfg.BaseURL} {
		if v.IsUnknown() {
			data.missing = diag.NewErrorDiagnostic("Atlas Provider Configuration Not Known Yet",
				"The provider's credentials (public_key, private_key, client_id, client_secret, access_token) or "+
					"base_url depend on a value that is known only after apply, so the provider cannot call Atlas "+
					"during this plan. Apply the resources it depends on first (for example with -target), then "+
					"plan again.")
			return
		}
	}
	creds, problem := resolveCredentials(cfg)
	data.secrets = []string{creds.get("private_key"), creds.get("client_secret"), creds.get("access_token")}
	ctx = data.logContext(ctx)
	if problem != nil {
		data.missing = problem
		return
	}
	lockDir, lockFrom := resolve(cfg.LockDir, envLockDir)
	if lockFrom == "" {
		lockDir = atlas.DefaultLockDir()
	}
	if _, err := atlas.ParseBaseURL(baseURL); err != nil {
		addBaseURLError(&resp.Diagnostics, baseFrom, err)
		return
	}
	ccfg := atlas.Config{
		BaseURL:      baseURL,
		PublicKey:    creds.get("public_key"),
		PrivateKey:   creds.get("private_key"),
		ClientID:     creds.get("client_id"),
		ClientSecret: creds.get("client_secret"),
		AccessToken:  creds.get("access_token"),
		LockDir:      lockDir,
		UserAgent:    fmt.Sprintf("terraform-provider-atlas/%s (terraform %s)", p.version, req.TerraformVersion),
		Now:          p.now,
		Sleep:        p.sleep,
		Log: func(ctx context.Context, msg string, fields map[string]any) {
			tflog.Debug(ctx, msg, fields)
		},
		LogHTTP: wireLog(data.secrets...),
	}
	cacheDir, cacheFrom := resolve(cfg.TokenCacheDir, envTokenCacheDir)
	ccfg.TokenCacheDir = cacheDir
	if p.tweakClient != nil {
		p.tweakClient(&ccfg)
	}
	client, err := atlas.New(ccfg)
	if addTokenCacheDirError(&resp.Diagnostics, err, cacheFrom) {
		return
	}
	var le *atlas.LockDirError
	if errors.As(err, &le) {
		detail := fmt.Sprintf("The lock directory %s (from %s) %s. The provider coordinates download requests "+
			"of every process on this machine there, so it must be a private directory of this user. Set lock_dir "+
			"(or MONGODB_ATLAS_LOCK_DIR) to another directory.", le.Path, lockSource(lockFrom), lockDirProblems[le.Problem])
		if le.Err != nil {
			detail += " The system said: " + le.Err.Error() + "."
		}
		if lockFrom == "config" {
			resp.Diagnostics.AddAttributeError(path.Root("lock_dir"), "Unusable Lock Directory", detail)
		} else {
			resp.Diagnostics.AddError("Unusable Lock Directory", detail)
		}
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot Configure the Atlas Client", err.Error())
		return
	}
	fields := map[string]any{"base_url": atlas.RedactUserinfo(client.BaseURL()), "auth_method": client.AuthMethod()}
	for attr, from := range creds.from {
		fields[attr+"_from"] = from // where each came from, never the value
	}
	tflog.Debug(ctx, "atlas client configured", fields)
	data.client = client
}

// lockDirProblems complete "the lock directory PATH (from ...) ...".
var lockDirProblems = map[atlas.LockDirProblem]string{
	atlas.LockDirUnresolvable:  "cannot be resolved to an absolute path",
	atlas.LockDirUncreatable:   "cannot be created",
	atlas.LockDirUnreadable:    "cannot be read",
	atlas.LockDirSymlink:       "is a symbolic link; give a real directory",
	atlas.LockDirNotADirectory: "is not a directory",
	atlas.LockDirSharedWrite:   "can be written by other users; make it private (chmod 700) or choose another",
	atlas.LockDirOtherOwner:    "belongs to another user; choose a directory of your own",
	atlas.LockFileUnopenable:   "has a lock file that cannot be opened",
}

func lockSource(from string) string {
	switch from {
	case "":
		return "the default"
	case "config":
		return "lock_dir"
	}
	return from
}

// resolve takes a configured value, else the first set environment
// variable, and says where it came from.
func resolve(v types.String, env []string) (string, string) {
	if !v.IsNull() && !v.IsUnknown() {
		return v.ValueString(), "config"
	}
	for _, name := range env {
		if s := os.Getenv(name); s != "" {
			return s, name
		}
	}
	return "", ""
}

func (p *atlasProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newTenantSnapshotDownloadResource,
		newFlexSnapshotDownloadResource,
		newFlexSnapshotRestoreResource,
	}
}

func (p *atlasProvider) DataSources(context.Context) []func() datasource.DataSource {
	return append(dataSourcesFor(tenantDownload), dataSourcesFor(flexDownload)...)
}

func (p *atlasProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		newTenantSnapshotDownloadEphemeral,
		newFlexSnapshotDownloadEphemeral,
	}
}

// ListResources are the provider's list resources, for terraform query
// (Terraform 1.14 and later).
func (p *atlasProvider) ListResources(context.Context) []func() list.ListResource {
	return []func() list.ListResource{
		func() list.ListResource {
			return &downloadList[tenantDownloadModel, *tenantDownloadModel]{kind: tenantDownload}
		},
		func() list.ListResource {
			return &downloadList[flexDownloadModel, *flexDownloadModel]{kind: flexDownload}
		},
	}
}

// Actions are the provider's actions (Terraform 1.14 and later).
func (p *atlasProvider) Actions(context.Context) []func() action.Action {
	return []func() action.Action{
		newTenantSnapshotArchiveAction,
		newFlexSnapshotArchiveAction,
		newFlexSnapshotRestoreAction,
	}
}

// dataSourcesFor returns the four data sources of a family.
func dataSourcesFor(k downloadKind) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		func() datasource.DataSource {
			return &snapshotsDataSource{clusterDataSource{kind: k.as("snapshots"), suffix: "snapshots"}}
		},
		func() datasource.DataSource {
			return &snapshotDataSource{clusterDataSource{kind: k.as("snapshot"), suffix: "snapshot"}}
		},
		func() datasource.DataSource {
			return &restoreJobsDataSource{clusterDataSource{kind: k.as("restore_jobs"), suffix: "restore_jobs"}}
		},
		func() datasource.DataSource {
			return &restoreJobDataSource{clusterDataSource{kind: k.as("restore_job"), suffix: "restore_job"}}
		},
	}
}

// providerData is what Configure hands to every resource: the client, or
// the reason there is none.
type providerData struct {
	client  *atlas.Client
	missing diag.Diagnostic
	// secrets are masked in every log line of the operations that use it.
	secrets []string
}

// Client returns the Atlas client, or the diagnostic saying why the
// provider could not build one.
func (d *providerData) Client() (*atlas.Client, diag.Diagnostics) {
	if d.client != nil {
		return d.client, nil
	}
	if d.missing != nil {
		return nil, diag.Diagnostics{d.missing}
	}
	return nil, diag.Diagnostics{diag.NewErrorDiagnostic("Atlas Provider Not Configured",
		"The provider was not configured before the resource needed it. This is a bug in the provider; please report it.")}
}

// configureData takes the provider's data in a resource's Configure.
func configureData(raw any, diags *diag.Diagnostics) *providerData {
	if raw == nil {
		return nil // the provider is not configured yet (validation)
	}
	d, ok := raw.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", raw))
		return nil
	}
	return d
}
