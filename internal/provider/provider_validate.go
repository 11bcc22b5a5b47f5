// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// validateKeyArguments catches credentials arguments that cannot work, at
// plan time. The messages describe the value and never repeat it: most of
// them are secrets.
func validateKeyArguments(cfg providerModel, diags *diag.Diagnostics) {
	for _, a := range []struct {
		name, summary, env, what string
		v                        types.String
	}{
		{"public_key", "Invalid Atlas API Key", "MONGODB_ATLAS_PUBLIC_KEY, MONGODB_ATLAS_PRIVATE_KEY", "key", cfg.PublicKey},
		{"private_key", "Invalid Atlas API Key", "MONGODB_ATLAS_PUBLIC_KEY, MONGODB_ATLAS_PRIVATE_KEY", "key", cfg.PrivateKey},
		{"client_id", "Invalid Atlas Service Account", "MONGODB_ATLAS_CLIENT_ID, MONGODB_ATLAS_CLIENT_SECRET", "client ID", cfg.ClientID},
		{"client_secret", "Invalid Atlas Service Account", "MONGODB_ATLAS_CLIENT_ID, MONGODB_ATLAS_CLIENT_SECRET", "secret", cfg.ClientSecret},
		{"access_token", "Invalid Atlas Access Token", "MONGODB_ATLAS_ACCESS_TOKEN", "token", cfg.AccessToken},
	} {
		if a.v.IsNull() || a.v.IsUnknown() {
			continue
		}
		if msg := checkKey(a.v.ValueString()); msg != "" {
			diags.AddAttributeError(path.Root(a.name), a.summary,
				fmt.Sprintf("The value of %s %s. Copy the %s again from the Atlas UI, or leave the argument out "+
					"and set it in the environment (%s).", a.name, msg, a.what, a.env))
		}
	}
}

// checkKey says what is wrong with an API key without quoting it.
func checkKey(s string) string {
	switch {
	case s == "":
		return "is empty"
	case strings.TrimSpace(s) != s:
		return "has leading or trailing white space"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Sprintf("holds a control character (at position %d)", strings.IndexFunc(s, unicode.IsControl)+1)
	}
	return ""
}
