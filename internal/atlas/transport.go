// SPDX-License-Identifier: MPL-2.0

package atlas

// The HTTP transport under the client, and the failures that come from it
// rather than from an Atlas answer.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

func defaultTransport(roots *x509.CertPool) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Unreachable reports whether err is a request that got no complete HTTP
// answer from the server (as opposed to an answer the client refused).
func Unreachable(err error) bool {
	var te *transportError
	return errors.As(err, &te)
}

// PermanentCause says, for a transport failure that repeating cannot mend
// (an untrusted certificate, a host name that does not resolve, a refused
// redirect), what is wrong in a short phrase; it is "" for any other error.
// The client does not retry such failures.
func PermanentCause(err error) string {
	var te *transportError
	if !errors.As(err, &te) {
		return ""
	}
	return permanentCause(te.err)
}

func permanentCause(err error) string {
	var re *redirectError
	if errors.As(err, &re) {
		return re.phrase
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return "the server's TLS certificate is not trusted: " + sanitise(cv.Err.Error(), 200)
	}
	// The x509 errors also arrive bare from transports that verify by
	// themselves.
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return "the server's TLS certificate is not trusted: " + sanitise(ua.Error(), 200)
	case errors.As(err, &hn):
		return "the server's TLS certificate is not trusted: " + sanitise(hn.Error(), 200)
	case errors.As(err, &ci):
		return "the server's TLS certificate is not trusted: " + sanitise(ci.Error(), 200)
	}
	// Only a definite "no such host": a resolver that timed out or failed
	// for the moment may answer next time.
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound && !de.IsTimeout && !de.IsTemporary {
		return "the host name does not resolve"
	}
	return ""
}

// redirectError is CheckRedirect's refusal.
type redirectError struct {
	host   string // where the redirect pointed, if elsewhere
	phrase string
}

func (e *redirectError) Error() string {
	if e.host != "" {
		return fmt.Sprintf("atlas: refusing to follow a redirect to another host (%s)", e.host)
	}
	return "atlas: " + e.phrase
}

// transportError is a request that got no complete HTTP answer.
type transportError struct {
	method, path string
	err          error
	afterHeaders bool
}

func (e *transportError) Error() string {
	return fmt.Sprintf("atlas: %s %s: %v", e.method, e.path, stripURL(e.err))
}

func (e *transportError) Unwrap() error { return e.err }

// stripURL drops the URL that net/http puts in its errors: the message
// already names the path, and a URL may carry a query string.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
