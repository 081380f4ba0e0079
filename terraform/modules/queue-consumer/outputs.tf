output "queue_name" {
  description = "The rule's target queue."
  value       = aws_sqs_queue.target.name
}

output "queue_url" {
  description = "The URL of the rule's target queue."
  value       = aws_sqs_queue.target.url
}

output "queue_arn" {
  description = "The ARN of the rule's target queue."
  value       = aws_sqs_queue.target.arn
}

output "rule_name" {
  description = "The consumer's rule on the bus."
  value       = aws_cloudwatch_event_rule.this.name
}

output "rule_arn" {
  description = "The ARN of the consumer's rule (the source both queue policies accept)."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "target_id" {
  description = "The id of the rule's queue target: the consumer's name."
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
  description = "The ARN of the consumer's DLQ: the target's dead_letter_config."
  value       = aws_sqs_queue.dlq.arn
}

output "alarm_names" {
  description = "The consumer's alarms."
  value = concat(
    [
      aws_cloudwatch_metric_alarm.dlq_visible.alarm_name,
      aws_cloudwatch_metric_alarm.dlq_oldest_message.alarm_name,
      aws_cloudwatch_metric_alarm.dlq_write_failed.alarm_name,
    ],
    [for a in aws_cloudwatch_metric_alarm.reader_dlq_visible : a.alarm_name],
  )
}

output "function_name" {
  description = "The function behind the queue, or null."
  value       = one([for f in aws_lambda_function.reader : f.function_name])
}

output "reader_dlq_name" {
  description = "The queue's redrive DLQ (where the function behind it fails records to), or null."
  value       = one([for q in aws_sqs_queue.reader_dlq : q.name])
}

output "reader_dlq_url" {
  description = "The URL of the queue's redrive DLQ, or null."
  value       = one([for q in aws_sqs_queue.reader_dlq : q.url])
}
