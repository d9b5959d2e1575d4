# Everything on the AWS side of a Hearus deployment: network, EKS, IAM for Karpenter and the
# AWS Load Balancer Controller, the interruption queue, the certificate, the shared file system
# for recordings and the image repository. Uses only the AWS provider, so `terraform validate`
# runs on it offline wherever that provider is in a local mirror (infra/check.sh).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only the first availability_zone_count zones (sorted by name) are used, so a zone AWS adds later never changes the subnets.
  state = "available"
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  azs        = slice(data.aws_availability_zones.available.names, 0, var.availability_zone_count)
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  dns_suffix = data.aws_partition.current.dns_suffix
}
