# One consumer of the bus whose rule targets an SQS queue instead of a function: the queue (FIFO
# when declared so, with the target's message group), the rule and its target (with the
# declared input transformer), and the DLQ that catches what EventBridge cannot deliver.
#
# EventBridge's delivery to the queue (a missing queue policy, throttling, a KMS error) is one
# failure path: the target's retry_policy applies, then its dead_letter_config.
#
# With a `reader`, the consumer's own function reads the queue through an SQS event source
# mapping with partial batch responses, and the queue's redrive policy is the second failure
# path: a record the function keeps failing goes to the queue's own DLQ (FIFO when the queue
# is) after max_receive_count receives. That DLQ is sourced by an SQS queue, so SQS's own DLQ
# redrive moves its messages back; the target DLQ is what `ecomm redrive` replays.

locals {
  queue_name      = "${var.prefix}-${var.name}${var.fifo ? ".fifo" : ""}"
  rule_name       = "${var.prefix}-${var.name}"
  dlq_name        = "${var.prefix}-${var.name}-dlq"
  reader_dlq_name = "${var.prefix}-${var.name}-reader-dlq${var.fifo ? ".fifo" : ""}"
  function_name   = "${var.prefix}-${var.name}"
  log_group       = "/aws/lambda/${local.function_name}"
  readers         = var.reader == null ? {} : { (var.name) = var.reader }

  reader_package_arch_file = var.reader == null ? "" : "${dirname(var.reader.package_zip)}/bootstrap.arch"
  reader_package_arch      = var.reader == null ? "none" : (fileexists(local.reader_package_arch_file) ? trimspace(file(local.reader_package_arch_file)) : "unknown")
}

# ---------------------------------------------------------------------------------------------
# The target queue and its DLQ (standard: EventBridge target DLQs cannot be FIFO), encrypted.

resource "aws_sqs_queue" "target" {
  name                        = local.queue_name
  fifo_queue                  = var.fifo ? true : null
  content_based_deduplication = var.fifo ? true : null
  message_retention_seconds   = var.queue_message_retention_seconds
  sqs_managed_sse_enabled     = true
  # A failed batch comes back after this; it must cover the function's timeout.
  visibility_timeout_seconds = var.reader == null ? null : var.reader.visibility_timeout_seconds
  redrive_policy = var.reader == null ? null : jsonencode({
    deadLetterTargetArn = aws_sqs_queue.reader_dlq[var.name].arn
    maxReceiveCount     = var.reader.max_receive_count
  })
}

# Where the function behind the queue fails records to: FIFO when the queue is (a FIFO queue's
# DLQ must be FIFO), 14 days, and only this queue may move records into it.
resource "aws_sqs_queue" "reader_dlq" {
  for_each = local.readers

  name                      = local.reader_dlq_name
  fifo_queue                = var.fifo ? true : null
  message_retention_seconds = var.dlq_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue_redrive_allow_policy" "reader_dlq" {
  for_each = local.readers

  queue_url = aws_sqs_queue.reader_dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.target.arn]
  })
}

resource "aws_sqs_queue" "dlq" {
  name                       = local.dlq_name
  message_retention_seconds  = var.dlq_message_retention_seconds
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = 30
}

# EventBridge sends to the target queue, and undeliverable events to the DLQ: only for this
# consumer's rule.
data "aws_iam_policy_document" "target" {
  statement {
    sid       = "EventBridgeRule"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.target.arn]

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
}

data "aws_iam_policy_document" "dlq" {
  statement {
    sid       = "EventBridgeRule"
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
}

resource "aws_sqs_queue_policy" "target" {
  queue_url = aws_sqs_queue.target.id
  policy    = data.aws_iam_policy_document.target.json
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq.json
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

resource "aws_cloudwatch_event_target" "this" {
  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = var.event_bus_name
  target_id      = var.name
  arn            = aws_sqs_queue.target.arn

  retry_policy {
    maximum_retry_attempts       = var.retry_policy.maximum_retry_attempts
    maximum_event_age_in_seconds = var.retry_policy.maximum_event_age_in_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }

  dynamic "sqs_target" {
    for_each = var.fifo ? [var.message_group_id] : []
    content {
      message_group_id = sqs_target.value
    }
  }

  dynamic "input_transformer" {
    for_each = var.input_transformer == null ? [] : [var.input_transformer]
    content {
      input_paths    = input_transformer.value.input_paths
      input_template = input_transformer.value.input_template
    }
  }

  # Events only start flowing once the target exists; by then both queues must accept them.
  depends_on = [
    aws_sqs_queue_policy.target,
    aws_sqs_queue_policy.dlq,
  ]
}

# ---------------------------------------------------------------------------------------------
# The function behind the queue, with its own execution role: it reads and deletes from the
# queue, writes its log group and its declared tables, and nothing else.

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

resource "aws_iam_role" "reader" {
  for_each = local.readers

  name               = local.function_name
  description        = "Execution role of ${local.function_name} only."
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "reader" {
  for_each = local.readers

  statement {
    sid       = "OwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.reader[each.key].arn}:*"]
  }

  # What the event source mapping calls with the function's role.
  statement {
    sid       = "ReadOwnQueue"
    effect    = "Allow"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.target.arn]
  }

  dynamic "statement" {
    for_each = each.value.tables
    content {
      sid       = "Table${replace(title(replace(statement.key, "-", " ")), " ", "")}"
      effect    = "Allow"
      actions   = statement.value.actions
      resources = [statement.value.arn]
    }
  }
}

resource "aws_iam_role_policy" "reader" {
  for_each = local.readers

  name   = "least-privilege"
  role   = aws_iam_role.reader[each.key].id
  policy = data.aws_iam_policy_document.reader[each.key].json
}

resource "aws_cloudwatch_log_group" "reader" {
  # checkov:skip=CKV_AWS_158:Encrypted at rest by CloudWatch Logs' own keys; the audit function logs ids only (docs/logging.md), so a CMK would add a key policy to run without protecting more.
  # checkov:skip=CKV_AWS_338:Retention is per environment (log_retention_days), as for every function.
  for_each = local.readers

  name              = local.log_group
  retention_in_days = each.value.log_retention_days
}

resource "aws_lambda_function" "reader" {
  # checkov:skip=CKV_AWS_116:A function behind an SQS event source mapping is invoked synchronously; its failed records go to the queue's redrive DLQ (aws_sqs_queue.reader_dlq), not to a function DLQ.
  # checkov:skip=CKV_AWS_117:The function calls only the public DynamoDB endpoint; a VPC would need NAT or an endpoint for it.
  # checkov:skip=CKV_AWS_50:Tracing is by correlationId in the structured logs across every function (`ecomm trace`); X-Ray would need a Resource "*" grant.
  # checkov:skip=CKV_AWS_272:Zips are built by scripts/package-lambdas in CI from the locked workspace; code signing needs a signing profile outside this stack.
  # checkov:skip=CKV_AWS_173:Variables hold table names and the log level only, encrypted at rest with Lambda's AWS managed key.
  # checkov:skip=CKV_AWS_115:Concurrency is bounded by the FIFO queue: one batch in flight per message group.
  for_each = local.readers

  function_name    = local.function_name
  description      = var.description
  role             = aws_iam_role.reader[each.key].arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [each.value.architecture]
  filename         = each.value.package_zip
  source_code_hash = fileexists(each.value.package_zip) ? filebase64sha256(each.value.package_zip) : null
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout

  environment {
    variables = merge(
      { LOG_LEVEL = each.value.log_level },
      { for t in values(each.value.tables) : t.env_var => t.name },
    )
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.reader[each.key].name
  }

  lifecycle {
    precondition {
      condition     = fileexists(each.value.package_zip)
      error_message = "The zip of ${local.function_name} is missing: ${each.value.package_zip}. Build it with `scripts/package-lambdas --arch ${each.value.architecture}` (or set artifacts_dir)."
    }

    precondition {
      condition     = local.reader_package_arch == each.value.architecture
      error_message = "${each.value.package_zip} is marked as built for ${local.reader_package_arch} (in ${local.reader_package_arch_file}), but the function runs on ${each.value.architecture}. Run `scripts/package-lambdas --arch ${each.value.architecture}`."
    }

    precondition {
      condition     = each.value.visibility_timeout_seconds >= each.value.timeout
      error_message = "The queue's visibility timeout (${each.value.visibility_timeout_seconds} s) must cover the function's timeout (${each.value.timeout} s), or a batch still running comes back to another invocation."
    }
  }

  depends_on = [aws_iam_role_policy.reader]
}

# Lambda polls the queue; a batch answers which records failed (batchItemFailures), and only
# those come back, in order, after the visibility timeout.
resource "aws_lambda_event_source_mapping" "reader" {
  for_each = local.readers

  event_source_arn        = aws_sqs_queue.target.arn
  function_name           = aws_lambda_function.reader[each.key].arn
  batch_size              = each.value.batch_size
  function_response_types = ["ReportBatchItemFailures"]
}

# ---------------------------------------------------------------------------------------------
# Alarms: a failure waiting in the DLQ, one left unhandled, and a failure lost.

resource "aws_cloudwatch_metric_alarm" "dlq_visible" {
  alarm_name          = "${local.dlq_name}-visible"
  alarm_description   = "${var.name}: events EventBridge could not deliver to ${local.queue_name} are waiting in ${local.dlq_name}. Inspect with `ecomm dlq show ${var.name}`, replay with `ecomm redrive --target ${var.name}`."
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

resource "aws_cloudwatch_metric_alarm" "reader_dlq_visible" {
  for_each = local.readers

  alarm_name          = "${local.reader_dlq_name}-visible"
  alarm_description   = "${var.name}: records ${local.function_name} kept failing are waiting in ${local.reader_dlq_name}. `ecomm dlq ls` counts them; fix the cause, then move them back with SQS's DLQ redrive (StartMessageMoveTask) to ${local.queue_name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.reader_dlq[each.key].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
