# The order producer: POST /orders on an HTTP API (payload format 2.0) invokes it
# synchronously; it validates the order and publishes OrderCreated to its bus. Its role may
# write its own logs and PutEvents on that bus, nothing else. One instance in the platform
# stack (terraform/producer.tf), one in each tenant account (modules/tenant).

locals {
  producer_name        = "${var.prefix}-order-producer"
  producer_zip         = "${var.artifacts_dir}/order-producer/bootstrap.zip"
  producer_arch_file   = "${var.artifacts_dir}/order-producer/bootstrap.arch"
  producer_arch        = fileexists(local.producer_arch_file) ? trimspace(file(local.producer_arch_file)) : "unknown"
  producer_orders_path = "/orders"
}

resource "aws_cloudwatch_log_group" "producer" {
  # checkov:skip=CKV_AWS_158:Encrypted at rest by CloudWatch Logs' own keys; the producer logs field-level validation errors, never email or postal addresses (docs/logging.md).
  # checkov:skip=CKV_AWS_338:Retention is per environment (log_retention_days); a year of logs is not required.
  name              = "/aws/lambda/${local.producer_name}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "producer_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "producer" {
  name               = local.producer_name
  description        = "Execution role of ${local.producer_name} only."
  assume_role_policy = data.aws_iam_policy_document.producer_assume.json
}

data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "OwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.producer.arn}:*"]
  }

  statement {
    sid       = "PublishOnOwnBus"
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [var.event_bus_arn]
  }
}

resource "aws_iam_role_policy" "producer" {
  name   = "least-privilege"
  role   = aws_iam_role.producer.id
  policy = data.aws_iam_policy_document.producer.json
}

resource "aws_lambda_function" "producer" {
  # checkov:skip=CKV_AWS_116:Invoked synchronously by the HTTP API: a failure is the caller's 5xx, there is no asynchronous event to dead-letter.
  # checkov:skip=CKV_AWS_117:Calls only EventBridge's public endpoint; there is no VPC resource to reach.
  # checkov:skip=CKV_AWS_50:Tracing is by correlationId in the structured logs (`ecomm trace`); X-Ray would need a Resource "*" grant.
  # checkov:skip=CKV_AWS_272:Zips are built by scripts/package-lambdas in CI from the locked workspace; code signing needs a signing profile outside this stack.
  # checkov:skip=CKV_AWS_173:Its only variables are the bus name and the log level, no secret; Lambda encrypts them at rest with its AWS managed key.
  function_name    = local.producer_name
  description      = "Validates POST /orders and publishes OrderCreated to ${var.event_bus_name}."
  role             = aws_iam_role.producer.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = local.producer_zip
  source_code_hash = fileexists(local.producer_zip) ? filebase64sha256(local.producer_zip) : null
  memory_size      = var.function_memory_mb
  timeout          = var.function_timeout_seconds

  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = merge(
      {
        EVENT_BUS_NAME = var.event_bus_name
        LOG_LEVEL      = var.log_level
      },
      # A tenant account's producer stamps its events with tenantId (docs/events.md).
      var.tenant_id == null ? {} : { TENANT_ID = var.tenant_id },
    )
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.producer.name
  }

  lifecycle {
    precondition {
      condition     = fileexists(local.producer_zip)
      error_message = "The zip of ${local.producer_name} is missing: ${local.producer_zip}. Build it with `scripts/package-lambdas --arch ${var.lambda_architecture}` (or set artifacts_dir)."
    }

    precondition {
      condition     = local.producer_arch == var.lambda_architecture
      error_message = "${local.producer_zip} is marked as built for ${local.producer_arch} (in ${local.producer_arch_file}), but the function runs on ${var.lambda_architecture}. Run `scripts/package-lambdas --arch ${var.lambda_architecture}`, or set lambda_architecture = \"${local.producer_arch}\"."
    }
  }

  depends_on = [aws_iam_role_policy.producer]
}

# ---------------------------------------------------------------------------------------------
# The HTTP API.

resource "aws_cloudwatch_log_group" "orders_api_access" {
  # checkov:skip=CKV_AWS_158:Encrypted at rest by CloudWatch Logs' own keys; access logs carry request ids, routes and statuses, no bodies.
  # checkov:skip=CKV_AWS_338:Retention is per environment (log_retention_days); a year of access logs is not required.
  name              = "/aws/apigateway/${var.prefix}-orders"
  retention_in_days = var.log_retention_days
}

resource "aws_apigatewayv2_api" "orders" {
  name          = "${var.prefix}-orders"
  description   = "POST /orders: the entry of the ecomm order system."
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "producer" {
  api_id                 = aws_apigatewayv2_api.orders.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.producer.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 29000
}

resource "aws_apigatewayv2_route" "post_orders" {
  api_id             = aws_apigatewayv2_api.orders.id
  route_key          = "POST ${local.producer_orders_path}"
  target             = "integrations/${aws_apigatewayv2_integration.producer.id}"
  authorization_type = var.orders_api_authorization
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.orders.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.orders_api_throttle.rate_limit
    throttling_burst_limit = var.orders_api_throttle.burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.orders_api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLatency    = "$context.responseLatency"
      integrationStatus  = "$context.integrationStatus"
      integrationError   = "$context.integrationErrorMessage"
      sourceIp           = "$context.identity.sourceIp"
      callerPrincipalArn = "$context.identity.userArn"
    })
  }
}

# The API may invoke the producer for exactly its route.
resource "aws_lambda_permission" "orders_api" {
  statement_id  = "AllowInvokeFromOrdersApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.producer.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.orders.execution_arn}/*/POST${local.producer_orders_path}"
}
