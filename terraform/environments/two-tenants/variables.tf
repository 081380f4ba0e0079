variable "region" {
  description = "The platform stack's region (EventBridge forwards within a region)."
  type        = string
  default     = "eu-west-1"
}

variable "central_bus_arn" {
  description = "The platform stack's event_bus_arn output."
  type        = string
}

variable "tenant_accounts" {
  description = "Tenant name => account id: the same map as the platform stack's tenant_accounts."
  type        = map(string)
  default = {
    brand-a = "111122223333"
    brand-b = "444455556666"
  }
}

variable "deploy_role_name" {
  description = "The role Terraform assumes in each tenant account."
  type        = string
  default     = "ecomm-deploy"
}

variable "artifacts_dir" {
  description = "Where scripts/package-lambdas wrote the zips."
  type        = string
  default     = "../../../target/lambda"
}
