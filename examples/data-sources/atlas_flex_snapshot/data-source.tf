# One snapshot of a Flex cluster.
data "atlas_flex_snapshot" "this" {
  project_id  = "6568a1b2c3d4e5f601234567"
  name        = "Flex0"
  snapshot_id = "6568a1b2c3d4e5f6000000f1"
}

output "snapshot_status" {
  value = data.atlas_flex_snapshot.this.status
}
