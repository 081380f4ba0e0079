# One dashboard for the on-call engineer: a row per consumer (its function, its rule's deliveries
# and its DLQ), and a row for the entry (the HTTP API and the producer).

locals {
  dashboard_consumer_rows = [
    for index, name in sort(keys(local.function_consumers)) : [
      {
        type   = "metric"
        x      = 0
        y      = 6 + index * 6
        width  = 8
        height = 6
        properties = {
          title  = "${name}: function"
          region = var.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", module.consumer[name].function_name],
            ["AWS/Lambda", "Errors", "FunctionName", module.consumer[name].function_name],
            ["AWS/Lambda", "Throttles", "FunctionName", module.consumer[name].function_name],
            ["AWS/Lambda", "DestinationDeliveryFailures", "FunctionName", module.consumer[name].function_name],
          ]
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = 6 + index * 6
        width  = 8
        height = 6
        properties = {
          title  = "${name}: rule deliveries"
          region = var.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/Events", "MatchedEvents", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", module.consumer[name].rule_name],
            ["AWS/Events", "FailedInvocations", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", module.consumer[name].rule_name],
            ["AWS/Events", "InvocationsSentToDLQ", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", module.consumer[name].rule_name],
            ["AWS/Events", "InvocationsFailedToBeSentToDLQ", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", module.consumer[name].rule_name],
          ]
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = 6 + index * 6
        width  = 8
        height = 6
        properties = {
          title  = "${name}: DLQ ${module.consumer[name].dlq_name}"
          region = var.region
          view   = "timeSeries"
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.consumer[name].dlq_name],
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", module.consumer[name].dlq_name, { yAxis = "right" }],
          ]
        }
      },
    ]
  ]

  # A queue consumer's row: its target queue instead of a function.
  dashboard_queue_consumer_rows = [
    for index, name in sort(keys(local.queue_consumers)) : [
      {
        type   = "metric"
        x      = 0
        y      = 6 + (length(local.function_consumers) + index) * 6
        width  = 8
        height = 6
        properties = {
          title  = "${name}: queue ${module.queue_consumer[name].queue_name}"
          region = var.region
          view   = "timeSeries"
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.queue_consumer[name].queue_name],
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", module.queue_consumer[name].queue_name, { yAxis = "right" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = 6 + (length(local.function_consumers) + index) * 6
        width  = 8
        height = 6
        properties = {
          title  = "${name}: rule deliveries"
          region = var.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/Events", "MatchedEvents", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", module.queue_consumer[name].rule_name],
            ["AWS/Events", "FailedInvocations", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", module.queue_consumer[name].rule_name],
            ["AWS/Events", "InvocationsSentToDLQ", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", module.queue_consumer[name].rule_name],
            ["AWS/Events", "InvocationsFailedToBeSentToDLQ", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", module.queue_consumer[name].rule_name],
          ]
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = 6 + (length(local.function_consumers) + index) * 6
        width  = 8
        height = 6
        properties = {
          title  = "${name}: DLQ ${module.queue_consumer[name].dlq_name}"
          region = var.region
          view   = "timeSeries"
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.queue_consumer[name].dlq_name],
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", module.queue_consumer[name].dlq_name, { yAxis = "right" }],
          ]
        }
      },
    ]
  ]

  dashboard_entry_row = [
    {
      type   = "metric"
      x      = 0
      y      = 0
      width  = 12
      height = 6
      properties = {
        title  = "POST /orders"
        region = var.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = [
          ["AWS/ApiGateway", "Count", "ApiId", aws_apigatewayv2_api.orders.id],
          ["AWS/ApiGateway", "4xx", "ApiId", aws_apigatewayv2_api.orders.id],
          ["AWS/ApiGateway", "5xx", "ApiId", aws_apigatewayv2_api.orders.id],
        ]
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 0
      width  = 12
      height = 6
      properties = {
        title  = "order-producer"
        region = var.region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = [
          ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.producer.function_name],
          ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.producer.function_name],
          ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.producer.function_name],
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.prefix
  dashboard_body = jsonencode({ widgets = concat(local.dashboard_entry_row, flatten(local.dashboard_consumer_rows), flatten(local.dashboard_queue_consumer_rows)) })
}
