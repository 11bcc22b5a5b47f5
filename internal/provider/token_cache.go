// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

var envTokenCacheDir = []string{"MONGODB_ATLAS_TOKEN_CACHE_DIR"}

func tokenCacheDirAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		MarkdownDescription: "Directory in which the provider processes of this user on this machine share a " +
			"service account's access token, so that the several processes of each command, and the commands " +
			"of an hour, take one token between them instead of one each (Atlas allows a service account 10 " +
			"token requests a minute and 100 live tokens). Off unless set; defaults to the environment variable " +
			"`MONGODB_ATLAS_TOKEN_CACHE_DIR`. The directory holds one file per base URL, client ID and secret " +
			"(a changed secret takes a token of its own) with the token and its expiry, never the client " +
			"secret, mode 0600; it is created with mode 0700, and a " +
			"directory that other users can write, that belongs to another user, or a symbolic link is refused. " +
			"The trade-off: a bearer token usable by anyone who can read the file stays on disk for up to an " +
			"hour, and cached tokens are not revoked when a process ends. Where a CI fleet runs many commands, " +
			"handing each job an `access_token` taken once by the pipeline is the alternative that keeps no " +
			"token on the runners' disks. Used only with `client_id` and `client_secret`.",
	}
}

// addTokenCacheDirError words an unusable token cache directory, on the
// attribute when it came from the configuration; it reports whether err
// was one.
func addTokenCacheDirError(diags *diag.Diagnostics, err error, from string) bool {
	var ce *atlas.TokenCacheDirError
	if !errors.As(err, &ce) {
		return false
	}
	source := from
	if from == "config" {
		source = "token_cache_dir"
	}
	detail := fmt.Sprintf("The token cache directory %s (from %s) %s. The provider keeps a service account's "+
		"access token there for the other provider processes of this user, so it must be a private directory of "+
		"this user. Set token_cache_dir (or MONGODB_ATLAS_TOKEN_CACHE_DIR) to another directory, or leave both "+
		"unset to take tokens without a cache.", ce.Path, source, lockDirProblems[ce.Problem])
	if ce.Err != nil {
		detail += " The system said: " + ce.Err.Error() + "."
	}
	if from == "config" {
		diags.AddAttributeError(path.Root("token_cache_dir"), "Unusable Token Cache Directory", detail)
	} else {
		diags.AddError("Unusable Token Cache Directory", detail)
	}
	return true
}
