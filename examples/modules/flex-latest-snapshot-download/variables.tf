variable "project_id" {
  description = "Atlas project (group) ID that holds the Flex cluster."
  type        = string
}

variable "cluster_name" {
  description = "Name of the Flex cluster."
  type        = string
}

variable "renew_before" {
  description = "Request a new link when the current one expires within this duration."
  type        = string
  default     = "30m"
}
