output "event_bus_name" {
  description = "The tenant's bus: `--bus` for this account, or its `bus` in the ecomm config file."
  value       = aws_cloudwatch_event_bus.this.name
}

output "forward_dlq_url" {
  description = "The forward DLQ's URL."
  value       = aws_sqs_queue.forward_dlq.id
}

output "orders_api_url" {
  description = "Where this tenant's clients POST orders."
  value       = module.producer.orders_api_url
}

output "producer_log_group" {
  description = "The producer's log group: what `ecomm trace --accounts` searches in this account."
  value       = module.producer.log_group_name
}
