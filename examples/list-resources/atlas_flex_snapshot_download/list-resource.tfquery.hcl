# List every download job of a Flex cluster: terraform query
list "atlas_flex_snapshot_download" "all" {
  provider = atlas

  config {
    project_id = "6568a1b2c3d4e5f601234567"
    name       = "Flex0"
  }
}
