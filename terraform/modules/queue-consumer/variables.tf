variable "name" {
  description = "The consumer's name (from terraform/consumers/<name>.json): the target id and the suffix of its queue, rule and DLQ names."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.name))
    error_message = "A consumer name is lower-case letters, digits and dashes, starting with a letter, at most 40 characters."
  }
}

variable "description" {
  description = "What the consumer does; becomes the description of its rule."
  type        = string
}

variable "prefix" {
  description = "The name prefix of every resource of this stack: ecomm-<environment>."
  type        = string
}

variable "event_bus_name" {
  description = "The name of the bus the consumer's rule listens on."
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

variable "fifo" {
  description = "Whether the target queue is FIFO (<prefix>-<name>.fifo): events in the order EventBridge delivers them, per message group."
  type        = bool
}

variable "message_group_id" {
  description = "The target's SqsParameters.MessageGroupId (FIFO queues; null otherwise)."
  type        = string
  default     = null

  validation {
    condition     = var.message_group_id == null || try(length(var.message_group_id) <= 128, false)
    error_message = "A message group id is at most 128 characters."
  }
}

variable "input_transformer" {
  description = "The target's input transformer (the declaration's inputTransformer), or null for the event as it is."
  type = object({
    input_paths    = map(string)
    input_template = string
  })
  default = null
}

variable "queue_message_retention_seconds" {
  description = "How long the target queue keeps a message (SQS maximum: 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.queue_message_retention_seconds >= 60 && var.queue_message_retention_seconds <= 1209600
    error_message = "SQS keeps messages 60 s to 14 days."
  }
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

variable "reader" {
  description = "The consumer's function behind the queue (an SQS event source mapping with partial batch responses) and the queue's redrive policy to its own DLQ; null when something outside reads the queue."
  type = object({
    batch_size                 = number
    max_receive_count          = number
    visibility_timeout_seconds = number
    package_zip                = string
    architecture               = string
    memory_size                = number
    timeout                    = number
    log_level                  = string
    log_retention_days         = number
    tables = map(object({
      name    = string
      arn     = string
      env_var = string
      actions = list(string)
    }))
  })
  default = null

  validation {
    condition     = var.reader == null || try(var.reader.batch_size >= 1 && var.reader.batch_size <= 10, false)
    error_message = "reader.batch_size must be 1-10 (a FIFO source takes at most 10)."
  }

  validation {
    condition     = var.reader == null || try(var.reader.max_receive_count >= 1 && var.reader.max_receive_count <= 1000, false)
    error_message = "reader.max_receive_count must be 1-1000."
  }
}
