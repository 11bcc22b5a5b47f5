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

// BaseURLProblem is what is wrong with a base URL.
type BaseURLProblem int

const (
	BaseURLEmpty      BaseURLProblem = iota + 1
	BaseURLSpaces                    // white space before or after it
	BaseURLUnparsable                // Detail says why
	BaseURLScheme                    // neither https nor http
	BaseURLNoHost                    // no host, or an empty one
	BaseURLUserinfo                  // user:password@ in it
	BaseURLPort                      // outside 1 to 65535
	BaseURLQuery                     // a query or a fragment
	BaseURLPath                      // a path other than "/"
	BaseURLPlainHTTP                 // http to a host that is not loopback
)

var baseURLProblems = map[BaseURLProblem]string{
	BaseURLEmpty: "is empty", BaseURLSpaces: "has surrounding white space", BaseURLUnparsable: "does not parse",
	BaseURLScheme: "is not https", BaseURLNoHost: "has no host", BaseURLUserinfo: "has user information",
	BaseURLPort: "has a port outside 1-65535", BaseURLQuery: "has a query or fragment", BaseURLPath: "has a path",
	BaseURLPlainHTTP: "is plain http to a host that is not loopback",
}

// BaseURLError is a base URL the client refuses. URL has been through
// RedactUserinfo, so the error can be printed whole.
type BaseURLError struct {
	URL     string
	Problem BaseURLProblem
	// Detail is the URL parser's complaint, for BaseURLUnparsable; it is
	// taken from the URL without its user information.
	Detail string
}

func (e *BaseURLError) Error() string {
	msg := fmt.Sprintf("atlas: base URL %q %s", e.URL, baseURLProblems[e.Problem])
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// ParseBaseURL checks an Atlas base URL: https, or http to a loopback
// address (a local simulator), with a host and no query or credentials.
// The error never holds the URL's user information, whichever check fails.
func ParseBaseURL(raw string) (*url.URL, error) {
	fail := func(problem BaseURLProblem) (*url.URL, error) {
		return nil, &BaseURLError{URL: RedactUserinfo(raw), Problem: problem}
	}
	if raw == "" {
		return fail(BaseURLEmpty)
	}
	if strings.TrimSpace(raw) != raw {
		return fail(BaseURLSpaces)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &BaseURLError{URL: RedactUserinfo(raw), Problem: BaseURLUnparsable, Detail: parseProblem(raw)}
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fail(BaseURLScheme)
	case u.Host == "" || u.Hostname() == "":
		return fail(BaseURLNoHost)
	case u.User != nil:
		return fail(BaseURLUserinfo)
	case u.Port() != "" && !validPort(u.Port()):
		return fail(BaseURLPort)
	case u.RawQuery != "" || u.Fragment != "":
		return fail(BaseURLQuery)
	case u.Path != "" && u.Path != "/":
		return fail(BaseURLPath)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fail(BaseURLPlainHTTP)
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
		return ue.Err.Error()
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
