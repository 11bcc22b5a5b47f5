import {
  to = atlas_tenant_snapshot_download.example
  identity = {
    project_id   = "6568a1b2c3d4e5f601234567"
    cluster_name = "Cluster0"
    job_id       = "6568a1b2c3d4e5f60000f001"
  }
}
