terraform {
  required_version = ">= 1.5"

  required_providers {
    atlas = {
      source = "atlas-community/atlas"
    }
  }
}
