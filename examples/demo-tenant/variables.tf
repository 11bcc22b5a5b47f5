variable "base_url" {
  description = "Atlas base URL. scripts/demo.sh sets it to the simulator's address through TF_VAR_base_url."
  type        = string
  default     = "http://127.0.0.1:8080"
}

# These IDs match the simulator's default seed.
variable "project_id" {
  description = "Atlas project (group) ID."
  type        = string
  default     = "6568a1b2c3d4e5f601234567"
}

variable "cluster_name" {
  description = "Name of the M2/M5 cluster."
  type        = string
  default     = "Cluster0"
}

variable "snapshot_id" {
  description = "Snapshot to download; the default is the newest COMPLETED snapshot of the seed."
  type        = string
  default     = "6568a1b2c3d4e5f6000000a1"
}
