# The bus logs its own work (EventBridge LogConfig, delivered as CloudWatch vended logs): each
# rule match, each delivery attempt with its error, the send to a DLQ, the final failure, keyed
# by the event's id. `ecomm trace` and `ecomm dlq show` read this group (docs/trace.md): a
# delivery that never reached a function shows as such, not as a missing invocation.
#
# Staging logs INFO with full detail; prod logs ERROR without detail, because event detail holds
# customer data (environments/*.tfvars). `bus_log_level = "OFF"` turns it off; the CLI then
# says so once per trace.

locals {
  bus_logging = var.bus_log_level != "OFF"
  # The group `ecomm` reads: ecomm_events::buslog::bus_log_group.
  bus_log_group = "/aws/vendedlogs/events/event-bus/${local.prefix}"
}

resource "aws_cloudwatch_log_group" "bus" {
  # checkov:skip=CKV_AWS_158:Encrypted at rest by CloudWatch Logs' own keys; prod logs without event detail (bus_log_include_detail = "NONE").
  # checkov:skip=CKV_AWS_338:Retention is per environment (log_retention_days); a year of delivery logs is not required.
  count             = local.bus_logging ? 1 : 0
  name              = local.bus_log_group
  retention_in_days = var.log_retention_days
}

# The bus as a source of logs of its level: ERROR_LOGS, INFO_LOGS or TRACE_LOGS.
resource "aws_cloudwatch_log_delivery_source" "bus" {
  count        = local.bus_logging ? 1 : 0
  name         = "${local.prefix}-bus-${lower(var.bus_log_level)}"
  log_type     = "${var.bus_log_level}_LOGS"
  resource_arn = aws_cloudwatch_event_bus.this.arn
}

resource "aws_cloudwatch_log_delivery_destination" "bus" {
  count         = local.bus_logging ? 1 : 0
  name          = "${local.prefix}-bus-logs"
  output_format = "json"

  delivery_destination_configuration {
    destination_resource_arn = aws_cloudwatch_log_group.bus[0].arn
  }
}

resource "aws_cloudwatch_log_delivery" "bus" {
  count                    = local.bus_logging ? 1 : 0
  delivery_source_name     = aws_cloudwatch_log_delivery_source.bus[0].name
  delivery_destination_arn = aws_cloudwatch_log_delivery_destination.bus[0].arn
}
