variable "prefix" {
  description = "Name prefix of everything here: ecomm-<environment>, or ecomm-<environment>-<tenant> in a tenant account."
  type        = string
}

variable "event_bus_name" {
  description = "The bus the producer publishes OrderCreated to."
  type        = string
}

variable "event_bus_arn" {
  description = "That bus's ARN: the producer's only events:PutEvents grant."
  type        = string
}

variable "artifacts_dir" {
  description = "Where scripts/package-lambdas wrote order-producer/bootstrap.zip and its .arch marker."
  type        = string
}

variable "lambda_architecture" {
  description = "arm64 or x86_64; must match the zip's .arch marker."
  type        = string
}

variable "function_memory_mb" {
  description = "Memory of the function."
  type        = number
}

variable "function_timeout_seconds" {
  description = "Timeout of the function."
  type        = number
}

variable "reserved_concurrency" {
  description = "Reserved (and maximum) concurrent executions; null leaves it unreserved."
  type        = number
  default     = null
}

variable "log_level" {
  description = "LOG_LEVEL of the function."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the function's log group and of the API's access logs."
  type        = number
}

variable "orders_api_authorization" {
  description = "Authorization of POST /orders: AWS_IAM or NONE."
  type        = string
}

variable "orders_api_throttle" {
  description = "Steady requests per second and burst of the HTTP API's default route settings."
  type = object({
    rate_limit  = number
    burst_limit = number
  })
}

variable "tenant_id" {
  description = "The tenant whose orders these are (TENANT_ID, the events' tenantId); null in the platform stack, whose events belong to the default tenant."
  type        = string
  default     = null
}
