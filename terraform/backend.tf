# Remote state in S3, one state per environment, locked with S3's own lock file (Terraform
# >= 1.10; no DynamoDB lock table needed). The bucket, key and region come from
# environments/<env>.s3.tfbackend at init time, so one configuration serves both environments:
#
#   terraform init -backend-config=environments/staging.s3.tfbackend
#
# The state holds the payment API key read from Secrets Manager (the refund function's
# PAYMENT_API_KEY): the bucket must be private, versioned, encrypted and readable only by the
# deployers. See docs/deploy.md.
terraform {
  backend "s3" {}
}
