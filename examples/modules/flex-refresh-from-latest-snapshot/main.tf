# Refreshes a target Flex cluster from the newest completed snapshot of a
# source Flex cluster. The restore replaces all data on the target. It runs
# on the first apply, and again on any apply after Atlas has finished a
# newer backup of the source (or after refresh_key changes); never merely
# because time passed.
data "atlas_flex_snapshots" "source" {
  project_id = var.source_project_id
  name       = var.source_name
  status     = "COMPLETED"
}

resource "atlas_flex_snapshot_restore" "this" {
  project_id        = var.source_project_id
  name              = var.source_name
  snapshot_id       = data.atlas_flex_snapshots.source.latest_completed_id
  target_name       = var.target_name
  target_project_id = var.target_project_id
  triggers          = var.refresh_key == null ? null : { refresh_key = var.refresh_key }

  timeouts {
    create = var.timeout
    update = var.timeout
  }

  lifecycle {
    # Without a completed snapshot there is nothing to restore; say so
    # rather than let a null snapshot_id fail with a generic error.
    precondition {
      condition     = data.atlas_flex_snapshots.source.latest_completed_id != null
      error_message = "Flex cluster \"${var.source_name}\" in project ${var.source_project_id} has no COMPLETED snapshot, so there is nothing to restore yet. Wait until Atlas has finished a backup of it (the atlas_flex_snapshots data source lists its snapshots and their status), then apply again."
    }
  }
}
