// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// LogFunc receives structured log entries from the client.
type LogFunc func(ctx context.Context, msg string, fields map[string]any)

// logTransport reports every exchange that reaches the wire, below the
// digest transport so that challenge probes and their signed replays are
// seen too. What it reports is chosen so that no secret can be in it:
// credentials are redacted from headers, query values other than paging are
// dropped, and no body is logged except a short sanitised excerpt of an
// error answer.
type logTransport struct {
	base http.RoundTripper
	log  LogFunc
}

// errorExcerptBytes is how much of an error answer is peeked at for the log.
const errorExcerptBytes = 512

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now() // wall time on purpose: this measures, it decides nothing
	resp, err := t.base.RoundTrip(req)
	fields := map[string]any{
		"method":      req.Method,
		"url":         RedactURL(req.URL),
		"duration_ms": time.Since(start).Milliseconds(),
	}
	addHeaders(fields, "request_header_", req.Header)
	if err != nil {
		fields["error"] = sanitise(stripURL(err).Error(), 200)
		t.log(req.Context(), "Atlas HTTP exchange failed", fields)
		return resp, err
	}
	fields["status"] = resp.StatusCode
	addHeaders(fields, "response_header_", resp.Header)
	if resp.Uncompressed {
		// Go's transport asked for gzip itself and has decoded the answer,
		// dropping Content-Encoding and Content-Length: say so.
		fields["response_header_content_encoding"] = "gzip (decoded by the transport)"
	}
	if resp.StatusCode >= 400 && resp.Body != nil {
		peek := make([]byte, errorExcerptBytes)
		n, _ := io.ReadFull(resp.Body, peek)
		fields["error_excerpt"] = Excerpt(peek[:n])
		resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(peek[:n]), resp.Body), closer: resp.Body}
	}
	t.log(req.Context(), "Atlas HTTP exchange", fields)
	return resp, nil
}

// CloseIdleConnections passes through to the base transport.
func (t *logTransport) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := t.base.(closer); ok {
		c.CloseIdleConnections()
	}
}

type peekedBody struct {
	io.Reader
	closer io.Closer
}

func (b *peekedBody) Close() error { return b.closer.Close() }

// loggedHeaders are the headers worth a log line, redacted where they carry
// credentials or nonces.
var loggedHeaderNames = []string{
	"Accept", "Accept-Encoding", "Content-Type", "Content-Encoding", "Content-Length", "User-Agent", "Authorization",
	"WWW-Authenticate", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining",
	"Deprecation", "Sunset", "Location", "Date",
}

// addHeaders adds the logged headers of h to fields as strings (so that
// tflog's masking applies to them too), named prefix + lower-case name.
func addHeaders(fields map[string]any, prefix string, h http.Header) {
	for name, v := range loggedHeaders(h) {
		fields[prefix+strings.ToLower(strings.ReplaceAll(name, "-", "_"))] = v
	}
}

func loggedHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for _, name := range loggedHeaderNames {
		v := h.Values(name)
		if len(v) == 0 {
			continue
		}
		joined := strings.Join(v, ", ")
		switch name {
		case "Authorization":
			joined = RedactAuthorization(joined)
		case "WWW-Authenticate":
			joined = redactChallenge(joined)
		case "Location":
			if u, err := url.Parse(joined); err == nil {
				joined = RedactURL(u)
			} else {
				joined = "[redacted]"
			}
		default:
			joined = sanitise(joined, 200)
		}
		out[name] = joined
	}
	return out
}

var digestUsername = regexp.MustCompile(`(?i)\busername="([^"\\]{0,128})"`)

// RedactAuthorization keeps the scheme and, for Digest, the user name (the
// public key, which is not a secret) and drops everything else: the
// response hash is a password equivalent for its nonce.
func RedactAuthorization(v string) string {
	scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
	scheme = sanitise(scheme, 16)
	if strings.EqualFold(scheme, "Digest") {
		if m := digestUsername.FindStringSubmatch(v); m != nil {
			return `Digest username="` + sanitise(m[1], 128) + `", [redacted]`
		}
	}
	if scheme == "" {
		return "[redacted]"
	}
	return scheme + " [redacted]"
}

var challengeSecrets = regexp.MustCompile(`(?i)\b(nonce|opaque)=("[^"]*"|[^,\s]*)`)

// redactChallenge drops the nonce and opaque values of a digest challenge.
func redactChallenge(v string) string {
	return sanitise(challengeSecrets.ReplaceAllString(v, `$1="[redacted]"`), 300)
}

// pagingParams are the only query parameters the client sends; their values
// are never secret.
var pagingParams = map[string]bool{"pageNum": true, "itemsPerPage": true, "includeCount": true, "pretty": true, "envelope": true}

// RedactURL is u without user information or fragment and with the value of
// every query parameter other than paging replaced, so that a presigned
// snapshot URL's token never reaches a log.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = "[redacted]"
		} else {
			keys := make([]string, 0, len(q))
			for k := range q {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, 0, len(keys))
			for _, k := range keys {
				for _, v := range q[k] {
					if !pagingParams[k] {
						parts = append(parts, url.QueryEscape(k)+"=[redacted]")
						continue
					}
					parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
				}
			}
			c.RawQuery = strings.Join(parts, "&")
		}
	}
	return printable(c.String(), 400)
}
