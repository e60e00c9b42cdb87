# RDS PostgreSQL. The master password is generated, stored and rotated by RDS
# in Secrets Manager (manage_master_user_password): it is never known to
# Terraform and never enters state.

locals {
  # (local.db_identifier, in main.tf, is known before the instance exists: its
  # log groups are made first under /aws/rds/instance/<identifier>/.)

  # What RDS sends to CloudWatch Logs: the server log (connections,
  # disconnections, errors, slow statements per the parameter group) and the
  # engine upgrade log.
  db_log_exports = ["postgresql", "upgrade"]
}

resource "aws_db_subnet_group" "this" {
  name        = local.name
  description = "Private subnets of ${local.name}"
  subnet_ids  = var.private_subnet_ids
}

resource "aws_db_parameter_group" "this" {
  name        = "${local.name}-postgres${local.db_major_version}"
  family      = "postgres${local.db_major_version}"
  description = "PostgreSQL ${local.db_major_version} for ${local.name}: TLS required"

  # Clients must use TLS (sslmode=require in DATABASE_URL).
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # A major upgrade needs a parameter group of the new family: make it before
  # the old one goes, which the instance still uses until it switches.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "this" {
  identifier     = local.db_identifier
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  port                          = var.db_port
  db_name                       = local.db_name
  username                      = var.db_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.data.arn

  # IAM database authentication: a role can be granted rds_iam and connect
  # with a short-lived token instead of a password.
  iam_database_authentication_enabled = true

  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  # Storage stays on the AWS-managed key (aws/rds) on purpose: the final
  # snapshot teardown leaves must stay restorable after this environment's
  # own key (kms.tf) is destroyed with it.

  multi_az               = var.db_multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name

  # Performance Insights (7 days are free) and enhanced monitoring (OS
  # metrics every db_monitoring_interval seconds), the logs in CloudWatch.
  performance_insights_enabled          = true
  performance_insights_retention_period = 7
  performance_insights_kms_key_id       = aws_kms_key.data.arn
  monitoring_interval                   = var.db_monitoring_interval
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports       = local.db_log_exports

  backup_retention_period    = var.db_backup_retention_days
  copy_tags_to_snapshot      = true
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately
  # A major version change (engine_version "15" -> "16") is refused by RDS
  # unless allowed; it comes with parameter_group_name of the new family in
  # the same ModifyDBInstance, as RDS requires for a custom group. The
  # provider's docs (hashicorp/terraform-provider-aws
  # website/docs/r/db_instance.html.markdown at commit
  # 0130d51a023089f30aa9082530b4bfe08980278a): "When upgrading the major
  # version of an engine, allow_major_version_upgrade must be set to true";
  # they say nothing of the parameter group, whose order (new group, modify,
  # old group deleted) is checked against moto only (TestUpgrade).
  allow_major_version_upgrade = var.allow_major_version_upgrade

  # Teardown first applies deletion_protection = false and a unique
  # final_snapshot_identifier, then destroys: the data survives as a snapshot.
  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = var.db_skip_final_snapshot
  final_snapshot_identifier = var.db_final_snapshot_identifier
  delete_automated_backups  = true

  # RDS makes a log group itself on the first export, with no retention and
  # no key; these come first so the logs land in groups this root owns.
  # The monitoring role must be usable before RDS accepts it.
  depends_on = [aws_cloudwatch_log_group.db, aws_iam_role_policy_attachment.rds_monitoring]
}

resource "aws_cloudwatch_log_group" "db" {
  for_each = toset(local.db_log_exports)

  name              = "/aws/rds/instance/${local.db_identifier}/${each.value}"
  retention_in_days = var.db_log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

# Enhanced monitoring: RDS publishes OS metrics to CloudWatch Logs as this
# role, with AWS's managed policy for exactly that.
data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }

    # Only on behalf of this account (the confused-deputy guard AWS documents
    # for the monitoring role).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name               = "${local.name}-rds-monitoring"
  description        = "RDS enhanced monitoring of ${local.name}"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
