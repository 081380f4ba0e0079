output "function_name" {
  description = "The producer function's name."
  value       = aws_lambda_function.producer.function_name
}

output "log_group_name" {
  description = "The producer's log group: what `ecomm trace` searches."
  value       = aws_cloudwatch_log_group.producer.name
}

output "api_id" {
  description = "The HTTP API's id (for the dashboard's metrics)."
  value       = aws_apigatewayv2_api.orders.id
}

output "orders_api_url" {
  description = "Where clients POST orders."
  value       = "${trimsuffix(aws_apigatewayv2_stage.default.invoke_url, "/")}${local.producer_orders_path}"
}
