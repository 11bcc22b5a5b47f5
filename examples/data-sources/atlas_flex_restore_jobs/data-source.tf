# The download jobs of a Flex cluster, newest first. Their snapshot_url is null:
# with include_links = true the links are read too, and stored in the state
# (marked sensitive), including those the ephemeral resources requested.
data "atlas_flex_restore_jobs" "downloads" {
  project_id    = "6568a1b2c3d4e5f601234567"
  name          = "Flex0"
  delivery_type = "DOWNLOAD"
}

output "download_job_ids" {
  value = data.atlas_flex_restore_jobs.downloads.restore_jobs[*].id
}
