# terraform plan -var-file=environments/prod.tfvars
environment = "prod"
region      = "eu-west-1"

sender_email              = "orders@example.com"
payment_api_url           = "https://api.stripe.com/v1"
payment_api_key_secret_id = "ecomm/prod/payment-api-key"

function_memory_mb       = 512
function_timeout_seconds = 30
log_level                = "info"
log_retention_days       = 90
archive_retention_days   = 90

table_deletion_protection = true

# Caps protect the payment provider and DynamoDB; throttled async invokes wait in Lambda's
# queue (up to asyncInvoke.maximumEventAgeInSeconds) rather than fail. The account must keep
# 100 unreserved executions besides these.
reserved_concurrency = {
  "order-producer" = 100
  inventory        = 50
  notification     = 20
  analytics        = 20
  refund           = 10
}

# Page when a failure has waited an hour; the DLQs keep messages 14 days.
dlq_oldest_message_alarm_seconds = 3600
# The on-call topic (create it with a KMS key CloudWatch may use), e.g.
# ["arn:aws:sns:eu-west-1:123456789012:ecomm-prod-oncall"].
alarm_actions = []

orders_api_throttle = {
  rate_limit  = 200
  burst_limit = 400
}

# Failed deliveries and DLQ sends only, without event detail: it holds customer data.
bus_log_level          = "ERROR"
bus_log_include_detail = "NONE"
