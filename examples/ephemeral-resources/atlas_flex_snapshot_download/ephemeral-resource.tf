# Terraform 1.10 or later: a link to the newest completed snapshot of a
# Flex cluster that never reaches the plan or the state.
data "atlas_flex_snapshots" "this" {
  project_id = "6568a1b2c3d4e5f601234567"
  name       = "Flex0"
}

ephemeral "atlas_flex_snapshot_download" "latest" {
  project_id  = "6568a1b2c3d4e5f601234567"
  name        = "Flex0"
  snapshot_id = data.atlas_flex_snapshots.this.latest_completed_id
}

# Ephemeral too: pass it to a provider configuration, a write-only argument
# or an ephemeral output of a child module.
locals {
  latest_link = ephemeral.atlas_flex_snapshot_download.latest.snapshot_url
}
