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

  lifecycle {
    # Without a completed snapshot there is nothing to download; say so
    # rather than let a null snapshot_id fail with a generic error.
    precondition {
      condition     = data.atlas_flex_snapshots.this.latest_completed_id != null
      error_message = "Flex cluster \"${var.cluster_name}\" in project ${var.project_id} has no COMPLETED snapshot, so there is nothing to download yet. Wait until Atlas has finished a backup of it (the atlas_flex_snapshots data source lists its snapshots and their status), then apply again."
    }
  }
}
