# Inputs of the stateful tier. `bootstrap data` passes every one of them from
# the environment's profile and from the live cluster; a hand-runner copies
# terraform.tfvars.example. Validations catch what a hand-runner could get
# wrong before any AWS call is made.

# ---------------------------------------------------------------------------
# Environment and placement
# ---------------------------------------------------------------------------

variable "environment" {
  description = "Environment name (production, staging, ...). Names every resource and the secrets prefix."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.environment))
    error_message = "The environment must be 3-20 characters of lower-case letters, digits and hyphens, starting with a letter (e.g. production)."
  }
}

variable "application" {
  description = "Application name: the prefix of resource names and the Application tag."
  type        = string
  default     = "sovd"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.application))
    error_message = "The application must be 3-16 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region of the cluster and of every resource here (e.g. us-east-1)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "The region must be an AWS region name such as us-east-1."
  }
}

variable "vpc_id" {
  description = "VPC of the EKS cluster (read from the live cluster: aws eks describe-cluster --query cluster.resourcesVpcConfig.vpcId)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "The vpc_id must be a VPC ID such as vpc-0123456789abcdef0."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets of the cluster's VPC, one per availability zone; RDS and ElastiCache are placed in them."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "Give at least two private subnets in different availability zones: RDS subnet groups need two AZs, Multi-AZ needs them."
  }

  validation {
    condition     = alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "Every private subnet ID must look like subnet-0123456789abcdef0."
  }

  validation {
    condition     = length(distinct(var.private_subnet_ids)) == length(var.private_subnet_ids)
    error_message = "The private subnet IDs must not repeat."
  }
}

variable "cluster_security_group_id" {
  description = "The EKS cluster security group (cluster.resourcesVpcConfig.clusterSecurityGroupId); the only source admitted to PostgreSQL and Redis. Null while EKS has not made it yet: the groups are created without rules, and a later apply with the group adds them."
  type        = string
  default     = null

  validation {
    condition     = var.cluster_security_group_id == null || can(regex("^sg-[0-9a-f]{8,17}$", var.cluster_security_group_id))
    error_message = "The cluster_security_group_id must be a security group ID such as sg-0123456789abcdef0."
  }
}

variable "managed_by" {
  description = "Value of the ManagedBy tag."
  type        = string
  default     = "bootstrap"
}

variable "tags" {
  description = "Extra tags for every resource. Environment, Application and ManagedBy are always set from the variables above and cannot be overridden here."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setintersection(keys(var.tags), ["Environment", "Application", "ManagedBy"])) == 0
    error_message = "Do not set Environment, Application or ManagedBy in tags: they come from environment, application and managed_by."
  }

  # AWS's tag rules ("Tagging AWS resources"): at most 50 tags on a resource
  # (47 here, with the three above), keys of 1-128 and values of 0-256
  # letters, digits, spaces and _ . : / = + - @, no aws: prefix.
  validation {
    condition     = length(var.tags) <= 47
    error_message = "At most 47 tags: AWS allows 50 on a resource, and Environment, Application and ManagedBy are three."
  }

  validation {
    condition = alltrue([for k, v in var.tags :
      length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:") &&
      can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", k)) && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", v))
    ])
    error_message = "Tag keys must be 1-128 and values 0-256 characters of letters, digits, spaces and _ . : / = + - @, and keys must not start with aws:."
  }
}

variable "apply_immediately" {
  description = "Apply RDS and ElastiCache modifications now instead of in the next maintenance window."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------
# RDS PostgreSQL
# ---------------------------------------------------------------------------

variable "db_identifier" {
  description = "RDS instance identifier; null means <application>-<environment> (sovd-production)."
  type        = string
  default     = null

  validation {
    condition     = var.db_identifier == null ? true : (can(regex("^[a-z][a-z0-9-]{0,62}$", var.db_identifier)) && !can(regex("--|-$", var.db_identifier)))
    error_message = "The db_identifier must start with a letter, hold lower-case letters, digits and single hyphens, not end with a hyphen, and be at most 63 characters."
  }
}

variable "db_port" {
  description = "PostgreSQL port (the security group admits only it)."
  type        = number
  default     = 5432

  validation {
    condition     = var.db_port >= 1150 && var.db_port <= 65535 && floor(var.db_port) == var.db_port
    error_message = "The db_port must be a whole number from 1150 to 65535 (RDS's range)."
  }
}

variable "db_instance_class" {
  description = "RDS instance class (production db.t3.large)."
  type        = string
  default     = "db.t3.large"

  validation {
    condition     = can(regex("^db\\.[a-z0-9-]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "The db_instance_class must be an RDS instance class such as db.t3.large."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL engine version: a major version (\"15\", RDS picks the default minor) or major.minor (\"15.10\"). The parameter group family follows the major version."
  type        = string
  default     = "15"

  validation {
    condition     = can(regex("^(1[5-9]|[2-9][0-9])(\\.[0-9]+)?$", var.db_engine_version))
    error_message = "The db_engine_version must be PostgreSQL 15 or later, written as \"15\" or \"15.10\"."
  }
}

variable "allow_major_version_upgrade" {
  description = "Let this apply move the PostgreSQL major version (db_engine_version's major above the instance's): RDS refuses a major change without it (ModifyDBInstance AllowMajorVersionUpgrade). Set only by `bootstrap upgrade --allow-database-major`, after its manual snapshot; the parameter group of the new family is made before the old one goes (rds.tf, create_before_destroy)."
  type        = bool
  default     = false
}

variable "db_allocated_storage" {
  description = "Initial gp3 storage in GB (production 100)."
  type        = number
  default     = 100

  validation {
    condition     = var.db_allocated_storage >= 20 && var.db_allocated_storage <= 65536 && floor(var.db_allocated_storage) == var.db_allocated_storage
    error_message = "The db_allocated_storage must be a whole number of GB between 20 and 65536."
  }
}

variable "db_max_allocated_storage" {
  description = "Upper bound for storage autoscaling in GB; 0 turns autoscaling off."
  type        = number
  default     = 500

  validation {
    condition     = var.db_max_allocated_storage == 0 || (var.db_max_allocated_storage >= var.db_allocated_storage * 1.1 && var.db_max_allocated_storage <= 65536)
    error_message = "The db_max_allocated_storage must be 0 (no autoscaling) or at least 10% above db_allocated_storage, and at most 65536."
  }
}

variable "db_multi_az" {
  description = "Run a synchronous standby in a second AZ (production true)."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Automated backup retention in days (production 7, staging 1)."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "The db_backup_retention_days must be between 1 and 35: automated backups stay on."
  }
}

variable "db_name" {
  description = "Database created in the instance; null means <application>_<environment> (sovd_production)."
  type        = string
  default     = null

  validation {
    condition     = var.db_name == null ? true : can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.db_name)) && !contains(["postgres", "template0", "template1", "rdsadmin"], var.db_name)
    error_message = "The db_name must start with a letter and hold only letters, digits and underscores (at most 63), and not be postgres, template0, template1 or rdsadmin."
  }
}

variable "db_username" {
  description = "Master user name. Its password is generated and kept by RDS in Secrets Manager (manage_master_user_password)."
  type        = string
  default     = "sovd_admin"

  validation {
    # Reserved in any case: postgres and RDS's own roles, role names
    # PostgreSQL reserves (public, none, pg_*, and rds_* roles RDS makes), and
    # PostgreSQL's reserved key words (RDS: "can't be a reserved word for the
    # chosen database engine"). bootstrap's config.ReservedDBUsername holds
    # the same list; a test keeps them equal.
    condition = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.db_username)) && !can(regex("^(pg_|rds_)", lower(var.db_username))) && !contains([
      "postgres", "rdsadmin", "rdsrepladmin", "rdstopmgr", "public", "none",
      "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast",
      "check", "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role",
      "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do",
      "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in",
      "initially", "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
      "null", "offset", "on", "only", "or", "order", "placing", "primary", "references", "returning", "select",
      "session_user", "some", "symmetric", "system_user", "table", "then", "to", "trailing", "true", "union",
      "unique", "user", "using", "variadic", "when", "where", "window", "with",
    ], lower(var.db_username))
    error_message = "The db_username must start with a letter, hold only letters, digits and underscores, and not be a name RDS or PostgreSQL reserves in any case (postgres, rdsadmin, public, pg_*, rds_*, an SQL reserved word such as user)."
  }
}

variable "db_deletion_protection" {
  description = "Refuse to delete the instance. Teardown sets it to false in an apply before destroy."
  type        = bool
  default     = true
}

variable "db_skip_final_snapshot" {
  description = "Delete the instance without a final snapshot (bootstrap passes the profile's protection.finalSnapshot, negated; the built-in staging profile turns it off). With false, destroy needs db_final_snapshot_identifier."
  type        = bool
  default     = false
}

variable "db_final_snapshot_identifier" {
  description = "Name of the snapshot taken when the instance is deleted. Chosen unique at teardown (e.g. sovd-production-final-20260102T030405Z) and applied before destroy."
  type        = string
  default     = null

  validation {
    condition     = var.db_final_snapshot_identifier == null ? true : (can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,254}$", var.db_final_snapshot_identifier)) && !can(regex("--|-$", var.db_final_snapshot_identifier)))
    error_message = "The db_final_snapshot_identifier must start with a letter, hold letters, digits and single hyphens, not end with a hyphen, and be at most 255 characters."
  }
}

variable "db_monitoring_interval" {
  description = "Seconds between enhanced monitoring (OS metrics) samples; 0 turns it off."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.db_monitoring_interval)
    error_message = "The db_monitoring_interval must be one of 0, 1, 5, 10, 15, 30, 60 (RDS's values)."
  }
}

variable "db_log_retention_days" {
  description = "Days the database's CloudWatch logs (postgresql, upgrade) are kept."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.db_log_retention_days)
    error_message = "The db_log_retention_days must be a CloudWatch Logs retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

# ---------------------------------------------------------------------------
# ElastiCache Redis
# ---------------------------------------------------------------------------

variable "redis_replication_group_id" {
  description = "ElastiCache replication group ID; null means <application>-<environment> (sovd-production)."
  type        = string
  default     = null

  validation {
    condition     = var.redis_replication_group_id == null ? true : (can(regex("^[a-z][a-z0-9-]{0,39}$", var.redis_replication_group_id)) && !can(regex("--|-$", var.redis_replication_group_id)))
    error_message = "The redis_replication_group_id must start with a letter, hold lower-case letters, digits and single hyphens, not end with a hyphen, and be at most 40 characters."
  }
}

variable "redis_port" {
  description = "Redis port (the security group admits only it)."
  type        = number
  default     = 6379

  validation {
    condition     = var.redis_port >= 1024 && var.redis_port <= 65535 && floor(var.redis_port) == var.redis_port
    error_message = "The redis_port must be a whole number from 1024 to 65535."
  }
}

variable "redis_node_type" {
  description = "ElastiCache node type (production cache.t3.medium)."
  type        = string
  default     = "cache.t3.medium"

  validation {
    condition     = can(regex("^cache\\.[a-z0-9-]+\\.[a-z0-9]+$", var.redis_node_type))
    error_message = "The redis_node_type must be an ElastiCache node type such as cache.t3.medium."
  }
}

variable "redis_engine_version" {
  description = "Redis engine version, major.minor (\"7.1\"). The replication group uses the default parameter group of that major version."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^[7-9]\\.[0-9]+$", var.redis_engine_version))
    error_message = "The redis_engine_version must be Redis 7 or later written as major.minor, such as 7.1."
  }
}

variable "redis_num_cache_clusters" {
  description = "Nodes in the replication group: one primary plus replicas (production 2)."
  type        = number
  default     = 2

  validation {
    condition     = var.redis_num_cache_clusters >= 1 && var.redis_num_cache_clusters <= 6 && floor(var.redis_num_cache_clusters) == var.redis_num_cache_clusters
    error_message = "The redis_num_cache_clusters must be a whole number from 1 to 6."
  }
}

variable "redis_automatic_failover" {
  description = "Promote a replica when the primary fails (needs at least 2 nodes)."
  type        = bool
  default     = true

  validation {
    condition     = !var.redis_automatic_failover || var.redis_num_cache_clusters >= 2
    error_message = "Automatic failover needs redis_num_cache_clusters of 2 or more."
  }
}

variable "redis_multi_az" {
  description = "Place the replicas in other AZs than the primary (needs automatic failover)."
  type        = bool
  default     = true

  validation {
    condition     = !var.redis_multi_az || var.redis_automatic_failover
    error_message = "Multi-AZ for Redis needs redis_automatic_failover = true."
  }
}

variable "redis_snapshot_retention_days" {
  description = "Days of automatic Redis snapshots; 0 turns them off."
  type        = number
  default     = 7

  validation {
    condition     = var.redis_snapshot_retention_days >= 0 && var.redis_snapshot_retention_days <= 35
    error_message = "The redis_snapshot_retention_days must be between 0 and 35."
  }
}

# ---------------------------------------------------------------------------
# S3 bucket for backups and logs
# ---------------------------------------------------------------------------

variable "bucket_name" {
  description = "Name of the backups/logs bucket; globally unique (e.g. sovd-production-data-<account id>)."
  type        = string

  validation {
    # S3's general purpose bucket naming rules, without dots (TLS to a
    # virtual-hosted bucket name cannot cover them), and the prefixes and
    # suffixes S3 reserves.
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|\\.mrap|--x-s3|--table-s3)$", var.bucket_name))
    error_message = "The bucket_name must be 3-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit, without S3's reserved prefixes (xn--, sthree-, amzn-s3-demo-) and suffixes (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)."
  }

  validation {
    # Its access-log bucket, <bucket_name>-access-logs unless
    # access_log_bucket_name is set, must fit S3's 63 characters too: the
    # name is refused here, before anything is made, rather than at the
    # access-log bucket's create (s3.tf).
    condition     = var.access_log_bucket_name != null || length(var.bucket_name) <= 51
    error_message = "The bucket_name must be at most 51 characters when access_log_bucket_name is not set: its access-log bucket <bucket_name>-access-logs must fit S3's 63."
  }
}

variable "access_log_bucket_name" {
  description = "Bucket that receives the data bucket's S3 server access logs; null means <bucket_name>-access-logs."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket_name == null ? true : (can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket_name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$", var.access_log_bucket_name)))
    error_message = "The access_log_bucket_name must be a valid S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens, not an IP address."
  }
}

variable "bucket_force_destroy" {
  description = "Let destroy empty the bucket and its access log bucket (every object version) first. Keep false where the backups matter."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Objects under logs/ expire after this many days."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 31
    error_message = "The log_retention_days must be at least 31 (logs move to STANDARD_IA after 30 days)."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Overwritten or deleted object versions are removed after this many days."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "The noncurrent_version_retention_days must be at least 1."
  }
}

# ---------------------------------------------------------------------------
# ECR
# ---------------------------------------------------------------------------

variable "ecr_repository_names" {
  description = "ECR repositories for the app's images."
  type        = list(string)
  default     = ["sovd-backend", "sovd-frontend"]

  validation {
    condition     = length(var.ecr_repository_names) > 0 && alltrue([for n in var.ecr_repository_names : can(regex("^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$", n)) && length(n) >= 2 && length(n) <= 256])
    error_message = "Each ECR repository name must be lower-case letters and digits, separated by single . _ - or /."
  }

  validation {
    condition     = length(distinct(var.ecr_repository_names)) == length(var.ecr_repository_names)
    error_message = "The ECR repository names must not repeat."
  }
}

variable "ecr_keep_tagged_images" {
  description = "Tagged images kept per repository; older ones expire. Untagged images expire after a day."
  type        = number
  default     = 10

  validation {
    condition     = var.ecr_keep_tagged_images >= 1 && floor(var.ecr_keep_tagged_images) == var.ecr_keep_tagged_images
    error_message = "The ecr_keep_tagged_images must be a whole number of at least 1."
  }
}

variable "ecr_image_tag_mutability" {
  description = "IMMUTABLE makes every pushed tag final, so a deployed tag always names the image that was scanned and reviewed; MUTABLE lets a tag such as latest move to a new image."
  type        = string
  default     = "IMMUTABLE"

  validation {
    condition     = contains(["MUTABLE", "IMMUTABLE"], var.ecr_image_tag_mutability)
    error_message = "The ecr_image_tag_mutability must be MUTABLE or IMMUTABLE."
  }
}

variable "ecr_force_delete" {
  description = "Let destroy delete repositories that still hold images."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------
# Secrets Manager
# ---------------------------------------------------------------------------

variable "secrets_prefix" {
  description = "Prefix of the secret names; null means <application>/<environment> (sovd/production). Secrets are <prefix>/database, <prefix>/jwt, <prefix>/redis."
  type        = string
  default     = null

  validation {
    # At most 400 characters: a secret's name is <prefix>/<name> and Secrets
    # Manager's CreateSecret takes names of up to 512; 400 leaves the names
    # below the prefix their room.
    condition     = var.secrets_prefix == null ? true : (can(regex("^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$", var.secrets_prefix)) && length(var.secrets_prefix) <= 400)
    error_message = "The secrets_prefix must be path segments of letters, digits and _+=.@- separated by single slashes, without a leading or trailing slash, at most 400 characters."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored: 0 deletes at once (an unprotected environment, so a re-create can reuse the name; bootstrap passes the profile's secrets.recoveryWindowDays), else 7-30."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "The secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "generated_secrets_version" {
  description = "Version of the generated JWT and Redis secrets. Raise it to write new random values (rotation); the values themselves never enter state."
  type        = number
  default     = 1

  validation {
    condition     = var.generated_secrets_version >= 1 && floor(var.generated_secrets_version) == var.generated_secrets_version
    error_message = "The generated_secrets_version must be a whole number of at least 1."
  }
}

# ---------------------------------------------------------------------------
# Optional TLS certificate for the ingress
# ---------------------------------------------------------------------------

variable "domain_name" {
  description = "Domain of the app's ingress (e.g. sovd.example.com). With route53_zone_id, an ACM certificate is issued and validated by DNS; null skips it."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null ? true : can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name)) && length(var.domain_name) <= 253
    error_message = "The domain_name must be a lower-case DNS name such as sovd.example.com: labels of 1-63 characters, at most 253 in all."
  }
}

variable "subject_alternative_names" {
  description = "Further names on the certificate (same hosted zone)."
  type        = list(string)
  default     = []
}

variable "route53_zone_id" {
  description = "Public hosted zone that holds domain_name; the certificate's validation records are written there."
  type        = string
  default     = null

  validation {
    condition     = (var.route53_zone_id == null) == (var.domain_name == null)
    error_message = "Set domain_name and route53_zone_id together, or neither."
  }

  validation {
    condition     = var.route53_zone_id == null ? true : can(regex("^Z[A-Z0-9]{1,31}$", var.route53_zone_id))
    error_message = "The route53_zone_id must be a hosted zone ID such as Z0123456789ABCDEFGHIJ (without /hostedzone/)."
  }
}
