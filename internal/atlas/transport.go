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

// PermanentKind is why a transport failure cannot mend by repeating.
type PermanentKind int

const (
	// UntrustedCertificate: the server's TLS certificate does not verify.
	UntrustedCertificate PermanentKind = iota + 1
	// UnknownHost: the host name definitely does not resolve.
	UnknownHost
	// RedirectRefused: the server redirected where the client does not
	// follow (another host, too many times, or a token endpoint at all).
	RedirectRefused
)

// PermanentFailure is a transport failure that repeating cannot mend. The
// client does not retry one.
type PermanentFailure struct {
	Kind PermanentKind
	// Detail is what the certificate check said (UntrustedCertificate),
	// sanitised, or the other host a redirect pointed to (RedirectRefused;
	// "" when it was not another host).
	Detail string
}

// PermanentCause is why a failed API call cannot succeed by repeating it,
// or nil for a failure that may mend or that is not the transport's.
func PermanentCause(err error) *PermanentFailure {
	var te *transportError
	if !errors.As(err, &te) {
		return nil
	}
	return permanent(te.err)
}

func permanent(err error) *PermanentFailure {
	var re *redirectError
	if errors.As(err, &re) {
		return &PermanentFailure{Kind: RedirectRefused, Detail: re.host}
	}
	// The x509 errors also arrive bare from transports that verify by
	// themselves.
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &cv):
		return &PermanentFailure{Kind: UntrustedCertificate, Detail: sanitise(cv.Err.Error(), 200)}
	case errors.As(err, &ua):
		return &PermanentFailure{Kind: UntrustedCertificate, Detail: sanitise(ua.Error(), 200)}
	case errors.As(err, &hn):
		return &PermanentFailure{Kind: UntrustedCertificate, Detail: sanitise(hn.Error(), 200)}
	case errors.As(err, &ci):
		return &PermanentFailure{Kind: UntrustedCertificate, Detail: sanitise(ci.Error(), 200)}
	}
	// Only a definite "no such host": a resolver that timed out or failed
	// for the moment may answer next time.
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound && !de.IsTimeout && !de.IsTemporary {
		return &PermanentFailure{Kind: UnknownHost}
	}
	return nil
}

// checkRedirect follows redirects within base's scheme and host only, and
// few of them: Atlas's API does not redirect.
func checkRedirect(base *url.URL) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != base.Host || req.URL.Scheme != base.Scheme {
			return &redirectError{host: req.URL.Host, phrase: "a redirect to another host was refused"}
		}
		if len(via) >= 5 {
			return &redirectError{phrase: "the server redirected too many times"}
		}
		return nil
	}
}

// redirectError is a refused redirect; phrase is its message.
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
