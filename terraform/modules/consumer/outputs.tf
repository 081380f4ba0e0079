output "function_name" {
  description = "The consumer's function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "The ARN of the consumer's function (the rule's target)."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "The function's own execution role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "The function's log group (/aws/lambda/<function>)."
  value       = aws_cloudwatch_log_group.this.name
}

output "rule_name" {
  description = "The consumer's rule on the bus."
  value       = aws_cloudwatch_event_rule.this.name
}

output "rule_arn" {
  description = "The ARN of the consumer's rule (the source the DLQ policy and the Lambda permission accept)."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "target_id" {
  description = "The id of the rule's Lambda target: the consumer's name."
  value       = aws_cloudwatch_event_target.this.target_id
}

output "dlq_name" {
  description = "The consumer's DLQ."
  value       = aws_sqs_queue.dlq.name
}

output "dlq_url" {
  description = "The URL of the consumer's DLQ."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "The ARN of the consumer's DLQ: both the target's dead_letter_config and the function's on-failure destination."
  value       = aws_sqs_queue.dlq.arn
}

output "alarm_names" {
  description = "The consumer's alarms."
  value = [
    aws_cloudwatch_metric_alarm.dlq_visible.alarm_name,
    aws_cloudwatch_metric_alarm.dlq_oldest_message.alarm_name,
    aws_cloudwatch_metric_alarm.dlq_write_failed.alarm_name,
    aws_cloudwatch_metric_alarm.destination_failed.alarm_name,
  ]
}

output "failure_bucket" {
  description = "The bucket of the on-failure records, when the declaration says onFailure s3; null otherwise."
  value       = local.failures_in_s3 ? aws_s3_bucket.failures[0].bucket : null
}
