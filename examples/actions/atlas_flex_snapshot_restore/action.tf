# Restore a Flex snapshot onto another Flex cluster each time the action is
# invoked, replacing all of its data. Needs Terraform 1.14 or later. Run it
# with: terraform apply -invoke=action.atlas_flex_snapshot_restore.example
action "atlas_flex_snapshot_restore" "example" {
  config {
    project_id  = "6568a1b2c3d4e5f601234567"
    name        = "Flex0"
    snapshot_id = "6568a1b2c3d4e5f6000000f1"
    target_name = "Staging0"
  }
}
