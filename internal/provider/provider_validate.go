package provider

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// validateKeyArguments catches API key arguments that cannot work, at plan
// time. The messages describe the value and never repeat it: one of them
// is the private key.
func validateKeyArguments(cfg providerModel, diags *diag.Diagnostics) {
	for _, a := range []struct {
		name string
		v    types.String
	}{{"public_key", cfg.PublicKey}, {"private_key", cfg.PrivateKey}} {
		if a.v.IsNull() || a.v.IsUnknown() {
			continue
		}
		if msg := checkKey(a.v.ValueString()); msg != "" {
			diags.AddAttributeError(path.Root(a.name), "Invalid Atlas API Key",
				fmt.Sprintf("The value of %s %s. Copy the key again from the Atlas UI, or leave the argument out "+
					"and set it in the environment (MONGODB_ATLAS_PUBLIC_KEY, MONGODB_ATLAS_PRIVATE_KEY).", a.name, msg))
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
