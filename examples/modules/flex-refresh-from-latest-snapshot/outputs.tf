output "job_id" {
  description = "ID of the restore job."
  value       = atlas_flex_snapshot_restore.this.id
}

output "snapshot_id" {
  description = "ID of the snapshot restored: the newest completed one when the restore ran."
  value       = atlas_flex_snapshot_restore.this.snapshot_id
}

output "status" {
  description = "Status of the restore job."
  value       = atlas_flex_snapshot_restore.this.status
}

output "restore_finished_date" {
  description = "When the restore finished (RFC 3339)."
  value       = atlas_flex_snapshot_restore.this.restore_finished_date
}
