# Uses the module in ../modules/flex-latest-snapshot-download against the
# simulator's default seed: `make demo` runs it.
terraform {
  required_version = ">= 1.5"

  required_providers {
    atlas = {
      source = "atlas-community/atlas"
    }
  }
}

variable "base_url" {
  description = "Atlas base URL; scripts/demo.sh sets it to the simulator's address."
  type        = string
  default     = "http://127.0.0.1:8080"
}

# Keys come from MONGODB_ATLAS_PUBLIC_KEY and MONGODB_ATLAS_PRIVATE_KEY.
provider "atlas" {
  base_url = var.base_url
}

module "latest" {
  source       = "../modules/flex-latest-snapshot-download"
  project_id   = "6568a1b2c3d4e5f601234567"
  cluster_name = "Flex0"
}

output "job_id" {
  value = module.latest.job_id
}

output "snapshot_id" {
  value = module.latest.snapshot_id
}

output "status" {
  value = module.latest.status
}

output "expiration_date" {
  value = module.latest.expiration_date
}

output "snapshot_url" {
  value     = module.latest.snapshot_url
  sensitive = true
}
