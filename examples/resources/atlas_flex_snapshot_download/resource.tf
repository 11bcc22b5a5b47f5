# Request a download link for one snapshot of a Flex cluster.
resource "atlas_flex_snapshot_download" "example" {
  project_id  = "6568a1b2c3d4e5f601234567"
  name        = "Flex0"
  snapshot_id = "6568a1b2c3d4e5f6000000f1"

  # Request a fresh link when the current one has less than an hour left.
  renew_before = "1h"
}

output "flex_download_expires" {
  value = atlas_flex_snapshot_download.example.expiration_date
}
