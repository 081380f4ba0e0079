output "region" {
  description = "The region of the stack: `ecomm --env aws --region <this>`."
  value       = var.region
}

output "event_bus_name" {
  description = "The bus: `ecomm --env aws --bus <this>`. `ecomm dlq ls` discovers the consumers from its rules."
  value       = aws_cloudwatch_event_bus.this.name
}

output "event_bus_arn" {
  description = "The ARN of the bus."
  value       = aws_cloudwatch_event_bus.this.arn
}

output "event_archive_name" {
  description = "The archive of every event on the bus, for disaster replays (StartReplay)."
  value       = aws_cloudwatch_event_archive.this.name
}

output "ecomm_cli" {
  description = "How to point the on-call CLI at this stack."
  value       = "ecomm --env aws --region ${var.region} --bus ${aws_cloudwatch_event_bus.this.name} dlq ls"
}

output "consumers" {
  description = "Per consumer: its function, log group, rule, target id, DLQ (name, URL, ARN; both the target's dead-letter queue and the function's on-failure destination) and alarms."
  value = {
    for name, consumer in module.consumer : name => {
      function_name = consumer.function_name
      function_arn  = consumer.function_arn
      log_group     = consumer.log_group_name
      rule_name     = consumer.rule_name
      target_id     = consumer.target_id
      dlq_name      = consumer.dlq_name
      dlq_url       = consumer.dlq_url
      dlq_arn       = consumer.dlq_arn
      alarms        = consumer.alarm_names
    }
  }
}

output "queue_consumers" {
  description = "Per consumer whose rule targets a queue: the queue (name, URL, ARN), rule, target id, DLQ and alarms."
  value = {
    for name, queue_consumer in module.queue_consumer : name => {
      queue_name = queue_consumer.queue_name
      queue_url  = queue_consumer.queue_url
      queue_arn  = queue_consumer.queue_arn
      rule_name  = queue_consumer.rule_name
      target_id  = queue_consumer.target_id
      dlq_name   = queue_consumer.dlq_name
      dlq_url    = queue_consumer.dlq_url
      dlq_arn    = queue_consumer.dlq_arn
      alarms     = queue_consumer.alarm_names
      # The function behind the queue and the queue's redrive DLQ, or null.
      function_name  = queue_consumer.function_name
      reader_dlq_url = queue_consumer.reader_dlq_url
    }
  }
}

output "dlq_urls" {
  description = "The DLQ URL of each consumer, by consumer name."
  value = merge(
    { for name, consumer in module.consumer : name => consumer.dlq_url },
    { for name, queue_consumer in module.queue_consumer : name => queue_consumer.dlq_url },
  )
}

output "function_names" {
  description = "Every function of the stack, by its crate name (order-producer and the consumers)."
  value = merge(
    { "order-producer" = module.producer.function_name },
    { for name, consumer in module.consumer : name => consumer.function_name },
  )
}

output "log_groups" {
  description = "The log group of every function, by crate name: what `ecomm trace` searches."
  value = merge(
    { "order-producer" = module.producer.log_group_name },
    { for name, consumer in module.consumer : name => consumer.log_group_name },
  )
}

output "orders_api_url" {
  description = "Where clients POST orders."
  value       = module.producer.orders_api_url
}

output "table_names" {
  description = "The DynamoDB tables, by logical name (stock, idempotency, refunds, analytics)."
  value       = { for name, table in aws_dynamodb_table.this : name => table.name }
}

output "dashboard_name" {
  description = "The CloudWatch dashboard of the stack."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
