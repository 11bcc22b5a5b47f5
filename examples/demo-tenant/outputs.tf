output "job_id" {
  description = "ID of the download (restore) job."
  value       = atlas_tenant_snapshot_download.newest.id
}

output "status" {
  description = "Status of the download job."
  value       = atlas_tenant_snapshot_download.newest.status
}

output "expiration_date" {
  description = "When the download link stops working."
  value       = atlas_tenant_snapshot_download.newest.expiration_date
}

output "snapshot_url" {
  description = "Download link for the snapshot archive; valid for 4 hours."
  value       = atlas_tenant_snapshot_download.newest.snapshot_url
  sensitive   = true
}
