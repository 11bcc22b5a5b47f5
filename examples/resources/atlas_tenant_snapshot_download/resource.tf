# Request a download link for one snapshot of an M2/M5 cluster.
resource "atlas_tenant_snapshot_download" "example" {
  project_id   = "6568a1b2c3d4e5f601234567"
  cluster_name = "Cluster0"
  snapshot_id  = "6568a1b2c3d4e5f6000000a1"
}

# Keep a link that always has at least 30 minutes left, and request a new
# one whenever a trigger changes. A daily rotation can come from the
# hashicorp/time provider:
#   resource "time_rotating" "daily" { rotation_days = 1 }
#   triggers = { rotation = time_rotating.daily.id }
variable "rotation" {
  type    = string
  default = "2026-11-28"
}

resource "atlas_tenant_snapshot_download" "rotating" {
  project_id   = "6568a1b2c3d4e5f601234567"
  cluster_name = "Cluster0"
  snapshot_id  = "6568a1b2c3d4e5f6000000a1"
  renew_before = "30m"

  triggers = {
    rotation = var.rotation
  }

  timeouts {
    create = "15m"
  }
}

output "snapshot_status" {
  value = atlas_tenant_snapshot_download.example.status
}

# The link is a bearer credential valid for 4 hours: keep it sensitive.
output "snapshot_url" {
  value     = atlas_tenant_snapshot_download.example.snapshot_url
  sensitive = true
}
