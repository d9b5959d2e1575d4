# The EKS cluster: API authentication through access entries (no aws-auth ConfigMap), secrets
# encrypted with our key, every control-plane log type on, and a managed node group for the
# system pods (add-ons, Prometheus, Grafana): t3.large, 40 GB volumes, 2 nodes, as the original
# deployment had. The application's pods run on Karpenter's NodePools (infra/k8s).

resource "aws_iam_role" "cluster" {
  name = "${var.name}-cluster"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_cloudwatch_log_group" "cluster" {
  # The name EKS writes to; created here to set retention and encryption.
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_eks_cluster" "this" {
  #checkov:skip=CKV_AWS_39:Terraform's Helm provider and the operators' kubectl run outside the VPC (docs/deploy.md); the private endpoint serves the nodes.
  #checkov:skip=CKV_AWS_38:Who may reach the public endpoint is the variable cluster_endpoint_public_access_cidrs; its default is open so that a first deployment works from anywhere, and docs/deploy.md says to narrow it.
  name     = var.name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = true
  }

  vpc_config {
    subnet_ids              = aws_subnet.private[*].id
    endpoint_private_access = true
    endpoint_public_access  = true
    public_access_cidrs     = var.cluster_endpoint_public_access_cidrs
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = aws_kms_key.this.arn
    }
  }

  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  # STANDARD: when the version leaves standard support the cluster is upgraded by AWS instead
  # of silently moving to paid extended support (EXTENDED: 6 times the hourly price).
  upgrade_policy {
    support_type = var.support_type
  }

  tags       = merge(var.tags, { "karpenter.sh/discovery" = var.name })
  depends_on = [aws_iam_role_policy_attachment.cluster, aws_cloudwatch_log_group.cluster]
}

# Karpenter finds the nodes' security group by this tag (EC2NodeClass).
resource "aws_ec2_tag" "cluster_security_group_discovery" {
  resource_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
  key         = "karpenter.sh/discovery"
  value       = var.name
}

# -- nodes ------------------------------------------------------------------------------------

resource "aws_iam_role" "node" {
  name = "${var.name}-node"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
  ])
  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

# The system nodes' launch template: IMDSv2 with one hop, so that pods (one hop further) never
# reach the node role's credentials (they use EKS Pod Identity); an encrypted gp3 root volume.
resource "aws_launch_template" "system" {
  name_prefix            = "${var.name}-system-"
  update_default_version = true
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }
  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.node_disk_size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = aws_kms_key.this.arn
      delete_on_termination = true
    }
  }
  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-system" })
  }
  tags = var.tags
}

resource "aws_eks_node_group" "system" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "system"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = aws_subnet.private[*].id
  instance_types  = var.node_instance_types
  ami_type        = var.node_ami_type
  capacity_type   = "ON_DEMAND"

  launch_template {
    id      = aws_launch_template.system.id
    version = aws_launch_template.system.latest_version
  }

  # Karpenter adds nodes for the application; this group only grows for the system pods.
  scaling_config {
    desired_size = var.node_count
    min_size     = var.node_count
    max_size     = var.node_max_count
  }

  update_config {
    max_unavailable = 1
  }

  labels = { "hearus.io/role" = "system" }
  tags   = var.tags

  lifecycle {
    ignore_changes = [scaling_config[0].desired_size]
  }
  depends_on = [aws_iam_role_policy_attachment.node]
}

# -- add-ons ------------------------------------------------------------------------------------

resource "aws_eks_addon" "this" {
  for_each = toset([
    "vpc-cni",
    "kube-proxy",
    "coredns",
    "eks-pod-identity-agent",
    # Resource metrics for the HorizontalPodAutoscalers.
    "metrics-server",
  ])
  cluster_name = aws_eks_cluster.this.name
  addon_name   = each.value
  # The VPC CNI enforces the NetworkPolicies of infra/k8s.
  configuration_values        = each.value == "vpc-cni" ? jsonencode({ enableNetworkPolicy = "true" }) : null
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags
  depends_on                  = [aws_eks_node_group.system]
}

# Storage drivers, each with its own role through EKS Pod Identity.
locals {
  storage_drivers = {
    "aws-ebs-csi-driver" = { service_account = "ebs-csi-controller-sa", policy = "service-role/AmazonEBSCSIDriverPolicy" }
    "aws-efs-csi-driver" = { service_account = "efs-csi-controller-sa", policy = "service-role/AmazonEFSCSIDriverPolicy" }
  }
}

resource "aws_iam_role" "storage_driver" {
  for_each           = local.storage_drivers
  name               = "${var.name}-${each.key}"
  assume_role_policy = local.pod_identity_trust
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "storage_driver" {
  for_each   = local.storage_drivers
  role       = aws_iam_role.storage_driver[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value.policy}"
}

resource "aws_iam_role_policy" "ebs_csi_kms" {
  name = "use-the-deployment-key"
  role = aws_iam_role.storage_driver["aws-ebs-csi-driver"].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncrypt*"]
      Resource = aws_kms_key.this.arn
    }]
  })
}

resource "aws_eks_addon" "storage_driver" {
  for_each                    = local.storage_drivers
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  pod_identity_association {
    role_arn        = aws_iam_role.storage_driver[each.key].arn
    service_account = each.value.service_account
  }
  tags       = var.tags
  depends_on = [aws_eks_addon.this, aws_iam_role_policy_attachment.storage_driver]
}

locals {
  # Roles assumed by pods through EKS Pod Identity.
  pod_identity_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "pods.eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })
}
