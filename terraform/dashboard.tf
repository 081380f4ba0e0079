# One dashboard for the on-call engineer: a row per consumer (its function, or its target queue;
# its rule's deliveries; its DLQ), and a row for the entry (the HTTP API and the producer).

locals {
  # Every consumer's rule and DLQ, whichever module deploys it.
  dashboard_consumers = merge(
    { for name, c in module.consumer : name => { rule = c.rule_name, dlq = c.dlq_name } },
    { for name, c in module.queue_consumer : name => { rule = c.rule_name, dlq = c.dlq_name } },
  )

  # The first widget of a row: the function, or for a queue target the queue.
  dashboard_first_widget = merge(
    {
      for name, c in module.consumer : name => {
        title = "${name}: function"
        stat  = "Sum"
        metrics = [
          ["AWS/Lambda", "Invocations", "FunctionName", c.function_name],
          ["AWS/Lambda", "Errors", "FunctionName", c.function_name],
          ["AWS/Lambda", "Throttles", "FunctionName", c.function_name],
          ["AWS/Lambda", "DestinationDeliveryFailures", "FunctionName", c.function_name],
        ]
      }
    },
    {
      for name, c in module.queue_consumer : name => {
        title = "${name}: queue ${c.queue_name}"
        stat  = "Maximum"
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", c.queue_name],
          ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", c.queue_name, { yAxis = "right" }],
        ]
      }
    },
  )

  dashboard_consumer_rows = [
    for index, name in sort(keys(local.dashboard_consumers)) : [
      {
        type   = "metric"
        x      = 0
        y      = 6 + index * 6
        width  = 8
        height = 6
        properties = {
          title   = local.dashboard_first_widget[name].title
          region  = var.region
          view    = "timeSeries"
          stat    = local.dashboard_first_widget[name].stat
          period  = 60
          metrics = local.dashboard_first_widget[name].metrics
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
            ["AWS/Events", "MatchedEvents", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", local.dashboard_consumers[name].rule],
            ["AWS/Events", "FailedInvocations", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", local.dashboard_consumers[name].rule],
            ["AWS/Events", "InvocationsSentToDLQ", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", local.dashboard_consumers[name].rule],
            ["AWS/Events", "InvocationsFailedToBeSentToDLQ", "EventBusName", aws_cloudwatch_event_bus.this.name, "RuleName", local.dashboard_consumers[name].rule],
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
          title  = "${name}: DLQ ${local.dashboard_consumers[name].dlq}"
          region = var.region
          view   = "timeSeries"
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", local.dashboard_consumers[name].dlq],
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", local.dashboard_consumers[name].dlq, { yAxis = "right" }],
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
          ["AWS/ApiGateway", "Count", "ApiId", module.producer.api_id],
          ["AWS/ApiGateway", "4xx", "ApiId", module.producer.api_id],
          ["AWS/ApiGateway", "5xx", "ApiId", module.producer.api_id],
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
          ["AWS/Lambda", "Invocations", "FunctionName", module.producer.function_name],
          ["AWS/Lambda", "Errors", "FunctionName", module.producer.function_name],
          ["AWS/Lambda", "Throttles", "FunctionName", module.producer.function_name],
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.prefix
  dashboard_body = jsonencode({ widgets = concat(local.dashboard_entry_row, flatten(local.dashboard_consumer_rows)) })
}
