import {
  to = atlas_flex_snapshot_restore.staging
  identity = {
    project_id = "6568a1b2c3d4e5f601234567"
    name       = "Flex0"
    job_id     = "6568a1b2c3d4e5f60000f001"
  }
}
