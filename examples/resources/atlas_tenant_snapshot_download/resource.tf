# Request a download link for one snapshot of an M2/M5 cluster.
resource "atlas_tenant_snapshot_download" "example" {
  project_id   = "6568a1b2c3d4e5f601234567"
  cluster_name = "Cluster0"
  snapshot_id  = "6568a1b2c3d4e5f6000000a1"
}

output "snapshot_status" {
  value = atlas_tenant_snapshot_download.example.status
}

# The link is a bearer credential valid for 4 hours: keep it sensitive.
output "snapshot_url" {
  value     = atlas_tenant_snapshot_download.example.snapshot_url
  sensitive = true
}
