// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"errors"
	"fmt"
	"testing"
)

// TestIsRetired tells a retired endpoint from a missing object.
func TestIsRetired(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"410 Gone", &Error{StatusCode: 410}, true},
		{"VERSION_GONE", &Error{StatusCode: 410, ErrorCode: "VERSION_GONE"}, true},
		{"v1.0 tenant path after its sunset", fmt.Errorf("wrapped: %w", &Error{StatusCode: 404, ErrorCode: "RESOURCE_NOT_FOUND",
			Detail: "Cannot find resource /x. The tenant (M2/M5) backup endpoints were sunset on 2026-01-22; use the Flex backup endpoints."}), true},
		{"cluster not found", &Error{StatusCode: 404, ErrorCode: "CLUSTER_NOT_FOUND", Detail: "No cluster named x exists in group y."}, false},
		{"a 404 from elsewhere", &Error{StatusCode: 404}, false},
		{"not an answer", errors.New("sunset"), false},
	} {
		if got := IsRetired(tt.err); got != tt.want {
			t.Errorf("%s: IsRetired = %v, want %v", tt.name, got, tt.want)
		}
	}
}
