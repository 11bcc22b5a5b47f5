// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"testing"
	"time"
)

// TestLinkExpiry: a link expires at Atlas's expirationDate, or four hours
// after the request where Atlas sent none.
func TestLinkExpiry(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name               string
		expires, scheduled string
		want               string // "" for no expiry known
		expired            bool
	}{
		{"expirationDate wins", "2026-11-28T18:00:00Z", "2026-11-28T09:00:00Z", "2026-11-28T18:00:00Z", false},
		{"expired by expirationDate", "2026-11-28T14:59:59Z", "", "2026-11-28T14:59:59Z", true},
		{"expires exactly now", "2026-11-28T15:00:00Z", "", "2026-11-28T15:00:00Z", true},
		{"four hours after the request", "", "2026-11-28T10:30:00Z", "2026-11-28T14:30:00Z", true},
		{"requested less than four hours ago", "", "2026-11-28T11:30:00Z", "2026-11-28T15:30:00Z", false},
		{"nothing to go by", "", "", "", false},
	} {
		j := &RestoreJob{ExpirationDate: tt.expires, RestoreScheduledDate: tt.scheduled}
		at, ok := j.LinkExpiry()
		if got := map[bool]string{true: at.Format(time.RFC3339), false: ""}[ok]; got != tt.want {
			t.Errorf("%s: LinkExpiry = %q, want %q", tt.name, got, tt.want)
		}
		if got := j.LinkExpired(now); got != tt.expired {
			t.Errorf("%s: LinkExpired = %v, want %v", tt.name, got, tt.expired)
		}
	}
}
