# Download a snapshot's archive to a local file once the download job
# exists, reusing that job's link. Needs Terraform 1.14 or later.
resource "atlas_tenant_snapshot_download" "example" {
  project_id   = "6568a1b2c3d4e5f601234567"
  cluster_name = "Cluster0"
  snapshot_id  = "6568a1b2c3d4e5f6000000a1"

  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.atlas_tenant_snapshot_archive.example]
    }
  }
}

# The archive goes to path (through a temporary file beside it), with its
# checksum in path.sha256 (check it with `sha256sum -c`). Run it by hand
# too: terraform apply -invoke=action.atlas_tenant_snapshot_archive.example
action "atlas_tenant_snapshot_archive" "example" {
  config {
    project_id   = "6568a1b2c3d4e5f601234567"
    cluster_name = "Cluster0"
    snapshot_id  = "6568a1b2c3d4e5f6000000a1"
    job_id       = atlas_tenant_snapshot_download.example.id
    path         = "${path.root}/snapshot.tar.gz"
    overwrite    = true

    timeouts {
      invoke = "1h"
    }
  }
}
