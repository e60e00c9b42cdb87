# The environment's own KMS key (customer managed, rotated yearly by KMS):
# the backups bucket, the three secrets, the RDS master secret, Redis at rest,
# Performance Insights and the database's CloudWatch log groups are encrypted
# with it, so access to the data can be cut or audited per environment
# (CloudTrail logs every use of the key).
#
# Left on AWS-managed keys on purpose, each with its reason where it is set:
# the RDS storage (rds.tf: the final snapshot must outlive this key) and the
# ECR repositories (ecr.tf).
#
# Readers need kms:Decrypt on it as well as the secret: the IRSA policies of
# External Secrets and of the app allow it through Secrets Manager only, on a
# key tagged for this environment (addons/irsa.go), so they need not know
# the key's ARN before it exists.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "data_key" {
  # The account's default: IAM policies decide who may use the key (the
  # statement KMS itself writes when a key is made without a policy).
  statement {
    sid       = "AccountIAMPolicies"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts a log group with a customer managed key only when
  # the key policy lets the service do so, and only for this environment's
  # database log groups.
  statement {
    sid    = "CloudWatchLogsDatabaseLogGroups"
    effect = "Allow"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/rds/instance/${local.db_identifier}/*"]
    }
  }
}

resource "aws_kms_key" "data" {
  description         = "Data of ${local.name}: backups bucket, secrets, Redis, database logs and Performance Insights"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.data_key.json

  # A deleted key can be restored during this window; after it, whatever it
  # encrypted is lost, so it is the longest KMS allows.
  deletion_window_in_days = 30

  tags = { Name = "${local.name}-data" }
}

resource "aws_kms_alias" "data" {
  name          = "alias/${local.name}-data"
  target_key_id = aws_kms_key.data.key_id
}
