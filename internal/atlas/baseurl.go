// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ParseBaseURL checks an Atlas base URL: https, or http to a loopback
// address (a local simulator), with a host and no query or credentials.
func ParseBaseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) != raw || raw == "" {
		return nil, fmt.Errorf("base URL %q must be a URL such as %s, without spaces", raw, DefaultBaseURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("base URL %q cannot be parsed: %w", raw, err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("base URL %q must start with https://", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("base URL %q has no host", raw)
	case u.User != nil:
		return nil, fmt.Errorf("base URL must not carry credentials; give the keys as public_key and private_key")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("base URL %q must not have a query or fragment", raw)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("base URL %q must be the host only (the API paths are added by the provider)", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("base URL %q uses plain http, which would send the API keys' digest and the download links unencrypted; use https (plain http is allowed only for a loopback address such as a local simulator)", raw)
	}
	u.Path = ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
