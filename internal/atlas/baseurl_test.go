// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"strings"
	"testing"
)

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{"https://cloud.mongodb.com", ""},
		{"https://cloud.mongodbgov.com/", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://localhost:1234", ""},
		{"http://[::1]:99", ""},
		{"https://cloud.mongodb.com:443", ""},
		{"http://cloud.mongodb.com", "plain http"},
		{"ftp://x", "must start with https://"},
		{"cloud.mongodb.com", "must start with https://"},
		{"", "must be a URL"},
		{" https://cloud.mongodb.com", "without spaces"},
		{"https://user:pw@cloud.mongodb.com", "must not carry credentials"},
		{"https://cloud.mongodb.com/api", "host only"},
		{"https://cloud.mongodb.com?x=1", "query"},
		{"https://", "no host"},
		{"https://%zz", "cannot be parsed"},
		{"https://cloud.mongodb.com:99999", "port outside 1 to 65535"},
		{"https://cloud.mongodb.com:0", "port outside 1 to 65535"},
		{"https://cloud.mongodb.com:44x", `cannot be parsed as a URL: invalid port ":44x" after host`},
	}
	for _, tt := range tests {
		_, err := ParseBaseURL(tt.in)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("ParseBaseURL(%q) = %v, want %q", tt.in, err, tt.wantErr)
		}
	}
}

// TestParseBaseURL_userinfoNeverInError: whichever check refuses a URL,
// the error quotes it without its user information, and still says what
// is wrong.
func TestParseBaseURL_userinfoNeverInError(t *testing.T) {
	const user, pw = "opsUsrq", "Pw7zXq7Kv"
	for _, tt := range []struct{ in, want string }{
		{"ftp://opsUsrq:Pw7zXq7Kv@host", `"ftp://[redacted]@host" must start with https://`},
		{" https://opsUsrq:Pw7zXq7Kv@host", `" https://[redacted]@host" must be a URL`},
		{"https://opsUsrq:Pw7zXq7Kv@host:99999", `"https://[redacted]@host:99999" must not carry credentials`},
		{"https://opsUsrq:Pw7zXq7Kv@host:44x", `"https://[redacted]@host:44x" cannot be parsed as a URL: invalid port ":44x" after host`},
		{"https://opsUsrq:Pw7zXq7Kv@", `"https://[redacted]@" has no host`},
		{"//opsUsrq:Pw7zXq7Kv@host", `"//[redacted]@host" must start with https://`},
		{"opsUsrq:Pw7zXq7Kv@host", `"[redacted]@host" must start with https://`},
		{"https://opsUsrq:Pw7zXq7Kv/x@host", `"https://[redacted]@host" cannot be parsed as a URL`},
		{"https://opsUsrq:Pw7zXq7Kv#x@host", `"https://[redacted]@host" cannot be parsed as a URL`},
		{"https://opsUsrq:Pw7z Xq7Kv@host", `"https://[redacted]@host" cannot be parsed as a URL`},
		{"https://opsUsrq:Pw7z%zzXq7Kv@host", `"https://[redacted]@host" cannot be parsed as a URL`},
		{"https://opsUsrq:Pw7zXq7Kv@host\n", `"https://[redacted]@host\n" must be a URL`},
		{"http://opsUsrq:Pw7zXq7Kv@host/a?b#c", `"http://[redacted]@host/a?b#c" must not carry credentials`},
	} {
		_, err := ParseBaseURL(tt.in)
		if err == nil {
			t.Errorf("ParseBaseURL(%q) accepted it", tt.in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) {
			t.Errorf("ParseBaseURL(%q) = %q, want %q in it", tt.in, msg, tt.want)
		}
		for _, secret := range []string{user, pw, "Pw7z", "Xq7Kv"} {
			if strings.Contains(msg, secret) {
				t.Errorf("ParseBaseURL(%q) = %q: it holds %q", tt.in, msg, secret)
			}
		}
	}
}

func TestRedactUserinfo(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://cloud.mongodb.com", "https://cloud.mongodb.com"},
		{"https://u:p@h", "https://[redacted]@h"},
		{"https://u@h:8443/x", "https://[redacted]@h:8443/x"},
		{"https://u:p@ss@h", "https://[redacted]@h"},
		{"//u:p@h", "//[redacted]@h"},
		{"u:p//x@h", "[redacted]@h"},
		{"  HTTPS://u:p@h", "  HTTPS://[redacted]@h"},
		{"https://u:p@", "https://[redacted]@"},
		{"@", "[redacted]@"},
		{"", ""},
	} {
		if got := RedactUserinfo(tt.in); got != tt.want {
			t.Errorf("RedactUserinfo(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
