# Refresh a staging Flex cluster from production's newest completed
# snapshot. The restore replaces all data on Staging0. It runs again only
# when snapshot_id, the target or triggers change: here, whenever Atlas has
# taken a newer backup and the configuration is applied.
data "atlas_flex_snapshots" "production" {
  project_id = "6568a1b2c3d4e5f601234567"
  name       = "Flex0"
  status     = "COMPLETED"
}

resource "atlas_flex_snapshot_restore" "staging" {
  project_id  = "6568a1b2c3d4e5f601234567"
  name        = "Flex0"
  snapshot_id = data.atlas_flex_snapshots.production.latest_completed_id
  target_name = "Staging0"

  # Change the value to restore the same snapshot again.
  triggers = {
    refresh = "2026-12-01"
  }

  timeouts {
    create = "1h"
  }
}

output "staging_restored_at" {
  value = atlas_flex_snapshot_restore.staging.restore_finished_date
}
