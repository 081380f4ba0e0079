# The ecomm order system: the bus and its archive, one consumer module per declaration in
# consumers/*.json (the files the local stack reads too), the tables, the order producer behind
# an HTTP API (producer.tf) and the dashboard (dashboard.tf).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  prefix        = "ecomm-${var.environment}"
  artifacts_dir = coalesce(var.artifacts_dir, "${path.module}/../target/lambda")

  # One source of truth for names, patterns and retry settings, shared with the local stack
  # (lambdas/consumers/src/lib.rs). A new consumer is a new file there, nothing more here.
  consumer_files = fileset(path.module, "consumers/*.json")
  consumers = {
    for file in local.consumer_files :
    jsondecode(file("${path.module}/${file}")).name => jsondecode(file("${path.module}/${file}"))
  }
  # A declaration's target is its own function unless it says otherwise (target.type "queue").
  function_consumers = { for name, c in local.consumers : name => c if try(c.target.type, "function") == "function" }
  queue_consumers    = { for name, c in local.consumers : name => c if try(c.target.type, "function") == "queue" }

  ses_identity_arn = "arn:${data.aws_partition.current.partition}:ses:${var.region}:${data.aws_caller_identity.current.account_id}:identity/${coalesce(var.ses_identity, var.sender_email)}"

  # What each consumer needs beyond its bus, its DLQ and its declared tables.
  consumer_environment = {
    notification = { SENDER_EMAIL = var.sender_email }
    refund = {
      PAYMENT_API_URL = var.payment_api_url
      PAYMENT_API_KEY = data.aws_secretsmanager_secret_version.payment_api_key.secret_string
    }
  }
  consumer_policy_statements = {
    notification = [{
      sid     = "SendEmailAsSender"
      actions = ["ses:SendEmail"]
      resources = concat(
        [local.ses_identity_arn],
        [for identity in var.ses_recipient_identities : "arn:${data.aws_partition.current.partition}:ses:${var.region}:${data.aws_caller_identity.current.account_id}:identity/${identity}"],
      )
    }]
  }
}

# The payment API key never appears in a tfvars file or a CI variable.
data "aws_secretsmanager_secret_version" "payment_api_key" {
  secret_id = var.payment_api_key_secret_id
}

# ---------------------------------------------------------------------------------------------
# The bus, and an archive of everything on it for disaster replays. (Archive replay cannot
# replay the failed events of one target: that is what the DLQs and `ecomm redrive` are for.)

resource "aws_cloudwatch_event_bus" "this" {
  name = local.prefix

  # What the bus logs of its own work (bus_logs.tf delivers it).
  log_config {
    level          = var.bus_log_level
    include_detail = var.bus_log_include_detail
  }
}

resource "aws_cloudwatch_event_archive" "this" {
  name             = "${local.prefix}-all-events"
  description      = "Every event on ${local.prefix}, for disaster replays."
  event_source_arn = aws_cloudwatch_event_bus.this.arn
  retention_days   = var.archive_retention_days
}

# ---------------------------------------------------------------------------------------------
# The tenants' accounts may put events on this bus (modules/tenant forwards them), each only
# with its forwarding role, or the on-call role that replays a forward DLQ. No wildcard
# principal: every tenant account is named, and with organization_id each must also be in the
# organization.

data "aws_iam_policy_document" "tenants" {
  count = length(var.tenant_accounts) > 0 ? 1 : 0

  dynamic "statement" {
    for_each = var.tenant_accounts
    content {
      sid       = "Tenant${replace(title(replace(statement.key, "-", " ")), " ", "")}Forwards"
      effect    = "Allow"
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.this.arn]

      principals {
        type        = "AWS"
        identifiers = ["arn:${data.aws_partition.current.partition}:iam::${statement.value}:root"]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:PrincipalArn"
        values = [
          "arn:${data.aws_partition.current.partition}:iam::${statement.value}:role/${local.prefix}-${statement.key}-forward",
          "arn:${data.aws_partition.current.partition}:iam::${statement.value}:role/${var.oncall_role_name}",
        ]
      }

      dynamic "condition" {
        for_each = var.organization_id == null ? [] : [var.organization_id]
        content {
          test     = "StringEquals"
          variable = "aws:PrincipalOrgID"
          values   = [condition.value]
        }
      }
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "tenants" {
  count = length(var.tenant_accounts) > 0 ? 1 : 0

  event_bus_name = aws_cloudwatch_event_bus.this.name
  policy         = data.aws_iam_policy_document.tenants[0].json
}

# ---------------------------------------------------------------------------------------------
# The consumers.

module "consumer" {
  source   = "./modules/consumer"
  for_each = local.function_consumers

  name           = each.key
  description    = each.value.description
  prefix         = local.prefix
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_bus_arn  = aws_cloudwatch_event_bus.this.arn
  event_pattern  = jsonencode(each.value.eventPattern)

  retry_policy = {
    maximum_retry_attempts       = each.value.retryPolicy.maximumRetryAttempts
    maximum_event_age_in_seconds = each.value.retryPolicy.maximumEventAgeInSeconds
  }
  async_invoke = {
    maximum_retry_attempts       = each.value.asyncInvoke.maximumRetryAttempts
    maximum_event_age_in_seconds = each.value.asyncInvoke.maximumEventAgeInSeconds
  }

  on_failure        = try(each.value.onFailure, "sqs")
  tables            = { for table in try(each.value.tables, []) : table => local.table_grants[table] }
  environment       = try(local.consumer_environment[each.key], {})
  policy_statements = try(local.consumer_policy_statements[each.key], [])

  package_zip          = "${local.artifacts_dir}/${each.key}/bootstrap.zip"
  architecture         = var.lambda_architecture
  memory_size          = var.function_memory_mb
  timeout              = var.function_timeout_seconds
  reserved_concurrency = try(var.reserved_concurrency[each.key], null)
  log_level            = var.log_level
  log_retention_days   = var.log_retention_days

  dlq_oldest_message_alarm_seconds = var.dlq_oldest_message_alarm_seconds
  alarm_actions                    = var.alarm_actions
}

# Consumers whose rule targets a queue (the audit trail): no function, one failure path.
module "queue_consumer" {
  source   = "./modules/queue-consumer"
  for_each = local.queue_consumers

  name           = each.key
  description    = each.value.description
  prefix         = local.prefix
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = jsonencode(each.value.eventPattern)

  retry_policy = {
    maximum_retry_attempts       = each.value.retryPolicy.maximumRetryAttempts
    maximum_event_age_in_seconds = each.value.retryPolicy.maximumEventAgeInSeconds
  }
  fifo             = each.value.target.fifo
  message_group_id = try(each.value.target.messageGroupId, null)
  input_transformer = try({
    input_paths    = each.value.inputTransformer.inputPathsMap
    input_template = each.value.inputTransformer.inputTemplate
  }, null)
  # The consumer's function behind the queue, when the declaration has one (target.reader).
  reader = try(each.value.target.reader, null) == null ? null : {
    batch_size                 = each.value.target.reader.batchSize
    max_receive_count          = each.value.target.reader.maxReceiveCount
    visibility_timeout_seconds = each.value.target.reader.visibilityTimeoutSeconds
    package_zip                = "${local.artifacts_dir}/${each.key}/bootstrap.zip"
    architecture               = var.lambda_architecture
    memory_size                = var.function_memory_mb
    timeout                    = var.function_timeout_seconds
    log_level                  = var.log_level
    log_retention_days         = var.log_retention_days
    tables                     = { for table in try(each.value.tables, []) : table => local.table_grants[table] }
  }

  dlq_oldest_message_alarm_seconds = var.dlq_oldest_message_alarm_seconds
  alarm_actions                    = var.alarm_actions
}
