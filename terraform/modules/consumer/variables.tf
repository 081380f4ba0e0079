variable "name" {
  description = "The consumer's name (from terraform/consumers/<name>.json): the target id and the suffix of its function, rule and DLQ names."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.name))
    error_message = "A consumer name is lower-case letters, digits and dashes, starting with a letter, at most 40 characters."
  }
}

variable "description" {
  description = "What the consumer does; becomes the description of its function and rule."
  type        = string
}

variable "prefix" {
  description = "The name prefix of every resource of this stack: ecomm-<environment>."
  type        = string
}

variable "event_bus_name" {
  description = "The name of the bus the consumer's rule listens on and its function publishes to."
  type        = string
}

variable "event_bus_arn" {
  description = "The ARN of that bus (events:PutEvents is granted on it and nothing else)."
  type        = string
}

variable "event_pattern" {
  description = "The rule's event pattern, as JSON (the declaration's eventPattern)."
  type        = string

  validation {
    condition     = can(jsondecode(var.event_pattern))
    error_message = "The event pattern must be JSON."
  }
}

variable "retry_policy" {
  description = "EventBridge's retry policy of the target: how long it keeps retrying a delivery that fails (throttling, timeouts) before the event goes to the DLQ."
  type = object({
    maximum_retry_attempts       = number
    maximum_event_age_in_seconds = number
  })

  validation {
    condition     = var.retry_policy.maximum_retry_attempts >= 0 && var.retry_policy.maximum_retry_attempts <= 185
    error_message = "retryPolicy.maximumRetryAttempts must be 0-185."
  }

  validation {
    condition     = var.retry_policy.maximum_event_age_in_seconds >= 60 && var.retry_policy.maximum_event_age_in_seconds <= 86400
    error_message = "retryPolicy.maximumEventAgeInSeconds must be 60-86400."
  }
}

variable "async_invoke" {
  description = "Lambda's asynchronous invocation settings: how often a failing function is retried before its event goes to the on-failure destination (the DLQ)."
  type = object({
    maximum_retry_attempts       = number
    maximum_event_age_in_seconds = number
  })

  validation {
    condition     = var.async_invoke.maximum_retry_attempts >= 0 && var.async_invoke.maximum_retry_attempts <= 2
    error_message = "asyncInvoke.maximumRetryAttempts must be 0-2."
  }

  validation {
    condition     = var.async_invoke.maximum_event_age_in_seconds >= 60 && var.async_invoke.maximum_event_age_in_seconds <= 21600
    error_message = "asyncInvoke.maximumEventAgeInSeconds must be 60-21600."
  }
}

variable "tables" {
  description = "The DynamoDB tables the function uses, by logical name: the table's name and ARN, the exact actions its code calls, and the environment variable that carries the table name."
  type = map(object({
    name    = string
    arn     = string
    actions = list(string)
    env_var = string
  }))
  default = {}

  validation {
    condition     = alltrue([for t in values(var.tables) : alltrue([for a in t.actions : can(regex("^dynamodb:[A-Za-z]+$", a))])])
    error_message = "Table actions are exact DynamoDB actions (dynamodb:GetItem, ...), never wildcards."
  }
}

variable "environment" {
  description = "Environment variables of the function besides EVENT_BUS_NAME, LOG_LEVEL and the table variables (e.g. SENDER_EMAIL)."
  type        = map(string)
  default     = {}
}

variable "policy_statements" {
  description = "Further least-privilege grants of the function's role beyond logs, its bus, its DLQ and its tables (e.g. ses:SendEmail on the sender identity). Exact actions only."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : alltrue([for a in s.actions : !strcontains(a, "*")])])
    error_message = "Policy statements name exact actions; '*' is not allowed in an action."
  }
}

variable "package_zip" {
  description = "Path of the function's zip (scripts/package-lambdas writes <artifacts dir>/<name>/bootstrap.zip, with bootstrap.arch beside it)."
  type        = string
}

variable "architecture" {
  description = "The function's instruction set: arm64 or x86_64. Must match what the zip was built for."
  type        = string

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "The function's memory in MB."
  type        = number
}

variable "timeout" {
  description = "The function's timeout in seconds. Must stay below the 2-minute in-progress lock of the idempotency store, so a slow attempt is never run twice at the same time."
  type        = number

  validation {
    condition     = var.timeout >= 1 && var.timeout < 120
    error_message = "The function timeout must be 1-119 s: the idempotency lock lasts 2 minutes."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function; null leaves it unreserved. Throttled async invokes wait in Lambda's queue up to async_invoke.maximum_event_age_in_seconds, then go to the DLQ."
  type        = number
  default     = null
}

variable "log_level" {
  description = "LOG_LEVEL of the function: debug or trace keep DEBUG lines, anything else keeps INFO and above."
  type        = string
}

variable "log_retention_days" {
  description = "How long the function's log group keeps its logs."
  type        = number
}

variable "dlq_message_retention_seconds" {
  description = "How long the DLQ keeps a message (SQS maximum: 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "SQS keeps messages 60 s to 14 days."
  }
}

variable "dlq_oldest_message_alarm_seconds" {
  description = "The DLQ age alarm fires when its oldest message is older than this: a failure nobody has handled."
  type        = number
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm of this consumer fires or recovers (e.g. the on-call SNS topic)."
  type        = list(string)
  default     = []
}

variable "on_failure" {
  description = "Where Lambda sends a function error's record after its async retries: the DLQ (sqs) or a bucket of the consumer's own (s3, for payloads near 1 MB). From the declaration's onFailure."
  type        = string
  default     = "sqs"

  validation {
    condition     = contains(["sqs", "s3"], var.on_failure)
    error_message = "on_failure is sqs or s3."
  }
}
