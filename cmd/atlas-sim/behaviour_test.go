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
