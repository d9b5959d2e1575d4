# `terraform test` of the platform module with a mocked AWS provider (no account, no network;
# infra/check.sh runs it with the provider from the local mirror): the module plans in its main
# configurations, and the plan has what docs/deploy.md promises.

mock_provider "aws" {
  # Mocked values already at plan time, so that the plan's ARNs and policies are known.
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/test" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_region" {
    defaults = { name = "ap-northeast-2" }
  }
  mock_data "aws_availability_zones" {
    defaults = { names = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c", "ap-northeast-2d"] }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:ap-northeast-2:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_eks_cluster" {
    defaults = {
      arn                   = "arn:aws:eks:ap-northeast-2:123456789012:cluster/hearus"
      certificate_authority = [{ data = "bW9jaw==" }]
    }
  }
  mock_resource "aws_db_instance" {
    defaults = {
      master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds-db", kms_key_id = "k", secret_status = "active" }]
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:ap-northeast-2:123456789012:hearus-karpenter-interruption" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:hearus" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:ap-northeast-2:123456789012:log-group:mocked" }
  }
}

variables {
  name                                 = "hearus"
  kubernetes_version                   = "1.35"
  vpc_cidr                             = "10.0.0.0/16"
  availability_zone_count              = 3
  single_nat_gateway                   = true
  cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]
  node_instance_types                  = ["t3.large"]
  node_ami_type                        = "AL2023_x86_64_STANDARD"
  node_disk_size_gb                    = 40
  node_count                           = 2
  node_max_count                       = 4
  support_type                         = "STANDARD"
  domain_name                          = ""
  route53_zone_id                      = ""
  certificate_arn                      = "arn:aws:acm:ap-northeast-2:123456789012:certificate/imported"
  db_engine_version                    = "17.6"
  db_instance_class                    = "db.t4g.medium"
  db_allocated_storage_gb              = 50
  db_backup_retention_days             = 14
  cache_node_type                      = "cache.t4g.small"
  tags                                 = { project = "hearus" }
  django_secret_key                    = "test-only-not-a-secret"
  grafana_admin_password               = "test-only-not-a-secret"
}

run "imported_certificate" {
  command = plan

  assert {
    condition     = length(aws_subnet.private) == 3 && length(aws_nat_gateway.this) == 1
    error_message = "three zones, one NAT gateway by default"
  }
  assert {
    condition     = aws_eks_cluster.this.upgrade_policy[0].support_type == "STANDARD"
    error_message = "the EKS support type is set"
  }
  assert {
    condition     = aws_launch_template.system.metadata_options[0].http_put_response_hop_limit == 1 && aws_launch_template.system.metadata_options[0].http_tokens == "required"
    error_message = "pods must not reach the node role through IMDS"
  }
  assert {
    condition     = aws_eks_node_group.system.scaling_config[0].max_size == 4
    error_message = "the system node group can grow"
  }
  assert {
    condition     = aws_db_instance.this.multi_az && aws_db_instance.this.storage_encrypted && aws_db_instance.this.backup_retention_period == 14 && aws_db_instance.this.manage_master_user_password && aws_db_instance.this.deletion_protection
    error_message = "RDS: Multi-AZ, encrypted, backed up, password kept by RDS, protected"
  }
  assert {
    condition     = aws_elasticache_replication_group.this["broker"].multi_az_enabled && aws_elasticache_replication_group.this["cache"].transit_encryption_enabled
    error_message = "ElastiCache: Multi-AZ, TLS"
  }
  assert {
    condition     = one([for p in aws_elasticache_parameter_group.this["broker"].parameter : p.value if p.name == "maxmemory-policy"]) == "noeviction" && one([for p in aws_elasticache_parameter_group.this["cache"].parameter : p.value if p.name == "maxmemory-policy"]) == "volatile-lru"
    error_message = "the broker never evicts, the cache does"
  }
  assert {
    condition     = length(aws_acm_certificate.domain) == 0 && output.certificate_arn == "arn:aws:acm:ap-northeast-2:123456789012:certificate/imported"
    error_message = "without a domain the imported certificate is used"
  }
  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.karpenter_controller.policy).Statement :
      statement.Sid != "AllowPricingReadActions" || !can(statement.Condition)
    ])
    error_message = "pricing:GetProducts must not be region-conditioned (the Price List API lives in a few regions only)"
  }
  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.load_balancer_controller.policy).Statement :
      !contains(flatten([statement.Action]), "ec2:CreateSecurityGroup") || !can(statement.Condition)
    ])
    error_message = "ec2:CreateSecurityGroup is unconditioned, as in the published policy"
  }
}

run "domain_certificate" {
  command = plan

  variables {
    domain_name     = "hearus.example.ac.kr"
    route53_zone_id = "Z0123456789ABCDEFGHIJ"
    certificate_arn = ""
  }

  assert {
    condition     = length(aws_acm_certificate.domain) == 1
    error_message = "with a domain, a DNS-validated certificate is requested"
  }
}

run "refuses_al2" {
  command = plan

  variables {
    node_ami_type = "AL2_x86_64"
  }
  expect_failures = [var.node_ami_type]
}
