# The download jobs of an M2/M5 cluster, newest first.
data "atlas_tenant_restore_jobs" "downloads" {
  project_id    = "6568a1b2c3d4e5f601234567"
  cluster_name  = "Cluster0"
  delivery_type = "DOWNLOAD"
}

output "download_job_ids" {
  value = data.atlas_tenant_restore_jobs.downloads.restore_jobs[*].id
}
