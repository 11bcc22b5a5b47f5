# The download jobs of an M2/M5 cluster, newest first. Their snapshot_url is
# null: with include_links = true the links are read too, and stored in the
# state (marked sensitive), including those the ephemeral resources requested.
data "atlas_tenant_restore_jobs" "downloads" {
  project_id    = "6568a1b2c3d4e5f601234567"
  cluster_name  = "Cluster0"
  delivery_type = "DOWNLOAD"
}

output "download_job_ids" {
  value = data.atlas_tenant_restore_jobs.downloads.restore_jobs[*].id
}
