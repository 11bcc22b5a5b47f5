// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"errors"
	"strings"
	"testing"
)

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		in     string
		want   BaseURLProblem // 0: accepted
		detail string
	}{
		{"https://cloud.mongodb.com", 0, ""},
		{"https://cloud.mongodbgov.com/", 0, ""},
		{"http://127.0.0.1:8080", 0, ""},
		{"http://localhost:1234", 0, ""},
		{"http://[::1]:99", 0, ""},
		{"https://cloud.mongodb.com:443", 0, ""},
		{"http://cloud.mongodb.com", BaseURLPlainHTTP, ""},
		{"ftp://x", BaseURLScheme, ""},
		{"cloud.mongodb.com", BaseURLScheme, ""},
		{"", BaseURLEmpty, ""},
		{" https://cloud.mongodb.com", BaseURLSpaces, ""},
		{"https://user:pw@cloud.mongodb.com", BaseURLUserinfo, ""},
		{"https://cloud.mongodb.com/api", BaseURLPath, ""},
		{"https://cloud.mongodb.com?x=1", BaseURLQuery, ""},
		{"https://cloud.mongodb.com#top", BaseURLQuery, ""},
		{"https://", BaseURLNoHost, ""},
		{"https://%zz", BaseURLUnparsable, "invalid URL escape"},
		{"https://cloud.mongodb.com:99999", BaseURLPort, ""},
		{"https://cloud.mongodb.com:0", BaseURLPort, ""},
		{"https://cloud.mongodb.com:44x", BaseURLUnparsable, `invalid port ":44x" after host`},
	}
	for _, tt := range tests {
		_, err := ParseBaseURL(tt.in)
		var be *BaseURLError
		switch {
		case tt.want == 0 && err != nil:
			t.Errorf("ParseBaseURL(%q) = %v, want it accepted", tt.in, err)
		case tt.want != 0 && (!errors.As(err, &be) || be.Problem != tt.want || !strings.Contains(be.Detail, tt.detail) || be.URL != RedactUserinfo(tt.in)):
			t.Errorf("ParseBaseURL(%q) = %#v, want problem %d with %q", tt.in, err, tt.want, tt.detail)
		}
	}
}

// TestParseBaseURL_userinfoNeverInError: whichever check refuses a URL,
// the error quotes it without its user information, and still says what
// is wrong.
func TestParseBaseURL_userinfoNeverInError(t *testing.T) {
	const user, pw = "opsUsrq", "Pw7zXq7Kv"
	for _, tt := range []struct {
		in, url string
		want    BaseURLProblem
	}{
		{"ftp://opsUsrq:Pw7zXq7Kv@host", "ftp://[redacted]@host", BaseURLScheme},
		{" https://opsUsrq:Pw7zXq7Kv@host", " https://[redacted]@host", BaseURLSpaces},
		{"https://opsUsrq:Pw7zXq7Kv@host:99999", "https://[redacted]@host:99999", BaseURLUserinfo},
		{"https://opsUsrq:Pw7zXq7Kv@host:44x", "https://[redacted]@host:44x", BaseURLUnparsable},
		{"https://opsUsrq:Pw7zXq7Kv@", "https://[redacted]@", BaseURLNoHost},
		{"//opsUsrq:Pw7zXq7Kv@host", "//[redacted]@host", BaseURLScheme},
		{"opsUsrq:Pw7zXq7Kv@host", "[redacted]@host", BaseURLScheme},
		{"https://opsUsrq:Pw7zXq7Kv/x@host", "https://[redacted]@host", BaseURLUnparsable},
		{"https://opsUsrq:Pw7zXq7Kv#x@host", "https://[redacted]@host", BaseURLUnparsable},
		{"https://opsUsrq:Pw7z Xq7Kv@host", "https://[redacted]@host", BaseURLUnparsable},
		{"https://opsUsrq:Pw7z%zzXq7Kv@host", "https://[redacted]@host", BaseURLUnparsable},
		{"https://opsUsrq:Pw7zXq7Kv@host\n", "https://[redacted]@host\n", BaseURLSpaces},
		{"http://opsUsrq:Pw7zXq7Kv@host/a?b#c", "http://[redacted]@host/a?b#c", BaseURLUserinfo},
	} {
		_, err := ParseBaseURL(tt.in)
		var be *BaseURLError
		if !errors.As(err, &be) || be.URL != tt.url || be.Problem != tt.want {
			t.Errorf("ParseBaseURL(%q) = %#v, want URL %q and problem %d", tt.in, err, tt.url, tt.want)
			continue
		}
		msg := err.Error()
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
