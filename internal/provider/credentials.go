// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// Environment variables of the service account and of an access token
// obtained elsewhere; the first two are the names MongoDB's tools read.
var (
	envClientID     = []string{"MONGODB_ATLAS_CLIENT_ID"}
	envClientSecret = []string{"MONGODB_ATLAS_CLIENT_SECRET"}
	envAccessToken  = []string{"MONGODB_ATLAS_ACCESS_TOKEN"}
)

// authMethod is one way to authenticate and the arguments that make it.
type authMethod struct {
	name  string // as a sentence names it
	attrs []credAttr
}

type credAttr struct {
	name string // the provider argument
	env  []string
}

var (
	methodAPIKey = authMethod{"an API key", []credAttr{
		{"public_key", envPublicKey}, {"private_key", envPrivateKey}}}
	methodServiceAccount = authMethod{"a service account", []credAttr{
		{"client_id", envClientID}, {"client_secret", envClientSecret}}}
	methodAccessToken = authMethod{"an access token", []credAttr{
		{"access_token", envAccessToken}}}
	authMethods = []authMethod{methodAPIKey, methodServiceAccount, methodAccessToken}
)

// bothWays is the sentence every credentials diagnostic ends with.
const bothWays = "Give exactly one way to authenticate: an API key (public_key and private_key, or " +
	"MONGODB_ATLAS_PUBLIC_KEY and MONGODB_ATLAS_PRIVATE_KEY), or a service account (client_id and client_secret, " +
	"or MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET), or an access token obtained elsewhere " +
	"(access_token or MONGODB_ATLAS_ACCESS_TOKEN). Arguments in the provider block take precedence over the " +
	"environment: when the block gives any argument of one way, the environment variables of the other ways " +
	"are not read."

// credentials are the resolved values by argument name, and where each
// came from ("config" or the environment variable's name).
type credentials struct {
	method authMethod
	value  map[string]string
	from   map[string]string
}

func (c credentials) get(attr string) string { return c.value[attr] }

// credential is the provider block's value of a credentials argument.
func (m providerModel) credential(attr string) types.String {
	switch attr {
	case "public_key":
		return m.PublicKey
	case "private_key":
		return m.PrivateKey
	case "client_id":
		return m.ClientID
	case "client_secret":
		return m.ClientSecret
	case "access_token":
		return m.AccessToken
	}
	panic("unknown credentials argument " + attr)
}

// resolveCredentials picks the one way to authenticate, or says why it
// cannot. The rule: per argument, the provider block over the environment
// (as for keys before service accounts existed); across ways, the ways the
// block uses over the environment's, and exactly one of them.
func resolveCredentials(cfg providerModel) (credentials, diag.Diagnostic) {
	var inBlock, inEnv []authMethod
	var blockArgs, envVars []string
	for _, m := range authMethods {
		block, env := false, false
		for _, a := range m.attrs {
			if v := cfg.credential(a.name); !v.IsNull() {
				block = true
				blockArgs = append(blockArgs, a.name)
			}
			if _, from := resolve(types.StringNull(), a.env); from != "" {
				env = true
				envVars = append(envVars, from)
			}
		}
		if block {
			inBlock = append(inBlock, m)
		}
		if env {
			inEnv = append(inEnv, m)
		}
	}
	var chosen authMethod
	switch {
	case len(inBlock) > 1:
		return credentials{}, conflict(inBlock, "the provider block sets "+strings.Join(blockArgs, ", "))
	case len(inBlock) == 1:
		chosen = inBlock[0]
	case len(inEnv) > 1:
		return credentials{}, conflict(inEnv, "the environment sets "+strings.Join(envVars, ", "))
	case len(inEnv) == 1:
		chosen = inEnv[0]
	default:
		chosen = methodAPIKey // nothing given: say so as before service accounts
	}
	c := credentials{method: chosen, value: map[string]string{}, from: map[string]string{}}
	var missing []string
	for _, a := range chosen.attrs {
		c.value[a.name], c.from[a.name] = resolve(cfg.credential(a.name), a.env)
		if c.value[a.name] == "" {
			missing = append(missing, a.name)
		}
	}
	if len(missing) == 0 {
		return c, nil
	}
	switch chosen.name {
	case methodAPIKey.name:
		pub, priv := c.get("public_key"), c.get("private_key")
		return c, diag.NewErrorDiagnostic("Missing Atlas API Key",
			fmt.Sprintf("The provider needs an Atlas programmatic API key to call Atlas, and the %s missing. "+
				"Give it either in the provider block (public_key and private_key) or in the environment "+
				"(MONGODB_ATLAS_PUBLIC_KEY and MONGODB_ATLAS_PRIVATE_KEY; MONGODB_ATLAS_PUBLIC_API_KEY and "+
				"MONGODB_ATLAS_PRIVATE_API_KEY are read too). Or authenticate with a service account instead: "+
				"client_id and client_secret (MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET), or an "+
				"access_token (MONGODB_ATLAS_ACCESS_TOKEN).", missingKeys(pub, priv)))
	case methodServiceAccount.name:
		half, other := "client_secret (MONGODB_ATLAS_CLIENT_SECRET)", "client_id"
		if c.get("client_id") == "" {
			half, other = "client_id (MONGODB_ATLAS_CLIENT_ID)", "client_secret"
		}
		return c, diag.NewErrorDiagnostic("Incomplete Atlas Service Account",
			fmt.Sprintf("The provider was given a service account's %s (from %s) but not its %s. A service "+
				"account needs both its client ID and its secret. %s", other, sourceName(c.from[other]), half, bothWays))
	}
	return c, diag.NewErrorDiagnostic("Missing Atlas Access Token", "The access token is empty. "+bothWays)
}

func conflict(ways []authMethod, where string) diag.Diagnostic {
	names := make([]string, len(ways))
	for i, m := range ways {
		names[i] = m.name
	}
	return diag.NewErrorDiagnostic("Conflicting Atlas Credentials",
		fmt.Sprintf("The provider was given more than one way to authenticate (%s): %s. %s",
			strings.Join(names, " and "), where, bothWays))
}

func sourceName(from string) string {
	if from == "config" {
		return "the provider block"
	}
	return from
}

// addCredentialError explains the failures that are about the service
// account or the access token rather than the call, and reports whether
// err was one.
func addCredentialError(diags *diag.Diagnostics, op string, err error) bool {
	var te *atlas.TokenError
	var ref *atlas.AuthRefusal
	switch {
	case errors.As(err, &te):
		what := sentence(fmt.Sprintf("Could not %s: the provider could not get an access token for the service "+
			"account from Atlas's token endpoint (%s): %s", op, atlas.TokenPath, tokenFailure(te)))
		switch {
		case te.Permanent != nil:
			diags.AddAttributeError(path.Root("base_url"), "Cannot Reach Atlas", what+" Trying again would not "+
				"help, so the provider did not retry. Check the provider's base_url (or MONGODB_ATLAS_BASE_URL).")
		case te.Kind == atlas.TokenUnreachable:
			diags.AddError("Cannot Reach Atlas", what+" The provider retried with backoff. Check the network, any "+
				"proxy (HTTPS_PROXY, NO_PROXY), and the provider's base_url.")
		case te.StatusCode == http.StatusBadRequest || te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
			diags.AddError("Atlas Rejected the Service Account", what+" Check client_id and client_secret (or "+
				"MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET): the secret may be mistyped, expired or "+
				"deleted in Atlas, and the service account must belong to the organization of the project.")
		case te.StatusCode == http.StatusTooManyRequests:
			diags.AddError("Atlas Rate Limit Reached", what+" Atlas limits how often tokens may be requested; the "+
				"provider retried with backoff and reuses each token until shortly before it expires. Try again later.")
		case te.StatusCode >= 500:
			diags.AddError("Atlas Server Error", what+" The provider retried. Try again later.")
		default:
			diags.AddError("Cannot Get an Atlas Access Token", what+" Check that base_url points at Atlas.")
		}
		return true
	case errors.As(err, &ref):
		what := describe(op, ref.Err)
		if ref.Static {
			diags.AddError("Atlas Rejected the Access Token", what+" The access token given in access_token (or "+
				"MONGODB_ATLAS_ACCESS_TOKEN) has expired, has been revoked, or is not a token of this Atlas. Atlas's "+
				"tokens last an hour and the provider cannot renew one it was given: get a new one, or give the "+
				"service account's client_id and client_secret instead so that the provider renews tokens itself.")
			return true
		}
		diags.AddError("Atlas Rejected the Service Account", what+" The provider renewed the service account's "+
			"token and Atlas refused the new one too. Check that the service account has a role on the project "+
			"(Project Read Only to read; Project Owner, or Project Backup Export Operator for Flex, to request "+
			"downloads) and that its IP access list admits this machine.")
		return true
	}
	return false
}

// tokenFailure says in a phrase what the token endpoint did.
func tokenFailure(te *atlas.TokenError) string {
	switch te.Kind {
	case atlas.TokenNotBearer:
		return "it answered with a token of a type other than Bearer"
	case atlas.TokenMalformed:
		return "its answer is not an access token"
	case atlas.TokenUnreachable:
		if te.Permanent != nil {
			return permanentPhrase(te.Permanent)
		}
		return "no answer came: " + te.Detail
	}
	msg := fmt.Sprintf("HTTP %d", te.StatusCode)
	if te.ErrorCode != "" {
		msg += " " + te.ErrorCode
	}
	if te.Detail != "" {
		msg += ": " + te.Detail
	}
	return msg
}

// missingKeys names what is missing of an API key, as "the %s missing"
// needs it.
func missingKeys(pub, priv string) string {
	switch {
	case pub == "" && priv == "":
		return "public key and the private key are"
	case pub == "":
		return "public key is"
	default:
		return "private key is"
	}
}
