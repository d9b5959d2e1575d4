# Hearus on AWS EKS: the AWS resources (modules/platform: network, EKS, RDS, ElastiCache, IAM,
# secrets), then the cluster's add-ons as Helm releases: Karpenter, the AWS Load Balancer
# Controller, External Secrets, kube-prometheus-stack, the Prometheus Adapter (and the NVIDIA
# device plugin with gpu_live). The
# application itself is applied with Kustomize (infra/k8s, docs/deploy.md).

provider "aws" {
  region = var.region
  default_tags {
    tags = var.tags
  }
}

# Drawn at every run, never stored; the platform module writes them into Secrets Manager once.
ephemeral "aws_secretsmanager_random_password" "django" {
  password_length     = 64
  exclude_punctuation = true
}

ephemeral "aws_secretsmanager_random_password" "grafana" {
  password_length     = 32
  exclude_punctuation = true
}

module "platform" {
  source = "./modules/platform"

  name                                 = var.name
  kubernetes_version                   = var.kubernetes_version
  vpc_cidr                             = var.vpc_cidr
  availability_zone_count              = var.availability_zone_count
  single_nat_gateway                   = var.single_nat_gateway
  cluster_endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  node_instance_types                  = var.node_instance_types
  node_ami_type                        = var.node_ami_type
  node_disk_size_gb                    = var.node_disk_size_gb
  node_count                           = var.node_count
  node_max_count                       = var.node_max_count
  support_type                         = var.support_type
  domain_name                          = var.domain_name
  route53_zone_id                      = var.route53_zone_id
  certificate_arn                      = var.certificate_arn
  db_engine_version                    = var.db_engine_version
  db_instance_class                    = var.db_instance_class
  db_allocated_storage_gb              = var.db_allocated_storage_gb
  db_backup_retention_days             = var.db_backup_retention_days
  cache_node_type                      = var.cache_node_type
  django_secret_key                    = ephemeral.aws_secretsmanager_random_password.django.random_password
  grafana_admin_password               = ephemeral.aws_secretsmanager_random_password.grafana.random_password
  tags                                 = var.tags
}

locals {
  kube_exec = {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", module.platform.cluster_name, "--region", var.region]
  }
}

provider "helm" {
  kubernetes = {
    host                   = module.platform.cluster_endpoint
    cluster_ca_certificate = base64decode(module.platform.cluster_certificate_authority)
    exec                   = local.kube_exec
  }
}

provider "kubernetes" {
  host                   = module.platform.cluster_endpoint
  cluster_ca_certificate = base64decode(module.platform.cluster_certificate_authority)
  exec {
    api_version = local.kube_exec.api_version
    command     = local.kube_exec.command
    args        = local.kube_exec.args
  }
}
