# The order producer behind POST /orders (modules/producer), publishing on this stack's bus.

module "producer" {
  source = "./modules/producer"

  prefix                   = local.prefix
  event_bus_name           = aws_cloudwatch_event_bus.this.name
  event_bus_arn            = aws_cloudwatch_event_bus.this.arn
  artifacts_dir            = local.artifacts_dir
  lambda_architecture      = var.lambda_architecture
  function_memory_mb       = var.function_memory_mb
  function_timeout_seconds = var.function_timeout_seconds
  reserved_concurrency     = try(var.reserved_concurrency["order-producer"], null)
  log_level                = var.log_level
  log_retention_days       = var.log_retention_days
  orders_api_authorization = var.orders_api_authorization
  orders_api_throttle      = var.orders_api_throttle
}

# These lived in this file before the module: an existing stack keeps them, renamed in place.

moved {
  from = aws_cloudwatch_log_group.producer
  to   = module.producer.aws_cloudwatch_log_group.producer
}

moved {
  from = aws_iam_role.producer
  to   = module.producer.aws_iam_role.producer
}

moved {
  from = aws_iam_role_policy.producer
  to   = module.producer.aws_iam_role_policy.producer
}

moved {
  from = aws_lambda_function.producer
  to   = module.producer.aws_lambda_function.producer
}

moved {
  from = aws_cloudwatch_log_group.orders_api_access
  to   = module.producer.aws_cloudwatch_log_group.orders_api_access
}

moved {
  from = aws_apigatewayv2_api.orders
  to   = module.producer.aws_apigatewayv2_api.orders
}

moved {
  from = aws_apigatewayv2_integration.producer
  to   = module.producer.aws_apigatewayv2_integration.producer
}

moved {
  from = aws_apigatewayv2_route.post_orders
  to   = module.producer.aws_apigatewayv2_route.post_orders
}

moved {
  from = aws_apigatewayv2_stage.default
  to   = module.producer.aws_apigatewayv2_stage.default
}

moved {
  from = aws_lambda_permission.orders_api
  to   = module.producer.aws_lambda_permission.orders_api
}
