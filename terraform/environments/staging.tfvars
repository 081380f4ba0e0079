# terraform plan -var-file=environments/staging.tfvars
environment = "staging"
region      = "eu-west-1"

sender_email              = "orders-staging@example.com"
payment_api_url           = "https://api.stripe.com/v1"
payment_api_key_secret_id = "ecomm/staging/payment-api-key"

# Small and cheap; a test key at the payment provider.
function_memory_mb       = 256
function_timeout_seconds = 30
log_level                = "debug"
log_retention_days       = 14
archive_retention_days   = 7

# Staging can be torn down and rebuilt.
table_deletion_protection = false

# A day-old unhandled failure is worth a look even in staging.
dlq_oldest_message_alarm_seconds = 86400
alarm_actions                    = []

orders_api_throttle = {
  rate_limit  = 10
  burst_limit = 20
}

# Every step of every delivery, with the events: staging data is synthetic.
bus_log_level          = "INFO"
bus_log_include_detail = "FULL"
