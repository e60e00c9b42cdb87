# The stateful tier of one environment: RDS PostgreSQL, ElastiCache Redis, the
# backups/logs bucket, ECR repositories, Secrets Manager secrets and, when a
# domain is given, the ingress certificate. The VPC, subnets and the cluster
# security group belong to the EKS cluster (made by eksctl) and come in as
# variables. One file per service; this one holds the shared names.

locals {
  # sovd-production: the prefix of every name, and the RDS identifier and
  # the replication group ID unless the profile names them.
  name = "${var.application}-${var.environment}"

  db_identifier              = coalesce(var.db_identifier, local.name)
  redis_replication_group_id = coalesce(var.redis_replication_group_id, local.name)

  db_name        = coalesce(var.db_name, replace("${var.application}_${var.environment}", "-", "_"))
  secrets_prefix = coalesce(var.secrets_prefix, "${var.application}/${var.environment}")

  # "15" and "15.10" both belong to the postgres15 parameter group family.
  db_major_version = split(".", var.db_engine_version)[0]

  tags = merge(var.tags, {
    Environment = var.environment
    Application = var.application
    ManagedBy   = var.managed_by
  })
}
