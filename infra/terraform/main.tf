# Hearus on AWS EKS: the AWS resources (modules/platform), then the cluster's add-ons as Helm
# releases: Karpenter, the AWS Load Balancer Controller and kube-prometheus-stack. The
# application itself is applied with Kustomize (infra/k8s, docs/deploy.md).

provider "aws" {
  region = var.region
  default_tags {
    tags = var.tags
  }
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
  domain_name                          = var.domain_name
  route53_zone_id                      = var.route53_zone_id
  tls_certificate_pem                  = var.tls_certificate_pem
  tls_private_key_pem                  = var.tls_private_key_pem
  tls_certificate_chain_pem            = var.tls_certificate_chain_pem
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
