# One tenant account: its own bus and order producer, and the rule that forwards the tenant's
# events to the central bus of the platform account (docs/multi-account.md).
#
# The forward is a bus-to-bus target, so it fails like any target: EventBridge retries it
# (retry_policy), then writes it to the forward DLQ in this account, where
# `ecomm --accounts … dlq show forward@<this account>` finds it and `ecomm redrive --target
# forward@<this account>` re-publishes it to the central bus.

locals {
  # The forward's pattern and retry policy, declared once: the local stack reads this file too.
  forward = jsondecode(file("${path.module}/forward.json"))
  retry_policy = var.retry_policy != null ? var.retry_policy : {
    maximum_retry_attempts       = local.forward.retryPolicy.maximumRetryAttempts
    maximum_event_age_in_seconds = local.forward.retryPolicy.maximumEventAgeInSeconds
  }
  prefix       = "ecomm-${var.environment}-${var.tenant}"
  forward_name = "${local.prefix}-forward"
  dlq_name     = "${local.prefix}-forward-dlq"
}

data "aws_caller_identity" "current" {}

resource "aws_cloudwatch_event_bus" "this" {
  name = local.prefix
}

module "producer" {
  source = "../producer"

  prefix                   = local.prefix
  tenant_id                = var.tenant
  event_bus_name           = aws_cloudwatch_event_bus.this.name
  event_bus_arn            = aws_cloudwatch_event_bus.this.arn
  artifacts_dir            = var.artifacts_dir
  lambda_architecture      = var.lambda_architecture
  function_memory_mb       = var.function_memory_mb
  function_timeout_seconds = var.function_timeout_seconds
  reserved_concurrency     = var.producer_reserved_concurrency
  log_level                = var.log_level
  log_retention_days       = var.log_retention_days
  orders_api_authorization = var.orders_api_authorization
  orders_api_throttle      = var.orders_api_throttle
}

# ---------------------------------------------------------------------------------------------
# The forward DLQ: what EventBridge could not put on the central bus after its retries.

resource "aws_sqs_queue" "forward_dlq" {
  name                       = local.dlq_name
  message_retention_seconds  = var.dlq_message_retention_seconds
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = 30
}

data "aws_iam_policy_document" "forward_dlq" {
  # EventBridge writes undeliverable events, but only for the forwarding rule.
  statement {
    sid       = "EventBridgeTargetDlq"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.forward_dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.forward.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "forward_dlq" {
  queue_url = aws_sqs_queue.forward_dlq.id
  policy    = data.aws_iam_policy_document.forward_dlq.json
}

# ---------------------------------------------------------------------------------------------
# The role EventBridge forwards with: it may put events on the central bus, nothing else, and
# only EventBridge acting for the forwarding rule may assume it.

data "aws_iam_policy_document" "forward_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.forward.arn]
    }
  }
}

resource "aws_iam_role" "forward" {
  name               = local.forward_name
  description        = "EventBridge forwards ${local.prefix}'s events to the central bus with this role only."
  assume_role_policy = data.aws_iam_policy_document.forward_assume.json
}

data "aws_iam_policy_document" "forward" {
  statement {
    sid       = "PutOnTheCentralBus"
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [var.central_bus_arn]
  }
}

resource "aws_iam_role_policy" "forward" {
  name   = "least-privilege"
  role   = aws_iam_role.forward.id
  policy = data.aws_iam_policy_document.forward.json
}

# ---------------------------------------------------------------------------------------------
# The forwarding rule and its target: every order-system event of this tenant's bus.

resource "aws_cloudwatch_event_rule" "forward" {
  name           = local.forward_name
  description    = local.forward.description
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = jsonencode(local.forward.eventPattern)
  state          = "ENABLED"
}

resource "aws_cloudwatch_event_target" "forward" {
  rule           = aws_cloudwatch_event_rule.forward.name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = "forward"
  arn            = var.central_bus_arn
  role_arn       = aws_iam_role.forward.arn

  retry_policy {
    maximum_retry_attempts       = local.retry_policy.maximum_retry_attempts
    maximum_event_age_in_seconds = local.retry_policy.maximum_event_age_in_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.forward_dlq.arn
  }

  # A failed forward must have its DLQ, and the role its grant, before the first event.
  depends_on = [aws_sqs_queue_policy.forward_dlq, aws_iam_role_policy.forward]
}

# ---------------------------------------------------------------------------------------------
# Alarms: events of this tenant waiting in the forward DLQ, and forwards lost altogether.

resource "aws_cloudwatch_metric_alarm" "forward_dlq_visible" {
  alarm_name          = "${local.dlq_name}-visible"
  alarm_description   = "${var.tenant}: events did not reach the central bus and wait in ${local.dlq_name}. Inspect with `ecomm --accounts ${data.aws_caller_identity.current.account_id} dlq show forward@${data.aws_caller_identity.current.account_id}`; runbook in docs/multi-account.md."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.forward_dlq.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "forward_lost" {
  alarm_name          = "${local.forward_name}-events-lost"
  alarm_description   = "${var.tenant}: EventBridge could not write failed forwards to ${local.dlq_name}; they are lost. Check the queue policy."
  namespace           = "AWS/Events"
  metric_name         = "InvocationsFailedToBeSentToDLQ"
  dimensions          = { EventBusName = aws_cloudwatch_event_bus.this.name, RuleName = aws_cloudwatch_event_rule.forward.name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
