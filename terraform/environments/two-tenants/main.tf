# An example of two tenant accounts forwarding to the prod platform stack (terraform/ applied
# with environments/prod.tfvars and tenant_accounts = { brand-a = "...", brand-b = "..." }).
# Apply it after the platform stack, with credentials that may assume deploy_role_name in
# each tenant account:
#
#   terraform -chdir=terraform/environments/two-tenants init
#   terraform -chdir=terraform/environments/two-tenants apply -var central_bus_arn=<event_bus_arn>
#
# docs/deploy.md says in which order, and with which IAM.

provider "aws" {
  alias  = "brand_a"
  region = var.region

  assume_role {
    role_arn = "arn:aws:iam::${var.tenant_accounts["brand-a"]}:role/${var.deploy_role_name}"
  }

  default_tags {
    tags = { Project = "ecomm", Environment = "prod", Tenant = "brand-a", ManagedBy = "terraform" }
  }
}

provider "aws" {
  alias  = "brand_b"
  region = var.region

  assume_role {
    role_arn = "arn:aws:iam::${var.tenant_accounts["brand-b"]}:role/${var.deploy_role_name}"
  }

  default_tags {
    tags = { Project = "ecomm", Environment = "prod", Tenant = "brand-b", ManagedBy = "terraform" }
  }
}

module "brand_a" {
  source    = "../../modules/tenant"
  providers = { aws = aws.brand_a }

  tenant          = "brand-a"
  environment     = "prod"
  central_bus_arn = var.central_bus_arn
  artifacts_dir   = var.artifacts_dir
}

module "brand_b" {
  source    = "../../modules/tenant"
  providers = { aws = aws.brand_b }

  tenant          = "brand-b"
  environment     = "prod"
  central_bus_arn = var.central_bus_arn
  artifacts_dir   = var.artifacts_dir
}
