# One consumer of the bus whose rule targets an SQS queue instead of a function: the queue (FIFO
# when declared so, with the target's message group), the rule and its target (with the
# declared input transformer), and the DLQ that catches what EventBridge cannot deliver.
#
# There is one failure path here: EventBridge's delivery to the queue (a missing queue policy,
# throttling, a KMS error). The target's retry_policy applies, then its dead_letter_config. What
# reads the queue afterwards is not EventBridge's concern, nor this module's.

locals {
  queue_name = "${var.prefix}-${var.name}${var.fifo ? ".fifo" : ""}"
  rule_name  = "${var.prefix}-${var.name}"
  dlq_name   = "${var.prefix}-${var.name}-dlq"
}

# ---------------------------------------------------------------------------------------------
# The target queue and its DLQ (standard: EventBridge target DLQs cannot be FIFO), encrypted.

resource "aws_sqs_queue" "target" {
  name                        = local.queue_name
  fifo_queue                  = var.fifo ? true : null
  content_based_deduplication = var.fifo ? true : null
  message_retention_seconds   = var.queue_message_retention_seconds
  sqs_managed_sse_enabled     = true
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
