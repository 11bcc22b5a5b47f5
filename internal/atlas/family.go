// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"errors"
	"net/url"
)

// Family is one set of backup endpoints: the M2/M5 tenant paths or the Flex
// paths. Everything that differs between them is data here, so the calls
// and the download lifecycle above them are written once.
type Family struct {
	// Name is a short label for messages ("tenant", "flex").
	Name string
	// prefix is the API root, such as /api/atlas/v1.0.
	prefix string
	// mediaType goes in Accept, and in Content-Type on writes.
	mediaType string
	// clusters and backup are the path pieces around the cluster name:
	// {prefix}/groups/{id}/{clusters}/{name}/{backup}/...
	clusters, backup string
	// restores names the collection of restore jobs; restore is where a
	// restore onto a cluster is requested.
	restores, restore string
}

// TenantV1 is the v1.0 tenant (M2/M5) backup API.
var TenantV1 = &Family{
	Name:      "tenant",
	prefix:    "/api/atlas/v1.0",
	mediaType: "application/json",
	clusters:  "clusters",
	backup:    "backup/tenant",
	restores:  "restores",
	restore:   "restore",
}

// Flex is the v2 Flex cluster backup API.
var Flex = &Family{
	Name:      "flex",
	prefix:    "/api/atlas/v2",
	mediaType: "application/vnd.atlas.2024-11-13+json",
	clusters:  "flexClusters",
	backup:    "backup",
	restores:  "restoreJobs",
	restore:   "restoreJobs",
}

// Cluster addresses one cluster's backups in a family.
type Cluster struct {
	Family    *Family
	ProjectID string
	Name      string
}

func (c Cluster) familyName() string {
	if c.Family == nil {
		return "an unknown"
	}
	return "the " + c.Family.Name
}

// path is the cluster's backup root followed by fixed segments and, last,
// an optional id. Every value is escaped so that none can change which
// endpoint is called.
func (c Cluster) path(fixed string, id ...string) string {
	p := c.Family.prefix + "/groups/" + segment(c.ProjectID) + "/" + c.Family.clusters + "/" +
		segment(c.Name) + "/" + c.Family.backup + "/" + fixed
	for _, e := range id {
		p += "/" + segment(e)
	}
	return p
}

// segment escapes one path element, dots included: "." and ".." would be
// resolved away by servers and proxies.
func segment(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

// check refuses an address with an empty element, which would also change
// the path's meaning.
func (c Cluster) check(ids ...string) error {
	if c.Family == nil {
		return errors.New("atlas: no endpoint family given")
	}
	if c.ProjectID == "" || c.Name == "" {
		return errors.New("atlas: the project id and cluster name must not be empty")
	}
	for _, id := range ids {
		if id == "" {
			return errors.New("atlas: an id in the request path is empty")
		}
	}
	return nil
}
