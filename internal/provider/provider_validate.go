// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
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

// baseURLProblems complete "the value of base_url (URL) ..." for each
// problem ParseBaseURL finds.
var baseURLProblems = map[atlas.BaseURLProblem]string{
	atlas.BaseURLEmpty:      "is empty; it must be a URL such as " + atlas.DefaultBaseURL,
	atlas.BaseURLSpaces:     "must be a URL such as " + atlas.DefaultBaseURL + ", without spaces",
	atlas.BaseURLUnparsable: "cannot be parsed as a URL",
	atlas.BaseURLScheme:     "must start with https://",
	atlas.BaseURLNoHost:     "has no host",
	atlas.BaseURLUserinfo: "must not carry credentials (user:password@); give them as public_key and private_key, " +
		"or as client_id and client_secret",
	atlas.BaseURLPort:  "has a port outside 1 to 65535",
	atlas.BaseURLQuery: "must not have a query or fragment",
	atlas.BaseURLPath:  "must be the host only (the API paths are added by the provider)",
	atlas.BaseURLPlainHTTP: "uses plain http, which would send the API keys' digest and the download links unencrypted; " +
		"use https (plain http is allowed only for a loopback address such as a local simulator)",
}

// addBaseURLError words a base URL that ParseBaseURL refused; from is
// "config" or the environment variable the URL came from. The URL is
// quoted only as the error gives it, without its user information.
func addBaseURLError(diags *diag.Diagnostics, from string, err error) {
	quoted, problem := "", "is invalid"
	var be *atlas.BaseURLError
	if errors.As(err, &be) {
		quoted, problem = fmt.Sprintf(" (%q)", be.URL), baseURLProblems[be.Problem]
		if be.Detail != "" {
			problem += ": " + be.Detail
		}
	}
	if from == "config" {
		diags.AddAttributeError(path.Root("base_url"), "Invalid Atlas Base URL",
			fmt.Sprintf("The value of base_url%s %s.", quoted, problem))
		return
	}
	diags.AddError("Invalid Atlas Base URL", fmt.Sprintf("The provider block sets no base_url, so the provider "+
		"read %s, and its value%s %s. Correct or unset %s, or set base_url in the provider block.",
		from, quoted, problem, from))
}
