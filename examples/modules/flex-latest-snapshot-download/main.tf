# Downloads the newest completed snapshot of a Flex cluster.
data "atlas_flex_snapshots" "this" {
  project_id = var.project_id
  name       = var.cluster_name
  status     = "COMPLETED"
}

resource "atlas_flex_snapshot_download" "latest" {
  project_id   = var.project_id
  name         = var.cluster_name
  snapshot_id  = data.atlas_flex_snapshots.this.latest_completed_id
  renew_before = var.renew_before
}
