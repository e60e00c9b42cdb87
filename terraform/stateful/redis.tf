# ElastiCache Redis: a replication group with encryption in transit and at
# rest. AUTH is on, but its token is not set here: ElastiCache has no
# write-only argument for it, and auth_token would store the token in state.
# `bootstrap data` sets it after creation with ModifyReplicationGroup
# (AuthToken, AuthTokenUpdateStrategy) from the <prefix>/redis secret, so the
# token lives only in Secrets Manager. By hand: see README.md.

resource "aws_elasticache_subnet_group" "this" {
  name        = local.name
  description = "Private subnets of ${local.name}"
  subnet_ids  = var.private_subnet_ids
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = local.redis_replication_group_id
  description          = "Redis for ${local.name}"

  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  num_cache_clusters   = var.redis_num_cache_clusters
  port                 = var.redis_port
  parameter_group_name = "default.redis${split(".", var.redis_engine_version)[0]}"

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.redis.id]

  automatic_failover_enabled = var.redis_automatic_failover
  multi_az_enabled           = var.redis_multi_az

  # At rest with ElastiCache's AWS-managed key, not the environment's own:
  # the key of an existing group cannot change without replacing the group
  # (and losing what it holds), so an upgrade of an environment made before
  # the key existed would recreate its Redis. No scanner rule asks for it.
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true

  snapshot_retention_limit   = var.redis_snapshot_retention_days
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately

  lifecycle {
    # The AUTH token is set and rotated outside Terraform (see above), so it
    # never enters state; ignore it rather than ever sending one from here.
    ignore_changes = [auth_token, auth_token_update_strategy]
  }
}
