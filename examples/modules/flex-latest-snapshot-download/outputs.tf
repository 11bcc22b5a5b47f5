output "job_id" {
  description = "ID of the download job."
  value       = atlas_flex_snapshot_download.latest.id
}

output "snapshot_id" {
  description = "ID of the snapshot being downloaded: the newest completed one."
  value       = atlas_flex_snapshot_download.latest.snapshot_id
}

output "status" {
  description = "Status of the download job."
  value       = atlas_flex_snapshot_download.latest.status
}

output "expiration_date" {
  description = "When the download link stops working (RFC 3339)."
  value       = atlas_flex_snapshot_download.latest.expiration_date
}

output "snapshot_url" {
  description = "The download link."
  value       = atlas_flex_snapshot_download.latest.snapshot_url
  sensitive   = true
}
