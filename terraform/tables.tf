# The tables, with the exact DynamoDB actions the code calls on each (lambdas/ports/src/aws/
# dynamodb.rs) and the variable that carries each table's name. A function is granted those
# actions on the tables its declaration lists (consumers/*.json "tables"), and nothing else.
#
# TransactWriteItems has no IAM action of its own: each item in it is authorized as its own
# action (the stock reservation is Update + Put).

locals {
  tables = {
    stock = {
      env_var   = "STOCK_TABLE"
      hash_key  = "pk"
      range_key = null
      ttl       = null
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    }
    idempotency = {
      env_var   = "IDEMPOTENCY_TABLE"
      hash_key  = "id"
      range_key = null
      ttl       = "expiresAt"
      actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
    }
    refunds = {
      env_var   = "REFUNDS_TABLE"
      hash_key  = "orderId"
      range_key = null
      ttl       = null
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    }
    analytics = {
      env_var   = "ANALYTICS_TABLE"
      hash_key  = "pk"
      range_key = "sk"
      ttl       = null
      actions   = ["dynamodb:UpdateItem"]
    }
    audit = {
      env_var   = "AUDIT_TABLE"
      hash_key  = "eventId"
      range_key = null
      ttl       = null
      actions   = ["dynamodb:PutItem"]
    }
  }
}

# What a function that declares a table is given: its name and ARN, the exact actions, and the
# variable that carries the name.
locals {
  table_grants = {
    for name, t in local.tables : name => {
      name    = aws_dynamodb_table.this[name].name
      arn     = aws_dynamodb_table.this[name].arn
      actions = t.actions
      env_var = t.env_var
    }
  }
}

resource "aws_dynamodb_table" "this" {
  # checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key aws/dynamodb (server_side_encryption below), whose use CloudTrail logs; a customer managed key would add a key policy and a KMS call per request without an access boundary that the per-table IAM grants do not already draw.
  for_each = local.tables

  name                        = "${local.prefix}-${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.hash_key
  range_key                   = each.value.range_key
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = each.value.hash_key
    type = "S"
  }

  dynamic "attribute" {
    for_each = each.value.range_key == null ? [] : [each.value.range_key]
    content {
      name = attribute.value
      type = "S"
    }
  }

  dynamic "ttl" {
    for_each = each.value.ttl == null ? [] : [each.value.ttl]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  # Encrypted with the AWS managed key aws/dynamodb: callers need no KMS grant of their own.
  server_side_encryption {
    enabled = true
  }
}
