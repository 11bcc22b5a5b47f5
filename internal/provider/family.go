// SPDX-License-Identifier: MPL-2.0

package provider

// The two endpoint families of a download, as the provider describes them:
// everything else about a download (its resource, ephemeral resource, list
// resource, data sources and action) is written once for both.

import (
	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

// downloadKind is what one family says about itself.
type downloadKind struct {
	// typeSuffix follows the provider name in the type name.
	typeSuffix string
	family     *atlas.Family
	// clusterAttr names the attribute holding the cluster name.
	clusterAttr string
	// clusterNoun is how the docs speak of the cluster ("M2/M5 cluster").
	clusterNoun string
	// description introduces the resource in its docs; summary says in a
	// phrase what is downloaded, for the ephemeral resource's docs.
	description string
	summary     string
	// object is what a message names when it points to the other family's
	// equivalent: the part of the type name after the family
	// ("snapshot_download", or a data source's "restore_jobs"). "" means
	// the download resource.
	object string
}

// as is the kind as a data source of the given suffix speaks of itself.
func (k downloadKind) as(object string) downloadKind {
	k.object = object
	return k
}

// tenantDownload is the M2/M5 (tenant) family.
var tenantDownload = downloadKind{
	typeSuffix:  "tenant_snapshot_download",
	family:      atlas.TenantV1,
	clusterAttr: "cluster_name",
	clusterNoun: "M2/M5 (tenant) cluster",
	summary:     "a backup snapshot of an Atlas M2/M5 (tenant) cluster",
	description: "Requests a download link for a backup snapshot of an Atlas M2/M5 (tenant) cluster, waits " +
		"until Atlas has prepared it, and keeps the link and its expiry in the state.\n\n" +
		"Atlas keeps a link valid for four hours. A plan after that (or within `renew_before` of it) " +
		"replaces the resource to request a new one. Atlas has no call to delete or cancel a download " +
		"job, so destroying this resource only removes it from the state; the link expires by itself.\n\n" +
		"~> Atlas retired the tenant backup endpoints on 2026-01-22, when M2/M5 clusters became Flex " +
		"clusters; this resource serves clusters and Atlas installations that still answer them.",
}

// flexDownload is the Flex family.
var flexDownload = downloadKind{
	typeSuffix:  "flex_snapshot_download",
	family:      atlas.Flex,
	clusterAttr: "name",
	clusterNoun: "Flex cluster",
	summary:     "a backup snapshot of an Atlas Flex cluster",
	description: "Requests a download link for a backup snapshot of an Atlas Flex cluster, waits until Atlas " +
		"has prepared it, and keeps the link and its expiry.\n\n" +
		"Atlas keeps a link valid for four hours. Flex clusters replaced M2/M5 clusters on 2026-01-22; " +
		"for clusters still served by the tenant endpoints use `atlas_tenant_snapshot_download`.",
}

// Shared descriptions of the arguments that address a snapshot.
const (
	projectIDDoc  = "Id of the Atlas project (group) that holds the cluster: 24 lowercase hexadecimal digits."
	snapshotIDDoc = "Id of the backup snapshot to download: 24 lowercase hexadecimal digits. The snapshot must be `COMPLETED`."
)

func clusterDoc(k downloadKind) string {
	return "Name of the " + k.clusterNoun + "."
}
