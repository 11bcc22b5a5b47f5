# Terraform 1.10 or later. The link is requested while Terraform runs and
# never written to the plan or the state.
ephemeral "atlas_tenant_snapshot_download" "link" {
  project_id   = "6568a1b2c3d4e5f601234567"
  cluster_name = "Cluster0"
  snapshot_id  = "6568a1b2c3d4e5f6000000a1"
}

# Values derived from it are ephemeral as well. Hand them only to places
# that accept ephemeral values: another provider's configuration, a
# write-only argument, or an output marked `ephemeral = true` in a child
# module.
locals {
  snapshot_link = ephemeral.atlas_tenant_snapshot_download.link.snapshot_url
  link_expires  = ephemeral.atlas_tenant_snapshot_download.link.expiration_date
}
