# Terraform 1.10 or later. The link is requested while Terraform runs and
# never written to the plan or the state; pass it only to ephemeral
# contexts, such as another provider's configuration or an ephemeral output.
ephemeral "atlas_tenant_snapshot_download" "link" {
  project_id   = "6568a1b2c3d4e5f601234567"
  cluster_name = "Cluster0"
  snapshot_id  = "6568a1b2c3d4e5f6000000a1"
}

output "link_expires" {
  value     = ephemeral.atlas_tenant_snapshot_download.link.expiration_date
  ephemeral = true
}
