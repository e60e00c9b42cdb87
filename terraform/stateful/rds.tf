# RDS PostgreSQL. The master password is generated, stored and rotated by RDS
# in Secrets Manager (manage_master_user_password): it is never known to
# Terraform and never enters state.

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

  port                        = var.db_port
  db_name                     = local.db_name
  username                    = var.db_username
  manage_master_user_password = true

  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true

  multi_az               = var.db_multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name

  backup_retention_period    = var.db_backup_retention_days
  copy_tags_to_snapshot      = true
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately

  # Teardown first applies deletion_protection = false and a unique
  # final_snapshot_identifier, then destroys: the data survives as a snapshot.
  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = var.db_skip_final_snapshot
  final_snapshot_identifier = var.db_final_snapshot_identifier
  delete_automated_backups  = true
}
