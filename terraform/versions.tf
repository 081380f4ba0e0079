terraform {
  # >= 1.10 for the S3 backend's native state locking (use_lockfile, see backend.tf).
  required_version = ">= 1.10, < 2.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }
}
