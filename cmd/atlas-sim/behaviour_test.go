// SPDX-License-Identifier: MPL-2.0

package main

import (
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

func TestBehaviourFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want atlassim.Config
		err  string
	}{
		{name: "defaults", want: atlassim.Config{RestoreDuration: time.Minute}},
		{name: "restore duration", args: []string{"-restore-duration", "5s"}, want: atlassim.Config{RestoreDuration: 5 * time.Second}},
		{name: "instant restores", args: []string{"-restore-duration", "0"}, want: atlassim.Config{}},
		{name: "negative restore duration", args: []string{"-restore-duration", "-1s"}, err: "-restore-duration must not be negative"},
		{name: "token limits as Atlas's", args: []string{"-token-rate-limit", "10", "-max-live-tokens", "100"},
			want: atlassim.Config{RestoreDuration: time.Minute, TokenRateLimit: 10, MaxLiveTokens: 100}},
		{name: "negative token rate", args: []string{"-token-rate-limit", "-1"}, err: "-token-rate-limit and -max-live-tokens must not be negative"},
		{name: "negative live tokens", args: []string{"-max-live-tokens", "-5"}, err: "-token-rate-limit and -max-live-tokens must not be negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			set := behaviourFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			var got atlassim.Config
			err := set(&got)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(got, tc.want):
				t.Errorf("config %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
