# Keys come from MONGODB_ATLAS_PUBLIC_KEY and MONGODB_ATLAS_PRIVATE_KEY.
provider "atlas" {
  base_url = var.base_url
}

resource "atlas_tenant_snapshot_download" "newest" {
  project_id   = var.project_id
  cluster_name = var.cluster_name
  snapshot_id  = var.snapshot_id
}
