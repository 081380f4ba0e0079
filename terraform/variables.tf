variable "environment" {
  description = "The environment this stack is: every name starts with ecomm-<environment> (bus, functions, DLQs, rules, tables), the scheme the local stack and `ecomm` use too."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "environment is 2-12 lower-case letters and digits (e.g. staging, prod)."
  }
}

variable "region" {
  description = "The AWS region of the whole stack (the bus, its rules and their DLQs must share one region)."
  type        = string
}

variable "tags" {
  description = "Extra tags for every resource, on top of Project, Environment and ManagedBy."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Packages

variable "artifacts_dir" {
  description = "Directory holding <function>/bootstrap.zip and <function>/bootstrap.arch as scripts/package-lambdas writes them; null means the workspace's target/lambda."
  type        = string
  default     = null
}

variable "lambda_architecture" {
  description = "Instruction set of every function: arm64 (cheaper per GB-second) or x86_64. The zips must have been built for it (scripts/package-lambdas --arch ...)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

# ---------------------------------------------------------------------------------------------
# Functions

variable "function_memory_mb" {
  description = "Memory of every function in MB (CPU grows with it)."
  type        = number
  default     = 256

  validation {
    condition     = var.function_memory_mb >= 128 && var.function_memory_mb <= 10240
    error_message = "Lambda memory is 128-10240 MB."
  }
}

variable "function_timeout_seconds" {
  description = "Timeout of every function. Must stay below the consumers' 2-minute idempotency lock (the payment call alone may take 10 s)."
  type        = number
  default     = 30

  validation {
    condition     = var.function_timeout_seconds >= 15 && var.function_timeout_seconds < 120
    error_message = "function_timeout_seconds must be 15-119: at least the payment call's 10 s plus margin, and below the 2-minute idempotency lock."
  }
}

variable "reserved_concurrency" {
  description = "Reserved (and maximum) concurrent executions per function name (order-producer, inventory, ...). A missing name or null leaves that function unreserved. The account must keep at least 100 unreserved executions."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for n in values(var.reserved_concurrency) : n == null ? true : n >= 1])
    error_message = "Reserved concurrency is at least 1 (0 would stop the function)."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every function: debug or trace keep DEBUG lines, anything else INFO and above."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of every function's log group and of the API's access logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

# ---------------------------------------------------------------------------------------------
# Bus

variable "archive_retention_days" {
  description = "How long the bus's archive keeps every event for disaster replays (0 = forever)."
  type        = number
  default     = 30

  validation {
    condition     = var.archive_retention_days >= 0
    error_message = "archive_retention_days is 0 (forever) or more."
  }
}

# ---------------------------------------------------------------------------------------------
# Consumers' dependencies

variable "sender_email" {
  description = "The notification function's sender address (SENDER_EMAIL); it must be verified in SES in this region."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.sender_email))
    error_message = "sender_email must be an email address."
  }
}

variable "ses_identity" {
  description = "The SES identity the sender is verified through: the address itself, or its domain. null means the address. ses:SendEmail is granted on this identity only."
  type        = string
  default     = null
}

variable "ses_recipient_identities" {
  description = "Extra SES identities ses:SendEmail is granted on. Only for an account still in the SES sandbox, where SES also authorizes each (verified) recipient; leave empty in production."
  type        = list(string)
  default     = []
}

variable "payment_api_url" {
  description = "Base URL of the payment provider's API (PAYMENT_API_URL of the refund function), e.g. https://api.stripe.com/v1."
  type        = string

  validation {
    condition     = startswith(var.payment_api_url, "https://")
    error_message = "payment_api_url must be https://."
  }
}

variable "payment_api_key_secret_id" {
  description = "Name or ARN of the Secrets Manager secret whose SecretString is the payment API key. Read at deploy time into the refund function's PAYMENT_API_KEY (and so into the state: keep the state bucket private)."
  type        = string
}

# ---------------------------------------------------------------------------------------------
# HTTP API of the producer

variable "orders_api_authorization" {
  description = "Authorization of POST /orders: AWS_IAM (callers sign with SigV4; the storefront's backend has execute-api:Invoke on the route) or NONE (public)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.orders_api_authorization)
    error_message = "orders_api_authorization must be AWS_IAM or NONE."
  }
}

variable "orders_api_throttle" {
  description = "Steady requests per second and burst of the HTTP API's default route settings."
  type = object({
    rate_limit  = number
    burst_limit = number
  })
  default = {
    rate_limit  = 50
    burst_limit = 100
  }
}

# ---------------------------------------------------------------------------------------------
# Tables

variable "table_deletion_protection" {
  description = "Protect the DynamoDB tables from deletion (turn off only to tear an environment down)."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------
# Alarms

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires or recovers, typically the on-call SNS topic (encrypted with a key CloudWatch may use). Empty: the alarms only show in the console and the dashboard."
  type        = list(string)
  default     = []
}

variable "dlq_oldest_message_alarm_seconds" {
  description = "The age alarm of a DLQ fires when its oldest message is older than this: a failure nobody has handled yet. DLQs keep messages 14 days."
  type        = number
  default     = 86400

  validation {
    condition     = var.dlq_oldest_message_alarm_seconds >= 300 && var.dlq_oldest_message_alarm_seconds < 1209600
    error_message = "dlq_oldest_message_alarm_seconds must be 300 s to less than 14 days."
  }
}

# ---------------------------------------------------------------------------------------------
# Tenants (docs/multi-account.md)

variable "tenant_accounts" {
  description = "Tenant name => account id of each tenant account whose modules/tenant forwards to this bus. Empty: no other account may put events here."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name, id in var.tenant_accounts : can(regex("^[a-z0-9-]{1,20}$", name)) && can(regex("^[0-9]{12}$", id))])
    error_message = "tenant_accounts maps tenant names (1-20 lowercase letters, digits, dashes) to 12-digit account ids."
  }
}

variable "organization_id" {
  description = "With tenant_accounts: the AWS Organizations id (o-...) every tenant account must belong to (aws:PrincipalOrgID). Null: the accounts are trusted by id alone."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id looks like o-abcd123456."
  }
}

variable "oncall_role_name" {
  description = "The on-call role in each tenant account (ecomm --account-role), which may replay a forward DLQ onto this bus."
  type        = string
  default     = "ecomm-oncall"
}

variable "bus_log_level" {
  description = "What the bus logs of its own work (EventBridge LogConfig): OFF, ERROR (failed deliveries, DLQ sends), INFO (also rule matches and successes) or TRACE (every step). Read by `ecomm trace` and `ecomm dlq show`."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO", "TRACE"], var.bus_log_level)
    error_message = "bus_log_level is OFF, ERROR, INFO or TRACE."
  }
}

variable "bus_log_include_detail" {
  description = "Whether the bus's log carries each event's detail and target input (FULL) or not (NONE). Event detail holds customer data: NONE in prod."
  type        = string
  default     = "NONE"

  validation {
    condition     = contains(["NONE", "FULL"], var.bus_log_include_detail)
    error_message = "bus_log_include_detail is NONE or FULL."
  }
}
