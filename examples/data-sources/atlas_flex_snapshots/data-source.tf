# Every snapshot of a Flex cluster, newest first, and the newest completed one.
data "atlas_flex_snapshots" "all" {
  project_id = "6568a1b2c3d4e5f601234567"
  name       = "Flex0"
}

# Only completed snapshots taken in November 2026.
data "atlas_flex_snapshots" "november" {
  project_id = "6568a1b2c3d4e5f601234567"
  name       = "Flex0"
  status     = "COMPLETED"
  since      = "2026-11-01T00:00:00Z"
  until      = "2026-12-01T00:00:00Z"
}

output "latest_completed_snapshot" {
  value = data.atlas_flex_snapshots.all.latest_completed_id
}

output "november_snapshot_ids" {
  value = data.atlas_flex_snapshots.november.snapshots[*].id
}
