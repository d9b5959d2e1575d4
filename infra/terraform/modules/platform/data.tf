# The production data stores, managed by AWS (the dev overlay runs its own in the cluster):
# - RDS PostgreSQL: Multi-AZ, encrypted with the deployment's key, automated backups kept
#   `db_backup_retention_days` days (point-in-time recovery within them), a final snapshot on
#   deletion, deletion protection. Its master password is generated and kept by RDS in Secrets
#   Manager (manage_master_user_password): it is never in Terraform's state or variables.
# - ElastiCache Redis, two replication groups with different memory policies (docs/decisions.md):
#   `broker` (Celery's queues: noeviction, a task must never be evicted) and `cache` (the
#   channel layer and Django's cache: volatile-lru, every key there has a time to live). Each has
#   a primary and a replica in two zones with automatic failover; TLS in transit, encrypted at rest.
# Both accept connections only from the cluster's security group (nodes and pods).

resource "aws_db_subnet_group" "this" {
  name       = "${var.name}-postgres"
  subnet_ids = aws_subnet.private[*].id
  tags       = var.tags
}

resource "aws_security_group" "data" {
  name        = "${var.name}-data"
  description = "PostgreSQL and Redis from the EKS cluster's nodes and pods"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-data" })
}

resource "aws_vpc_security_group_ingress_rule" "data" {
  for_each                     = { postgres = 5432, redis = 6379 }
  security_group_id            = aws_security_group.data.id
  description                  = "${each.key} from the cluster"
  referenced_security_group_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
}

resource "aws_db_parameter_group" "this" {
  name   = "${var.name}-postgres${split(".", var.db_engine_version)[0]}"
  family = "postgres${split(".", var.db_engine_version)[0]}"
  # TLS only; slow statements and lock waits are logged (CloudWatch, below).
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  parameter {
    name  = "log_lock_waits"
    value = "1"
  }
  tags = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name = "${var.name}-rds-monitoring"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_161:IAM database authentication needs a token generator in the application; the password lives in Secrets Manager (RDS-managed) and reaches pods through External Secrets.
  identifier                    = "${var.name}-postgres"
  engine                        = "postgres"
  engine_version                = var.db_engine_version
  instance_class                = var.db_instance_class
  allocated_storage             = var.db_allocated_storage_gb
  max_allocated_storage         = var.db_allocated_storage_gb * 5
  storage_type                  = "gp3"
  storage_encrypted             = true
  kms_key_id                    = aws_kms_key.this.arn
  db_name                       = "hearus"
  username                      = "hearus"
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.this.arn
  multi_az                      = true
  db_subnet_group_name          = aws_db_subnet_group.this.name
  vpc_security_group_ids        = [aws_security_group.data.id]
  parameter_group_name          = aws_db_parameter_group.this.name
  publicly_accessible           = false
  backup_retention_period       = var.db_backup_retention_days
  backup_window                 = "17:00-18:00" # 02:00-03:00 in Korea, after the evening lectures
  maintenance_window            = "sun:18:30-sun:19:30"
  copy_tags_to_snapshot         = true
  delete_automated_backups      = false
  deletion_protection           = true
  skip_final_snapshot           = false
  final_snapshot_identifier     = "${var.name}-postgres-final"
  auto_minor_version_upgrade    = true
  # A major upgrade is a planned step (docs/deploy.md), never a side effect of an apply.
  allow_major_version_upgrade           = false
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.this.arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  tags                                  = var.tags
}

resource "aws_elasticache_subnet_group" "this" {
  name       = "${var.name}-redis"
  subnet_ids = aws_subnet.private[*].id
  tags       = var.tags
}

locals {
  # name => maxmemory-policy and how many daily snapshots are kept.
  redis_groups = {
    broker = { policy = "noeviction", snapshots = 7 }
    cache  = { policy = "volatile-lru", snapshots = 0 }
  }
}

resource "aws_elasticache_parameter_group" "this" {
  for_each = local.redis_groups
  name     = "${var.name}-${each.key}-redis7"
  family   = "redis7"
  parameter {
    name  = "maxmemory-policy"
    value = each.value.policy
  }
  tags = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV_AWS_31:An AUTH token would sit in Terraform's state; the groups are reachable only from the cluster's security group, over TLS (docs/decisions.md).
  for_each                   = local.redis_groups
  replication_group_id       = "${var.name}-${each.key}"
  description                = "Hearus ${each.key} (maxmemory-policy ${each.value.policy})"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.cache_node_type
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  multi_az_enabled           = true
  parameter_group_name       = aws_elasticache_parameter_group.this[each.key].name
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.data.id]
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.this.arn
  transit_encryption_enabled = true
  snapshot_retention_limit   = each.value.snapshots
  snapshot_window            = "18:00-19:00"
  maintenance_window         = "sun:19:30-sun:20:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false
  tags                       = var.tags
}
