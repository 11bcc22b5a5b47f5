# List a cluster's download jobs that have a working link:
#   terraform query -generate-config-out=imported.tf
# writes an import block (by identity) and a resource block for each.
list "atlas_tenant_snapshot_download" "live" {
  provider = atlas

  config {
    project_id      = "6568a1b2c3d4e5f601234567"
    cluster_name    = "Cluster0"
    only_live_links = true
  }
}
