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
	}
	for _, tt := range tests {
		_, err := ParseBaseURL(tt.in)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("ParseBaseURL(%q) = %v, want %q", tt.in, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("error leaks the URL's password: %v", err)
		}
	}
}
