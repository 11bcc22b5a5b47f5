// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	idPattern      = regexp.MustCompile(`^[a-f0-9]{24}$`)
	clusterPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
)

// maxClusterName is Atlas's limit on cluster names.
const maxClusterName = 64

// checkID says what is wrong with an Atlas id, or "" when it is fine.
func checkID(s string) string {
	switch {
	case s == "":
		return "is empty"
	case idPattern.MatchString(s):
		return ""
	case len(s) == 24 && idPattern.MatchString(strings.ToLower(s)):
		return fmt.Sprintf("(%q) has upper-case letters; Atlas ids are 24 lowercase hexadecimal digits", s)
	case strings.TrimSpace(s) != s:
		return fmt.Sprintf("(%+q) has leading or trailing white space", s)
	case utf8.RuneCountInString(s) != 24:
		return fmt.Sprintf("(%+q) is not 24 lowercase hexadecimal digits: it is %d characters long", s, utf8.RuneCountInString(s))
	default:
		return fmt.Sprintf("(%+q) is not 24 lowercase hexadecimal digits: %s", s, firstOutside(s, "0123456789abcdef"))
	}
}

// firstOutside names the first character of s not in allowed, so that a
// look-alike (a Cyrillic а, a fullwidth digit, a null byte) is pointed at
// rather than left for the reader to spot.
func firstOutside(s, allowed string) string {
	for i, r := range []rune(s) {
		if !strings.ContainsRune(allowed, r) {
			return fmt.Sprintf("character %d is %U %+q", i+1, r, r)
		}
	}
	return "no character is out of place"
}

const clusterNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"

// checkClusterName says what is wrong with a cluster name, or "".
func checkClusterName(s string) string {
	switch {
	case s == "":
		return "is empty"
	case utf8.RuneCountInString(s) > maxClusterName:
		return fmt.Sprintf("is %d characters long; Atlas allows at most %d", utf8.RuneCountInString(s), maxClusterName)
	case clusterPattern.MatchString(s):
		return ""
	case s[0] == '-':
		return fmt.Sprintf("(%+q) may only hold ASCII letters, digits and hyphens, and must start with a letter or digit, not a hyphen", s)
	default:
		return fmt.Sprintf("(%+q) may only hold ASCII letters, digits and hyphens, and must start with a letter or digit: %s",
			s, firstOutside(s, clusterNameChars))
	}
}

// checkValidator adapts a check function to a schema validator.
type checkValidator struct {
	desc  string
	check func(string) string
}

func (v checkValidator) Description(context.Context) string         { return v.desc }
func (v checkValidator) MarkdownDescription(context.Context) string { return v.desc }

func (v checkValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := v.check(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Value",
			fmt.Sprintf("The value of %s %s.", req.Path, msg))
	}
}

func idValidator() validator.String {
	return checkValidator{desc: "must be 24 lowercase hexadecimal digits", check: checkID}
}

func clusterNameValidators() []validator.String {
	return []validator.String{checkValidator{
		desc:  "must be 1 to 64 ASCII letters, digits and hyphens, starting with a letter or digit",
		check: checkClusterName,
	}}
}

// durationValidator accepts a Go duration from zero up to max; why says
// what a longer one would do.
type durationValidator struct {
	max time.Duration
	why string
}

func (v durationValidator) Description(context.Context) string {
	return fmt.Sprintf("must be a duration such as 30m or 1h30m, at most %s", v.max)
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("The value of %s (%q) is not a duration; write it like 30m, 2h or 1h30m.", req.Path, s))
	case d < 0:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("The value of %s (%q) is negative.", req.Path, s))
	case d > v.max:
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("The value of %s (%q) is longer than %s: %s", req.Path, s, v.max, v.why))
	}
}

// rfc3339Validator accepts a time such as 2026-11-01T00:00:00Z.
type rfc3339Validator struct{}

func (rfc3339Validator) Description(context.Context) string {
	return "must be an RFC 3339 time such as 2026-11-01T00:00:00Z"
}

func (v rfc3339Validator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (rfc3339Validator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Time",
			fmt.Sprintf("The value of %s (%q) is not an RFC 3339 time; write it like 2026-11-01T00:00:00Z.", req.Path, req.ConfigValue.ValueString()))
	}
}

// checkTimeouts refuses a timeouts value of zero or less at plan time: the
// operation would end before its first request, and a timeout that cannot
// be met is a mistake, not a wish. The timeouts block itself checks that
// each value parses.
func checkTimeouts(ctx context.Context, cfg tfsdk.Config, diags *diag.Diagnostics) {
	for _, name := range []string{"create", "read", "update", "open", "invoke"} {
		at := path.Root("timeouts").AtName(name)
		var s types.String
		if cfg.GetAttribute(ctx, at, &s).HasError() || s.IsNull() || s.IsUnknown() {
			continue // not an operation of this schema, or not set
		}
		if d, err := time.ParseDuration(s.ValueString()); err == nil && d <= 0 {
			diags.AddAttributeError(at, "Invalid Timeout",
				fmt.Sprintf("timeouts.%s is %q: it must be longer than zero, or the operation would end before "+
					"asking Atlas anything. Leave it out for the default.", name, s.ValueString()))
		}
	}
}
