// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// BaseURLError is a base URL the client refuses. URL has been through
// RedactUserinfo, so the error can be printed whole.
type BaseURLError struct {
	URL     string
	Problem string // completes "the base URL (URL) ...", as in "has no host"
}

func (e *BaseURLError) Error() string {
	return fmt.Sprintf("base URL %q %s", e.URL, e.Problem)
}

// ParseBaseURL checks an Atlas base URL: https, or http to a loopback
// address (a local simulator), with a host and no query or credentials.
// The error never holds the URL's user information, whichever check fails.
func ParseBaseURL(raw string) (*url.URL, error) {
	fail := func(problem string) (*url.URL, error) {
		return nil, &BaseURLError{URL: RedactUserinfo(raw), Problem: problem}
	}
	if raw == "" {
		return fail("is empty; it must be a URL such as " + DefaultBaseURL)
	}
	if strings.TrimSpace(raw) != raw {
		return fail("must be a URL such as " + DefaultBaseURL + ", without spaces")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fail("cannot be parsed as a URL" + parseProblem(raw))
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fail("must start with https://")
	case u.Host == "" || u.Hostname() == "":
		return fail("has no host")
	case u.User != nil:
		return fail("must not carry credentials (user:password@); give them as public_key and private_key, " +
			"or as client_id and client_secret")
	case u.Port() != "" && !validPort(u.Port()):
		return fail("has a port outside 1 to 65535")
	case u.RawQuery != "" || u.Fragment != "":
		return fail("must not have a query or fragment")
	case u.Path != "" && u.Path != "/":
		return fail("must be the host only (the API paths are added by the provider)")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fail("uses plain http, which would send the API keys' digest and the download links unencrypted; " +
			"use https (plain http is allowed only for a loopback address such as a local simulator)")
	}
	u.Path = ""
	return u, nil
}

// parseProblem is url.Parse's reason for refusing raw, taken from raw
// without its user information: the reason can quote a part of the URL
// (a "port" that is really the rest of a password holding a slash).
func parseProblem(raw string) string {
	_, err := url.Parse(withoutUserinfo(raw))
	var ue *url.Error
	if errors.As(err, &ue) {
		return ": " + ue.Err.Error()
	}
	return ""
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authorityStart matches what comes before a URL's user information: a
// scheme and "//", or "//" alone.
var authorityStart = regexp.MustCompile(`^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//`)

// RedactUserinfo is raw with its user information (user:password@)
// replaced by "[redacted]@", for any message that quotes a URL, whether or
// not raw parses. Everything up to the last "@" counts, because a
// password may hold "/", "?", "#" or "@" that a parser would stop at.
func RedactUserinfo(raw string) string {
	start, at := userinfo(raw)
	if at < 0 {
		return raw
	}
	return raw[:start] + "[redacted]" + raw[at:]
}

// withoutUserinfo is raw with its user information dropped.
func withoutUserinfo(raw string) string {
	start, at := userinfo(raw)
	if at < 0 {
		return raw
	}
	return raw[:start] + raw[at+1:]
}

// userinfo locates the user information of raw: from start to the "@" at
// at, or at < 0 when there is none.
func userinfo(raw string) (start, at int) {
	at = strings.LastIndex(raw, "@")
	if at < 0 {
		return 0, -1
	}
	if m := authorityStart.FindStringIndex(raw); m != nil && m[1] <= at {
		start = m[1]
	}
	return start, at
}
