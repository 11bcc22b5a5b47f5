# Download a Flex cluster's snapshot archive; without job_id the action
# requests a download job of its own. Needs Terraform 1.14 or later. Run it
# with: terraform apply -invoke=action.atlas_flex_snapshot_archive.example
action "atlas_flex_snapshot_archive" "example" {
  config {
    project_id  = "6568a1b2c3d4e5f601234567"
    name        = "Flex0"
    snapshot_id = "6568a1b2c3d4e5f6000000f1"
    path        = "${path.root}/flex-snapshot.tar.gz"
  }
}
