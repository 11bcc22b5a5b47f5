// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// digPath is dig with a dotted path; numbers index arrays.
func digPath(v any, path string) any {
	var steps []any
	for _, p := range strings.Split(path, ".") {
		if n, err := strconv.Atoi(p); err == nil {
			steps = append(steps, n)
		} else {
			steps = append(steps, p)
		}
	}
	return dig(v, steps...)
}

// What MongoDB's provider reads when a configuration looks a project or a
// cluster up is answered, in the version it asks for, metered like the rest.
func TestProviderLookups(t *testing.T) {
	env := newSimEnv(t, Config{Faults: Faults{RateLimitCapacity: 1000}})
	group := env.client("Accept", mediaTypeTenantV2)
	users := env.client("Accept", usersV2.mediaType)
	args := env.client("Accept", mediaTypeClusters)
	v1 := env.client()
	const dep, sunset = "Mon, 05 Aug 2024 00:00:00 GMT", "Thu, 01 Jul 2027 00:00:00 GMT"
	cases := []struct {
		name     string
		c        *digestClient
		uri, ct  string
		metered  bool
		body     string         // the whole answer, when set
		want     map[string]any // dotted path -> value
		deprecat bool
	}{
		{"project by name", group, "/api/atlas/v2/groups/byName/Project-" + DefaultProjectID, mediaTypeTenantV2, false, "",
			map[string]any{"id": DefaultProjectID, "clusterCount": 3.0}, false},
		{"teams", group, projectV2Path + "/teams", mediaTypeTenantV2, true, "",
			map[string]any{"totalCount": 0.0, "results": []any{}}, false},
		{"users", users, projectV2Path + "/users?pageNum=1&itemsPerPage=100", usersV2.mediaType, true, "",
			map[string]any{"totalCount": 0.0, "results": []any{}}, false},
		{"limits", group, projectV2Path + "/limits", mediaTypeTenantV2, true, `[]`, nil, false},
		{"settings", group, projectV2Path + "/settings", mediaTypeTenantV2, true, "",
			map[string]any{"isDataExplorerEnabled": true, "isExtendedStorageSizesEnabled": false}, false},
		{"IP addresses", group, projectV2Path + "/ipAddresses", mediaTypeTenantV2, true, "",
			map[string]any{"groupId": DefaultProjectID, "services.clusters": []any{}}, false},
		{"slow-operation threshold", group, projectV2Path + "/managedSlowMs", mediaTypeTenantV2, true, `true`, nil, false},
		{"processArgs", args, clustersV2Path + "/" + DefaultClusterName + "/processArgs", mediaTypeClusters, true, "",
			map[string]any{"javascriptEnabled": true, "minimumEnabledTlsProtocol": "TLS1_2", "tlsCipherConfigMode": "DEFAULT"}, false},
		{"processArgs 2023-01-01", group, clustersV2Path + "/" + DefaultClusterName + "/processArgs", mediaTypeTenantV2, true, "",
			map[string]any{"javascriptEnabled": true, "tlsCipherConfigMode": nil, "customOpensslCipherConfigTls12": nil}, true},
		{"v1.0 cluster with autoScaling", v1, clustersV1Path + "/" + DefaultClusterName, "application/json", true, "",
			map[string]any{"autoScaling.compute.enabled": false, "autoScaling.compute.scaleDownEnabled": false,
				"autoScaling.diskGBEnabled": false, "biConnector.enabled": false, "providerSettings.autoScaling.compute": map[string]any{}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := tc.c.do(http.MethodGet, tc.uri, "")
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.ct {
				t.Fatalf("status %d, Content-Type %q; want 200, %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.ct, data)
			}
			wantDep, wantSunset := "", ""
			if tc.deprecat {
				wantDep, wantSunset = dep, sunset
			}
			if resp.Header.Get("Deprecation") != wantDep || resp.Header.Get("Sunset") != wantSunset {
				t.Errorf("Deprecation %q, Sunset %q; want %q, %q", resp.Header.Get("Deprecation"), resp.Header.Get("Sunset"), wantDep, wantSunset)
			}
			if metered := resp.Header.Get("RateLimit-Limit") == "1000"; metered != tc.metered {
				t.Errorf("RateLimit-Limit %q, want it metered: %v", resp.Header.Get("RateLimit-Limit"), tc.metered)
			}
			if tc.body != "" && string(bytes.TrimSpace(data)) != tc.body {
				t.Errorf("body %s, want %s", data, tc.body)
			}
			var body any
			if err := json.Unmarshal(data, &body); err != nil {
				t.Fatal(err)
			}
			for path, want := range tc.want {
				got, _ := json.Marshal(digPath(body, path))
				if w, _ := json.Marshal(want); !bytes.Equal(got, w) {
					t.Errorf("%s = %s, want %s", path, got, w)
				}
			}
		})
	}
}

func TestProviderLookupErrors(t *testing.T) {
	env := newSimEnv(t, Config{})
	group := env.client("Accept", mediaTypeTenantV2)
	args := env.client("Accept", mediaTypeClusters)
	v1 := env.client()
	const unknownID = "0123456789abcdef01234567"
	cases := []struct {
		name   string
		c      *digestClient
		uri    string
		status int
		code   string
	}{
		{"unknown project name", group, "/api/atlas/v2/groups/byName/Nope", 404, codeGroupNameNotFound},
		{"teams of an unknown project", group, "/api/atlas/v2/groups/" + unknownID + "/teams", 404, codeGroupNotFound},
		{"settings of a malformed id", group, "/api/atlas/v2/groups/xyz/settings", 404, codeInvalidGroupID},
		{"users in the project's version", group, projectV2Path + "/users", 406, codeInvalidVersion},
		{"users with bad paging", env.client("Accept", usersV2.mediaType), projectV2Path + "/users?pageNum=0", 400, codeInvalidQueryParameter},
		{"processArgs of a Flex cluster", args, clustersV2Path + "/" + DefaultFlexClusterName + "/processArgs", 400, codeFlexInClusterAPI},
		{"processArgs of an unknown cluster", args, clustersV2Path + "/Nope/processArgs", 404, codeClusterNotFound},
		{"processArgs in a version never served", env.client("Accept", "application/vnd.atlas.2023-02-01+json"),
			clustersV2Path + "/" + DefaultClusterName + "/processArgs", 406, codeInvalidVersion},
		{"backup schedule of a tenant cluster", v1, clustersV1Path + "/" + DefaultClusterName + "/backup/schedule", 404, codeBackupConfigNotFound},
		{"backup schedule of a Flex cluster", v1, clustersV1Path + "/" + DefaultFlexClusterName + "/backup/schedule", 400, codeFlexInClusterAPI},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, data := tc.c.do(http.MethodGet, tc.uri, "")
			apiErrorBody(t, resp, data, tc.status, tc.code)
		})
	}
}

// A name that repeats across projects finds the lowest id, every time.
func TestGroupByNameIsDeterministic(t *testing.T) {
	seed := &Seed{Projects: []SeedProject{
		{ID: "bbbbbbbbbbbbbbbbbbbbbbbb", Name: "Team+Ops(eu)", Clusters: []SeedCluster{}},
		{ID: "aaaaaaaaaaaaaaaaaaaaaaaa", Name: "Team+Ops(eu)", Clusters: []SeedCluster{}},
	}}
	env := newSimEnv(t, Config{Seed: seed})
	group := env.client("Accept", mediaTypeTenantV2)
	for range 3 {
		if p := group.getJSON(http.MethodGet, "/api/atlas/v2/groups/byName/Team+Ops(eu)", "", http.StatusOK); p["id"] != "aaaaaaaaaaaaaaaaaaaaaaaa" {
			t.Fatalf("byName found %v, want the lowest id", p["id"])
		}
	}
}
