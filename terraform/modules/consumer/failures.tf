# Lambda's on-failure destination in S3, for a consumer whose declaration says
# `"onFailure": "s3"` (the documented choice for payloads near 1 MB, which an SQS message cannot
# carry). Lambda writes each failure record, the same JSON as the SQS on-failure record, under
# `aws/lambda/async/<function>/YYYY/MM/DD/…`. Delivery failures still go to the DLQ: the target's
# dead_letter_config is SQS only.

data "aws_caller_identity" "current" {}

locals {
  failures_in_s3 = var.on_failure == "s3"
  # Named after the function and the account: a bucket name is global, and a name another
  # account could take first is what the role's s3:ResourceAccount condition guards against.
  failure_bucket = "${local.function_name}-failures-${data.aws_caller_identity.current.account_id}"
  failure_prefix = "aws/lambda/async/${local.function_name}/"
}

resource "aws_s3_bucket" "failures" {
  # checkov:skip=CKV_AWS_18:Access logging of a bucket only Lambda writes and the on-call role reads adds a second bucket to guard; CloudTrail data events cover who read what.
  # checkov:skip=CKV_AWS_144:Failure records are kept for days, not years; a second region adds nothing the DLQ has.
  # checkov:skip=CKV2_AWS_62:Nothing reacts to a new failure record by notification: the alarm and `ecomm dlq ls` read the bucket.
  count  = local.failures_in_s3 ? 1 : 0
  bucket = local.failure_bucket
}

resource "aws_s3_bucket_public_access_block" "failures" {
  count                   = local.failures_in_s3 ? 1 : 0
  bucket                  = aws_s3_bucket.failures[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "failures" {
  count  = local.failures_in_s3 ? 1 : 0
  bucket = aws_s3_bucket.failures[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

# Versioned: a record `ecomm` deletes after its redrive stays a noncurrent version for the
# retention, as a DLQ message would have stayed until deleted.
resource "aws_s3_bucket_versioning" "failures" {
  count  = local.failures_in_s3 ? 1 : 0
  bucket = aws_s3_bucket.failures[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "failures" {
  count  = local.failures_in_s3 ? 1 : 0
  bucket = aws_s3_bucket.failures[0].id

  rule {
    id     = "expire-as-the-dlq-does"
    status = "Enabled"
    filter {}

    expiration {
      days = ceil(var.dlq_message_retention_seconds / 86400)
    }
    noncurrent_version_expiration {
      noncurrent_days = ceil(var.dlq_message_retention_seconds / 86400)
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# Only this function's role writes records, only under its prefix; nothing without TLS.
data "aws_iam_policy_document" "failures" {
  count = local.failures_in_s3 ? 1 : 0

  statement {
    sid       = "OnlyThisFunctionWrites"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.failures[0].arn}/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.this.arn]
    }
  }

  statement {
    sid     = "TlsOnly"
    effect  = "Deny"
    actions = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"]
    resources = [
      aws_s3_bucket.failures[0].arn,
      "${aws_s3_bucket.failures[0].arn}/*",
    ]

    principals {
      type        = "AWS"
      identifiers = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "failures" {
  count  = local.failures_in_s3 ? 1 : 0
  bucket = aws_s3_bucket.failures[0].id
  policy = data.aws_iam_policy_document.failures[0].json

  depends_on = [aws_s3_bucket_public_access_block.failures]
}
