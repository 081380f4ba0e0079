provider "aws" {
  region = var.region

  default_tags {
    tags = merge(
      {
        Project     = "ecomm"
        Environment = var.environment
        ManagedBy   = "terraform"
      },
      var.tags,
    )
  }
}
