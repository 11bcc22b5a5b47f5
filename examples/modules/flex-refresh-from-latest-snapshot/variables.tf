variable "source_project_id" {
  description = "Atlas project (group) ID that holds the source Flex cluster."
  type        = string
}

variable "source_name" {
  description = "Name of the source Flex cluster, whose newest completed snapshot is restored."
  type        = string
}

variable "target_name" {
  description = "Name of the Flex cluster whose data the restore replaces."
  type        = string
}

variable "target_project_id" {
  description = "Project ID of the target cluster. Defaults to source_project_id."
  type        = string
  default     = null
}

variable "refresh_key" {
  description = "Any string; changing it restores the newest snapshot again even when no newer one exists."
  type        = string
  default     = null
}

variable "timeout" {
  description = "How long an apply waits for the restore to complete."
  type        = string
  default     = "1h"
}
