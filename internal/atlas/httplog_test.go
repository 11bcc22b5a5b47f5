// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// logRecorder keeps every wire log entry.
type logRecorder struct {
	mu      sync.Mutex
	entries []map[string]any
}

func (r *logRecorder) log(_ context.Context, msg string, fields map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := map[string]any{"msg": msg}
	for k, v := range fields {
		f[k] = v
	}
	r.entries = append(r.entries, f)
}

func (r *logRecorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprint(r.entries)
}

var hexResponse = regexp.MustCompile(`response="?[0-9a-f]{32}`)

func TestLogHTTPSeesEveryExchangeAndNoSecret(t *testing.T) {
	const token = "s3cr3t0k3n5e1f2a3b4c5d"
	seq := &sequence{steps: []func(http.ResponseWriter, *http.Request){
		status(503, "Retry-After", "1"),
		func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":400,"errorCode":"X","detail":"see https://files.example/x.tar.gz?token=%s"}`, token)
		},
	}}
	as := newAuthServer(t, seq)
	srv := httptest.NewServer(as)
	defer srv.Close()
	rec := &logRecorder{}
	c, err := New(Config{BaseURL: srv.URL, PublicKey: testUser, PrivateKey: testPass, LogHTTP: rec.log,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListSnapshots(context.Background(), testCluster, ListOptions{PageNum: 2, ItemsPerPage: 10})
	if err == nil {
		t.Fatal("want the injected 400")
	}
	// The unsigned probe (401), the signed 503, the signed 400.
	var statuses []int
	for _, e := range rec.entries {
		statuses = append(statuses, e["status"].(int))
	}
	if fmt.Sprint(statuses) != "[401 503 400]" {
		t.Errorf("logged statuses %v, want [401 503 400]", statuses)
	}
	last := rec.entries[len(rec.entries)-1]
	if got := last["request_header_authorization"]; got != `Digest username="`+testUser+`", [redacted]` {
		t.Errorf("authorization logged as %q", got)
	}
	if u := last["url"].(string); !strings.Contains(u, "itemsPerPage=10") || !strings.Contains(u, "pageNum=2") {
		t.Errorf("url %q lost its paging", u)
	}
	if ex, _ := last["error_excerpt"].(string); !strings.Contains(ex, "errorCode") {
		t.Errorf("error excerpt %q", ex)
	}
	if nonce := rec.entries[0]["response_header_www_authenticate"].(string); !strings.Contains(nonce, `nonce="[redacted]"`) {
		t.Errorf("challenge logged as %q", nonce)
	}
	all := rec.text()
	for _, secret := range []string{testPass, token} {
		if strings.Contains(all, secret) {
			t.Errorf("the wire log holds %q:\n%s", secret, all)
		}
	}
	if m := hexResponse.FindString(all); m != "" {
		t.Errorf("the wire log holds a digest response %s", m)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("the error holds the token: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://h/x?pageNum=1&itemsPerPage=5", "https://h/x?itemsPerPage=5&pageNum=1"},
		{"https://h/restore.tar.gz?token=abc&expires=99", "https://h/restore.tar.gz?expires=[redacted]&token=[redacted]"},
		{"https://u:pw@h/x#frag", "https://h/x"},
		{"https://h/x?%zz", "https://h/x?[redacted]"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := RedactURL(u); got != tt.want {
			t.Errorf("RedactURL(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRedactAuthorization(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Digest username="pub", realm="MMS Public API", nonce="n", uri="/x", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="c"`, `Digest username="pub", [redacted]`},
		{`Digest response="0123456789abcdef0123456789abcdef"`, `Digest [redacted]`},
		{`Bearer eyJhbGciOi`, `Bearer [redacted]`},
		{``, `[redacted]`},
		{"Digest username=\"a\x00b\"", `Digest username="a b", [redacted]`},
	}
	for _, tt := range tests {
		if got := RedactAuthorization(tt.in); got != tt.want {
			t.Errorf("RedactAuthorization(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
