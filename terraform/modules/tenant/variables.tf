variable "tenant" {
  description = "The tenant's short name (brand-a): part of every name here."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]{1,20}$", var.tenant))
    error_message = "tenant must be 1-20 lowercase letters, digits or dashes."
  }
}

variable "environment" {
  description = "staging or prod: the environment of the central stack these events go to."
  type        = string
}

variable "central_bus_arn" {
  description = "The central bus in the platform account (the platform stack's event_bus_arn output). Its policy must admit this account (tenant_accounts there)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._-]+$", var.central_bus_arn))
    error_message = "central_bus_arn must be an event bus ARN."
  }
}

variable "retry_policy" {
  description = "EventBridge's retries of a forward before it goes to the forward DLQ; null keeps forward.json's."
  type = object({
    maximum_retry_attempts       = number
    maximum_event_age_in_seconds = number
  })
  default = null
}

variable "dlq_message_retention_seconds" {
  description = "How long the forward DLQ keeps a message (the SQS maximum, 14 days, by default)."
  type        = number
  default     = 1209600
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires or recovers (the on-call SNS topic)."
  type        = list(string)
  default     = []
}

variable "artifacts_dir" {
  description = "Where scripts/package-lambdas wrote the zips (order-producer/bootstrap.zip)."
  type        = string
}

variable "lambda_architecture" {
  description = "arm64 or x86_64; must match the zip's .arch marker."
  type        = string
  default     = "arm64"
}

variable "function_memory_mb" {
  description = "Memory of the producer."
  type        = number
  default     = 256
}

variable "function_timeout_seconds" {
  description = "Timeout of the producer."
  type        = number
  default     = 30
}

variable "producer_reserved_concurrency" {
  description = "Reserved concurrency of the producer; null leaves it unreserved."
  type        = number
  default     = null
}

variable "log_level" {
  description = "LOG_LEVEL of the producer."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the producer's log group and the API's access logs."
  type        = number
  default     = 30
}

variable "orders_api_authorization" {
  description = "Authorization of POST /orders: AWS_IAM or NONE."
  type        = string
  default     = "AWS_IAM"
}

variable "orders_api_throttle" {
  description = "Steady requests per second and burst of the HTTP API."
  type = object({
    rate_limit  = number
    burst_limit = number
  })
  default = {
    rate_limit  = 50
    burst_limit = 100
  }
}
