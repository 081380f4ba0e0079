# One consumer of the bus: its rule and Lambda target, its function with its own execution role,
# and the one DLQ that catches every failure of that consumer.
#
# EventBridge invokes the function asynchronously, so there are two failure paths and both must
# end in the same queue (see docs/architecture.md, "How failures flow"):
#   - delivery failures (throttling, missing permission, ...): the target's retry_policy, then
#     its dead_letter_config;
#   - function errors: Lambda's async retries (aws_lambda_function_event_invoke_config), then its
#     on-failure destination.
# Without either, events that exhaust that path's retries are dropped silently.

locals {
  function_name = "${var.prefix}-${var.name}"
  rule_name     = "${var.prefix}-${var.name}"
  dlq_name      = "${var.prefix}-${var.name}-dlq"
  log_group     = "/aws/lambda/${local.function_name}"

  # scripts/package-lambdas writes the architecture it built for next to the zip.
  package_arch_file = "${dirname(var.package_zip)}/bootstrap.arch"
  package_arch      = fileexists(local.package_arch_file) ? trimspace(file(local.package_arch_file)) : "unknown"

  environment = merge(
    {
      EVENT_BUS_NAME = var.event_bus_name
      LOG_LEVEL      = var.log_level
    },
    { for t in values(var.tables) : t.env_var => t.name },
    var.environment,
  )
}

# ---------------------------------------------------------------------------------------------
# The DLQ: a standard queue (EventBridge target DLQs cannot be FIFO), encrypted, 14 days.

resource "aws_sqs_queue" "dlq" {
  name                       = local.dlq_name
  message_retention_seconds  = var.dlq_message_retention_seconds
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = 30
}

data "aws_iam_policy_document" "dlq" {
  # EventBridge writes undeliverable events, but only for this consumer's rule.
  statement {
    sid       = "EventBridgeTargetDlq"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.this.arn]
    }
  }

  # Lambda's on-failure destination sends with the function's execution role.
  statement {
    sid       = "LambdaOnFailureDestination"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]

    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.this.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq.json
}

# ---------------------------------------------------------------------------------------------
# The function's own execution role: exactly what its code calls, on exactly its resources.

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.function_name
  description        = "Execution role of ${local.function_name} only."
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "function" {
  statement {
    sid       = "OwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "PublishOnOwnBus"
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [var.event_bus_arn]
  }

  dynamic "statement" {
    for_each = local.failures_in_s3 ? [] : [aws_sqs_queue.dlq.arn]
    content {
      sid       = "OnFailureDestination"
      effect    = "Allow"
      actions   = ["sqs:SendMessage"]
      resources = [statement.value]
    }
  }

  # An S3 destination: what the Lambda docs ask of the role, in this account's bucket only
  # (s3:ResourceAccount: a bucket of that name in another account is never written to).
  dynamic "statement" {
    for_each = local.failures_in_s3 ? ["s3"] : []
    content {
      sid       = "OnFailureDestinationS3"
      effect    = "Allow"
      actions   = ["s3:PutObject", "s3:ListBucket"]
      resources = ["arn:aws:s3:::${local.failure_bucket}", "arn:aws:s3:::${local.failure_bucket}/${local.failure_prefix}*"]

      condition {
        test     = "StringEquals"
        variable = "s3:ResourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }

  dynamic "statement" {
    for_each = var.tables
    content {
      sid       = "Table${replace(title(replace(statement.key, "-", " ")), " ", "")}"
      effect    = "Allow"
      actions   = statement.value.actions
      resources = [statement.value.arn]
    }
  }

  dynamic "statement" {
    for_each = var.policy_statements
    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.function.json
}

# ---------------------------------------------------------------------------------------------
# The function.

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158:Encrypted at rest by CloudWatch Logs' own keys; the functions log no email or postal addresses (docs/logging.md), so a CMK would add a key policy to run without protecting more.
  # checkov:skip=CKV_AWS_338:Retention is per environment (log_retention_days); the DLQs keep a failure's payload for 14 days and `ecomm trace` needs no more than that, so a year of logs is not required.
  name              = local.log_group
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_116:The function-level DLQ is the legacy path; failures go to the on-failure destination (aws_lambda_function_event_invoke_config.this), whose record carries the error, the attempt count and why retrying stopped.
  # checkov:skip=CKV_AWS_117:The function calls only public AWS endpoints (DynamoDB, EventBridge, SES) and the payment API; there is no VPC resource to reach, and a VPC would need NAT for all of them.
  # checkov:skip=CKV_AWS_50:Tracing is by correlationId in the structured logs across every function (`ecomm trace`); X-Ray would need a Resource "*" grant.
  # checkov:skip=CKV_AWS_272:Zips are built by scripts/package-lambdas in CI from the locked workspace; code signing needs a signing profile outside this stack.
  # checkov:skip=CKV_AWS_173:Variables are encrypted at rest with Lambda's AWS managed key; the only secret (the refund's PAYMENT_API_KEY) comes from Secrets Manager at deploy time, see docs/deploy.md.
  function_name    = local.function_name
  description      = var.description
  role             = aws_iam_role.this.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.architecture]
  filename         = var.package_zip
  source_code_hash = fileexists(var.package_zip) ? filebase64sha256(var.package_zip) : null
  memory_size      = var.memory_size
  timeout          = var.timeout

  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  lifecycle {
    precondition {
      condition     = fileexists(var.package_zip)
      error_message = "The zip of ${local.function_name} is missing: ${var.package_zip}. Build it with `scripts/package-lambdas --arch ${var.architecture}` (or set artifacts_dir)."
    }

    precondition {
      condition     = local.package_arch == var.architecture
      error_message = "${var.package_zip} is marked as built for ${local.package_arch} (in ${local.package_arch_file}), but the function runs on ${var.architecture}. Run `scripts/package-lambdas --arch ${var.architecture}`, or set lambda_architecture = \"${local.package_arch}\"."
    }
  }

  # The role must be able to write its logs and reach its DLQ before the first invocation.
  depends_on = [aws_iam_role_policy.function]
}

# Function errors: Lambda retries, then the on-failure destination, the same DLQ.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_invoke.maximum_retry_attempts
  maximum_event_age_in_seconds = var.async_invoke.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = local.failures_in_s3 ? aws_s3_bucket.failures[0].arn : aws_sqs_queue.dlq.arn
    }
  }

  # Lambda checks that the execution role may send to the destination.
  depends_on = [aws_iam_role_policy.function, aws_sqs_queue_policy.dlq, aws_s3_bucket_policy.failures]
}

# ---------------------------------------------------------------------------------------------
# The rule and its target.

resource "aws_cloudwatch_event_rule" "this" {
  name           = local.rule_name
  description    = var.description
  event_bus_name = var.event_bus_name
  event_pattern  = var.event_pattern
  state          = "ENABLED"
}

# EventBridge invokes a Lambda target through the function's resource policy, scoped to the rule.
resource "aws_lambda_permission" "eventbridge" {
  statement_id  = "AllowInvokeFromRule-${local.rule_name}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}

# Delivery failures: EventBridge retries, then the target DLQ.
resource "aws_cloudwatch_event_target" "this" {
  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = var.event_bus_name
  target_id      = var.name
  arn            = aws_lambda_function.this.arn

  retry_policy {
    maximum_retry_attempts       = var.retry_policy.maximum_retry_attempts
    maximum_event_age_in_seconds = var.retry_policy.maximum_event_age_in_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }

  # Events only start flowing once the target exists. By then the function must accept the
  # invoke (a missing permission is NO_PERMISSIONS, not retried) and the DLQ must accept
  # EventBridge's writes (otherwise a failed delivery is dropped), and function errors must
  # have somewhere to go.
  depends_on = [
    aws_lambda_permission.eventbridge,
    aws_sqs_queue_policy.dlq,
    aws_lambda_function_event_invoke_config.this,
  ]
}

# ---------------------------------------------------------------------------------------------
# Alarms: a failure waiting in the DLQ, one left unhandled, and the two ways a failure is lost.

resource "aws_cloudwatch_metric_alarm" "dlq_visible" {
  alarm_name          = "${local.dlq_name}-visible"
  alarm_description   = "${var.name}: failed events are waiting in ${local.dlq_name}. Inspect with `ecomm dlq show ${var.name}`, replay with `ecomm redrive --target ${var.name}`."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dlq_oldest_message" {
  alarm_name          = "${local.dlq_name}-oldest-message"
  alarm_description   = "${var.name}: a message in ${local.dlq_name} is older than ${var.dlq_oldest_message_alarm_seconds} s; it is deleted after ${var.dlq_message_retention_seconds} s. Handle it with `ecomm dlq show ${var.name}`."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.dlq_oldest_message_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dlq_write_failed" {
  alarm_name          = "${local.rule_name}-events-lost"
  alarm_description   = "${var.name}: EventBridge could not write undeliverable events to ${local.dlq_name}; they are lost. Check the queue policy."
  namespace           = "AWS/Events"
  metric_name         = "InvocationsFailedToBeSentToDLQ"
  dimensions          = { EventBusName = var.event_bus_name, RuleName = aws_cloudwatch_event_rule.this.name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "destination_failed" {
  alarm_name          = "${local.function_name}-destination-failures"
  alarm_description   = "${var.name}: Lambda could not send failed invocations to ${local.dlq_name}; they are lost. Check the role's sqs:SendMessage grant."
  namespace           = "AWS/Lambda"
  metric_name         = "DestinationDeliveryFailures"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
