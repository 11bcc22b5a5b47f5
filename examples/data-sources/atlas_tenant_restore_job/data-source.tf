# One restore or download job of an M2/M5 cluster, for example one made outside
# Terraform.
data "atlas_tenant_restore_job" "this" {
  project_id   = "6568a1b2c3d4e5f601234567"
  cluster_name = "Cluster0"
  job_id       = "6568a1b2c3d4e5f60000f001"
}

output "job_status" {
  value = data.atlas_tenant_restore_job.this.status
}
