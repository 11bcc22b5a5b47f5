// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCert is a self-signed certificate for the given names.
func testCert(t *testing.T, names ...string) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// connectProxy is an HTTP CONNECT proxy that tunnels every request to
// target, whatever host it names, and records the hosts asked for.
type connectProxy struct {
	target string
	mu     sync.Mutex
	hosts  []string
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.hosts = append(p.hosts, r.Host)
	p.mu.Unlock()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, buf); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
	<-done
	_ = conn.Close()
	_ = up.Close()
	<-done
}

func (p *connectProxy) Hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.hosts...)
}

// TestProxyFromEnvironment shows that the default transport takes its proxy
// from HTTPS_PROXY and NO_PROXY. net/http reads those once per process and
// never proxies loopback addresses, so each case runs the client in a child
// process (TestProxyChild) against https://atlas.test, a name that exists
// only through the proxy: the child cannot resolve any name at all.
func TestProxyFromEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	cert, certPEM := testCert(t, "atlas.test")
	upstream := httptest.NewUnstartedServer(newAuthServer(t, jsonHandler(200, jobJSON)))
	upstream.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	upstream.StartTLS()
	defer upstream.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		noProxy     string
		wantOK      bool
		wantConnect bool
	}{
		{"HTTPS_PROXY is used", "", true, true},
		{"NO_PROXY bypasses it", "atlas.test", false, false},
		{"NO_PROXY for another host", "other.test,.example", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := &connectProxy{target: upstream.Listener.Addr().String()}
			ps := httptest.NewServer(proxy)
			defer ps.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^TestProxyChild$", "-test.count=1", "-test.v")
			cmd.Env = append(cleanProxyEnv(), "ATLAS_PROXY_CHILD_CA="+caFile,
				"HTTPS_PROXY="+ps.URL, "NO_PROXY="+tt.noProxy)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			ok := strings.Contains(string(out), "CHILD RESULT: ok")
			if !strings.Contains(string(out), "CHILD RESULT:") {
				t.Fatalf("the child reported nothing:\n%s", out)
			}
			if ok != tt.wantOK {
				t.Errorf("call succeeded = %v, want %v:\n%s", ok, tt.wantOK, out)
			}
			hosts := proxy.Hosts()
			if tt.wantConnect != (len(hosts) > 0) {
				t.Errorf("proxy saw CONNECT to %v, want a CONNECT: %v", hosts, tt.wantConnect)
			}
			for _, h := range hosts {
				if h != "atlas.test:443" {
					t.Errorf("proxy asked for %q, want atlas.test:443", h)
				}
			}
		})
	}
}

// cleanProxyEnv is the environment without any proxy setting.
func cleanProxyEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "REQUEST_METHOD":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// TestProxyChild is the client side of TestProxyFromEnvironment.
func TestProxyChild(t *testing.T) {
	caFile := os.Getenv("ATLAS_PROXY_CHILD_CA")
	if caFile == "" {
		t.Skip("run by TestProxyFromEnvironment")
	}
	// No name resolves: reaching atlas.test at all proves the proxy.
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("name resolution is disabled in this test")
	}}
	pemData, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		t.Fatal("bad CA file")
	}
	c, err := New(Config{
		BaseURL: "https://atlas.test", PublicKey: testUser, PrivateKey: testPass, RootCAs: pool,
		Retry: RetryPolicy{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.GetRestoreJob(ctx, testCluster, "6568a1b2c3d4e5f6000000b1"); err != nil {
		fmt.Printf("CHILD RESULT: error: %v\n", err)
		return
	}
	fmt.Println("CHILD RESULT: ok")
}

// TestTLSAtLeast12 shows the default transport refuses a server that
// offers nothing newer than TLS 1.1, and accepts the same server at 1.2.
func TestTLSAtLeast12(t *testing.T) {
	cert, certPEM := testCert(t, "localhost")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	for _, tt := range []struct {
		max    uint16
		wantOK bool
	}{{tls.VersionTLS11, false}, {tls.VersionTLS12, true}} {
		srv := httptest.NewUnstartedServer(newAuthServer(t, jsonHandler(200, jobJSON)))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tt.max}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
		srv.StartTLS()
		c, err := New(Config{BaseURL: srv.URL, PublicKey: testUser, PrivateKey: testPass, RootCAs: pool,
			Retry: RetryPolicy{MaxAttempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetRestoreJob(context.Background(), testCluster, "6568a1b2c3d4e5f6000000b1")
		if (err == nil) != tt.wantOK {
			t.Errorf("server up to %s: err = %v, want success %v", tls.VersionName(tt.max), err, tt.wantOK)
		}
		srv.Close()
	}
}
