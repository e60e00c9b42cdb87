# Everything the app's Helm values and External Secrets need, read by
# `bootstrap values` from the remote state (terraform output -json). No output
# carries a secret value: the URL formats hold placeholders that the pod fills
# from the secrets (Kubernetes expands $(VAR) in env values from variables
# defined before it).

output "environment" {
  description = "Environment these resources belong to."
  value       = var.environment
}

output "region" {
  description = "Region of every resource here."
  value       = var.region
}

# --- PostgreSQL (config.database.*) ---

output "db_host" {
  description = "PostgreSQL endpoint host name (config.database.host)."
  value       = aws_db_instance.this.address
}

output "db_port" {
  description = "PostgreSQL port (config.database.port)."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Database name (config.database.name)."
  value       = aws_db_instance.this.db_name
}

output "db_username" {
  description = "Master user name (config.database.user)."
  value       = aws_db_instance.this.username
}

output "db_instance_identifier" {
  description = "RDS instance identifier."
  value       = aws_db_instance.this.identifier
}

output "db_master_user_secret_arn" {
  description = "ARN of the secret in which RDS keeps and rotates the master password (JSON keys username, password)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "db_security_group_id" {
  description = "Security group of PostgreSQL."
  value       = aws_security_group.db.id
}

# --- Redis (config.redis.*) ---

output "redis_host" {
  description = "Primary endpoint of the Redis replication group (config.redis.host)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "redis_reader_host" {
  description = "Reader endpoint of the Redis replication group."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "redis_port" {
  description = "Redis port (config.redis.port)."
  value       = aws_elasticache_replication_group.this.port
}

output "redis_replication_group_id" {
  description = "Replication group ID: the target of ModifyReplicationGroup when the AUTH token is set or rotated."
  value       = aws_elasticache_replication_group.this.id
}

output "redis_security_group_id" {
  description = "Security group of Redis."
  value       = aws_security_group.redis.id
}

# --- Connection string formats, no secrets inline ---

output "database_url_format" {
  description = "DATABASE_URL with the app role's login and password as $(DB_USER) and $(DB_PASSWORD): set both (username and password of the database secret, URL-encoded) before DATABASE_URL in the pod's env."
  value       = "postgresql://$(DB_USER):$(DB_PASSWORD)@${aws_db_instance.this.address}:${aws_db_instance.this.port}/${aws_db_instance.this.db_name}?sslmode=require"
}

output "redis_url_format" {
  description = "REDIS_URL (TLS, rediss://) with the AUTH token as $(REDIS_PASSWORD): set REDIS_PASSWORD (auth_token of the redis secret) before REDIS_URL in the pod's env."
  value       = "rediss://:$(REDIS_PASSWORD)@${aws_elasticache_replication_group.this.primary_endpoint_address}:${aws_elasticache_replication_group.this.port}/0"
}

# --- Images ---

output "ecr_repository_urls" {
  description = "Repository URL by repository name (backend.image.repository, frontend.image.repository)."
  value       = { for name, repo in aws_ecr_repository.this : name => repo.repository_url }
}

output "ecr_repository_arns" {
  description = "Repository ARN by repository name (for push/pull IAM policies)."
  value       = { for name, repo in aws_ecr_repository.this : name => repo.arn }
}

# --- Bucket ---

output "bucket_name" {
  description = "Backups/logs bucket name."
  value       = aws_s3_bucket.data.id
}

output "bucket_arn" {
  description = "Backups/logs bucket ARN (for IAM policies)."
  value       = aws_s3_bucket.data.arn
}

# --- Secrets (names and ARNs, never values) ---

output "secret_names" {
  description = "Secrets Manager names by purpose: database, jwt, redis (External Secrets remoteRef.key)."
  value = {
    database = aws_secretsmanager_secret.database.name
    jwt      = aws_secretsmanager_secret.jwt.name
    redis    = aws_secretsmanager_secret.redis.name
  }
}

output "secret_arns" {
  description = "Secrets Manager ARNs by purpose: database, jwt, redis, and db_master (the RDS-managed master password, read only by bootstrap's role Job)."
  value = {
    database  = aws_secretsmanager_secret.database.arn
    jwt       = aws_secretsmanager_secret.jwt.arn
    redis     = aws_secretsmanager_secret.redis.arn
    db_master = aws_db_instance.this.master_user_secret[0].secret_arn
  }
}

output "secret_keys" {
  description = "JSON keys inside each secret, for External Secrets' remoteRef.property."
  value = {
    database  = ["engine", "host", "port", "dbname", "username", "password", "sslmode", "group"]
    jwt       = ["secret"]
    redis     = ["auth_token"]
    db_master = ["username", "password"]
  }
}

# --- Ingress certificate ---

output "certificate_arn" {
  description = "ARN of the validated ingress certificate (alb.ingress.kubernetes.io/certificate-arn); null when no domain was given."
  value       = local.make_certificate ? aws_acm_certificate_validation.ingress[0].certificate_arn : null
}
