# One snapshot of an M2/M5 cluster.
data "atlas_tenant_snapshot" "this" {
  project_id   = "6568a1b2c3d4e5f601234567"
  cluster_name = "Cluster0"
  snapshot_id  = "6568a1b2c3d4e5f6000000a1"
}

output "snapshot_status" {
  value = data.atlas_tenant_snapshot.this.status
}
