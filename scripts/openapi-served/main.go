// SPDX-License-Identifier: MPL-2.0

// Command openapi-served cuts an Atlas OpenAPI description down to the
// operations the simulator serves, with the parameters and components they
// use and without descriptions, examples or x- extensions, and writes it as
// JSON. The simulator's tests validate its answers against that file
// (internal/atlassim/testdata/openapi-served.json), so a clone needs nothing
// beside it. It is not part of `make test`; run it by hand when the
// description or the set of served operations changes:
//
//	go run ./scripts/openapi-served \
//	    -o internal/atlassim/testdata/openapi-served.json \
//	    ../shared/reference/atlas-openapi-tenant-flex.yaml \
//	    internal/atlassim/testdata/openapi-clusters.json
//
// Each input is an OpenAPI 3 description (YAML or JSON). An operation, and
// each component, is taken from the first input that has it, so a fuller
// published description given first replaces the hand-written
// openapi-clusters.json (see its info.description).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// served lists the operations the simulator answers, as "METHOD path".
var served = []string{
	"GET /api/atlas/v2/groups/{groupId}",
	"GET /api/atlas/v2/groups/byName/{groupName}",
	"GET /api/atlas/v2/groups/{groupId}/teams",
	"GET /api/atlas/v2/groups/{groupId}/limits",
	"GET /api/atlas/v2/groups/{groupId}/settings",
	"GET /api/atlas/v2/groups/{groupId}/ipAddresses",
	"GET /api/atlas/v2/groups/{groupId}/managedSlowMs",
	"GET /api/atlas/v2/groups/{groupId}/users",
	"GET /api/atlas/v2/groups/{groupId}/clusters",
	"GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}",
	"GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/processArgs",
	"POST /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/tenant/download",
	"POST /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/tenant/restore",
	"GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/tenant/restores",
	"GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/tenant/restores/{restoreId}",
	"GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/tenant/snapshots",
	"GET /api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/tenant/snapshots/{snapshotId}",
	"GET /api/atlas/v2/groups/{groupId}/flexClusters",
	"GET /api/atlas/v2/groups/{groupId}/flexClusters/{name}",
	"POST /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/download",
	"GET /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/restoreJobs",
	"POST /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/restoreJobs",
	"GET /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/restoreJobs/{restoreJobId}",
	"GET /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/snapshots",
	"GET /api/atlas/v2/groups/{groupId}/flexClusters/{name}/backup/snapshots/{snapshotId}",
}

// stripped are the keys that carry prose or tooling hints, not shape.
var stripped = map[string]bool{
	"description": true, "summary": true, "example": true, "examples": true,
	"externalDocs": true, "tags": true, "title": true,
}

// nameMaps are the keys whose values map names (of properties, paths,
// media types, status codes ...) to objects: their keys are never stripped.
var nameMaps = map[string]bool{
	"properties": true, "paths": true, "content": true, "headers": true, "responses": true,
	"schemas": true, "parameters": true, "securitySchemes": true, "mapping": true,
	"scopes": true, "variables": true, "patternProperties": true, "requestBodies": true,
}

func main() {
	out := flag.String("o", "", "output file (default standard output)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/openapi-served [-o FILE] DESCRIPTION...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	data, err := build(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi-served:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(data)
	} else {
		err = os.WriteFile(*out, data, 0o644) //nolint:gosec // a committed data file, for everyone to read
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi-served:", err)
		os.Exit(1)
	}
}

type source struct {
	name string
	doc  map[string]any
}

// load reads one description. JSON is read as it is, without resolving
// references, so that a supplement may name components another input
// defines; YAML goes through the OpenAPI loader.
func load(path string) (source, error) {
	if strings.HasSuffix(path, ".json") {
		data, err := os.ReadFile(path)
		if err != nil {
			return source{}, err
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return source{}, fmt.Errorf("%s: %w", path, err)
		}
		return source{name: path, doc: m}, nil
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return source{}, fmt.Errorf("loading %s: %w", path, err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return source{}, fmt.Errorf("%s: %w", path, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return source{}, fmt.Errorf("%s: %w", path, err)
	}
	return source{name: path, doc: m}, nil
}

func build(paths []string) ([]byte, error) {
	var sources []source
	for _, p := range paths {
		s, err := load(p)
		if err != nil {
			return nil, err
		}
		sources = append(sources, s)
	}
	outPaths := map[string]any{}
	from := map[string]bool{}
	var missing []string
	for _, op := range served {
		method, path, _ := strings.Cut(op, " ")
		method = strings.ToLower(method)
		found := false
		for _, s := range sources {
			item, _ := get(s.doc, "paths", path).(map[string]any)
			operation, ok := item[method]
			if !ok {
				continue
			}
			dst, _ := outPaths[path].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				if params, ok := item["parameters"]; ok {
					dst["parameters"] = params
				}
				outPaths[path] = dst
			}
			dst[method] = operation
			from[s.name] = true
			found = true
			break
		}
		if !found {
			missing = append(missing, op)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no input has %s", strings.Join(missing, ", "))
	}

	info := map[string]any{
		"title":   "MongoDB Atlas Administration API, the operations atlas-sim serves",
		"version": "2.0",
		"x-generated-by": "go run ./scripts/openapi-served from " +
			strings.Join(usedNames(sources, from), ", ") + "; do not edit",
	}
	doc := map[string]any{"openapi": "3.0.1", "info": info, "paths": outPaths}
	first := sources[0].doc
	if lic := get(first, "info", "license"); lic != nil {
		info["license"] = lic // the terms travel with the cut
	}
	for _, key := range []string{"servers", "security"} {
		if v, ok := first[key]; ok {
			doc[key] = v
		}
	}
	components := map[string]any{}
	if schemes := get(first, "components", "securitySchemes"); schemes != nil {
		components["securitySchemes"] = schemes
	}
	// Take every component the kept parts name, and those they name in turn.
	queue := refs(doc, nil)
	seen := map[string]bool{}
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		if seen[ref] {
			continue
		}
		seen[ref] = true
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		if len(parts) != 2 {
			return nil, fmt.Errorf("unsupported reference %s", ref)
		}
		var v any
		for _, s := range sources {
			if v = get(s.doc, "components", parts[0], parts[1]); v != nil {
				break
			}
		}
		if v == nil {
			return nil, fmt.Errorf("no input defines %s", ref)
		}
		kind, _ := components[parts[0]].(map[string]any)
		if kind == nil {
			kind = map[string]any{}
			components[parts[0]] = kind
		}
		kind[parts[1]] = v
		queue = refs(v, queue)
	}
	doc["components"] = components
	cleaned, _ := strip(doc, false).(map[string]any)
	cleaned["info"] = info // its title and provenance note are not prose to strip
	// A response must have a description: keep an empty one.
	keptPaths, _ := cleaned["paths"].(map[string]any)
	for _, item := range keptPaths {
		ops, _ := item.(map[string]any)
		for _, op := range ops {
			if m, ok := op.(map[string]any); ok {
				describeResponses(m["responses"])
			}
		}
	}
	describeResponses(get(cleaned, "components", "responses"))

	raw, err := json.MarshalIndent(cleaned, "", " ")
	if err != nil {
		return nil, err
	}
	// Check that the result loads and is valid before anyone relies on it.
	check, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("the result does not load: %w", err)
	}
	if err := check.Validate(openapi3.NewLoader().Context); err != nil {
		return nil, fmt.Errorf("the result is not valid: %w", err)
	}
	return append(raw, '\n'), nil
}

func usedNames(sources []source, used map[string]bool) []string {
	var names []string
	for _, s := range sources {
		if used[s.name] {
			names = append(names, baseName(s.name))
		}
	}
	return names
}

func baseName(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

func describeResponses(v any) {
	m, _ := v.(map[string]any)
	for _, r := range m {
		if r, ok := r.(map[string]any); ok && r["$ref"] == nil {
			r["description"] = ""
		}
	}
}

// get walks nested objects by key; nil when a step is missing.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// refs appends every component reference in v ($ref values and
// discriminator mappings alike), in a stable order.
func refs(v any, acc []string) []string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			acc = refs(x[k], acc)
		}
	case []any:
		for _, e := range x {
			acc = refs(e, acc)
		}
	case string:
		if strings.HasPrefix(x, "#/components/") {
			acc = append(acc, x)
		}
	}
	return acc
}

// strip drops prose and extensions; names (the keys of a name map) stay.
func strip(v any, names bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if names {
				out[k] = strip(e, false)
				continue
			}
			if stripped[k] || strings.HasPrefix(k, "x-") {
				continue
			}
			_, isMap := e.(map[string]any)
			out[k] = strip(e, nameMaps[k] && isMap)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = strip(e, false)
		}
		return out
	}
	return v
}
