# PostgreSQL and Redis admit only the EKS cluster security group, which every
# managed node and pod ENI carries, and only on their own port (db_port,
# redis_port).
#
# The rules exist once the cluster security group is known. `bootstrap up`
# applies this root beside eksctl as soon as the VPC's subnets exist, before
# EKS has made that group (cluster_security_group_id null: groups without
# rules), then grants the rules in a second, fast apply.

# A group's description is fixed at creation (changing it replaces the
# group): it names the default port, while the rules admit var.db_port and
# var.redis_port.
resource "aws_security_group" "db" {
  name        = "${local.name}-postgres"
  description = "PostgreSQL of ${local.name}: 5432 from the EKS cluster security group only"
  vpc_id      = var.vpc_id

  tags = { Name = "${local.name}-postgres" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "db_from_cluster" {
  count = var.cluster_security_group_id == null ? 0 : 1

  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the EKS cluster"
  ip_protocol                  = "tcp"
  from_port                    = var.db_port
  to_port                      = var.db_port
  referenced_security_group_id = var.cluster_security_group_id

  tags = { Name = "${local.name}-postgres-from-cluster" }
}

resource "aws_security_group" "redis" {
  name        = "${local.name}-redis"
  description = "Redis of ${local.name}: 6379 from the EKS cluster security group only"
  vpc_id      = var.vpc_id

  tags = { Name = "${local.name}-redis" }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_cluster" {
  count = var.cluster_security_group_id == null ? 0 : 1

  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from the EKS cluster"
  ip_protocol                  = "tcp"
  from_port                    = var.redis_port
  to_port                      = var.redis_port
  referenced_security_group_id = var.cluster_security_group_id

  tags = { Name = "${local.name}-redis-from-cluster" }
}

moved {
  from = aws_vpc_security_group_ingress_rule.db_from_cluster
  to   = aws_vpc_security_group_ingress_rule.db_from_cluster[0]
}

moved {
  from = aws_vpc_security_group_ingress_rule.redis_from_cluster
  to   = aws_vpc_security_group_ingress_rule.redis_from_cluster[0]
}
