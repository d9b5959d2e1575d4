# Karpenter's AWS side: the role of the nodes it launches (with an access entry so they may
# join), the controller's role (EKS Pod Identity, service account kube-system/karpenter), and
# the interruption queue fed by EventBridge (spot interruptions, rebalance advice, scheduled
# maintenance, instance state changes) so that it drains a node before AWS takes it away.

resource "aws_iam_role" "karpenter_node" {
  name = "${var.name}-karpenter-node"
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

resource "aws_iam_role_policy_attachment" "karpenter_node" {
  for_each = toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
  ])
  role       = aws_iam_role.karpenter_node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

resource "aws_eks_access_entry" "karpenter_node" {
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_iam_role.karpenter_node.arn
  type          = "EC2_LINUX"
  tags          = var.tags
}

resource "aws_sqs_queue" "karpenter_interruption" {
  name                              = "${var.name}-karpenter-interruption"
  message_retention_seconds         = 300
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

resource "aws_sqs_queue_policy" "karpenter_interruption" {
  queue_url = aws_sqs_queue.karpenter_interruption.url
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EventBridgeWrites"
        Effect    = "Allow"
        Principal = { Service = ["events.amazonaws.com", "sqs.amazonaws.com"] }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.karpenter_interruption.arn
      },
      {
        Sid       = "DenyHTTP"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = aws_sqs_queue.karpenter_interruption.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

locals {
  interruption_events = {
    health_event               = { source = ["aws.health"], detail-type = ["AWS Health Event"] }
    spot_interruption          = { source = ["aws.ec2"], detail-type = ["EC2 Spot Instance Interruption Warning"] }
    instance_rebalance         = { source = ["aws.ec2"], detail-type = ["EC2 Instance Rebalance Recommendation"] }
    instance_state_change      = { source = ["aws.ec2"], detail-type = ["EC2 Instance State-change Notification"] }
    capacity_reservation_event = { source = ["aws.ec2"], detail-type = ["EC2 Capacity Reservation Instance Interruption Warning"] }
  }
}

resource "aws_cloudwatch_event_rule" "karpenter_interruption" {
  for_each      = local.interruption_events
  name          = "${var.name}-karpenter-${replace(each.key, "_", "-")}"
  event_pattern = jsonencode(each.value)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "karpenter_interruption" {
  for_each = local.interruption_events
  rule     = aws_cloudwatch_event_rule.karpenter_interruption[each.key].name
  arn      = aws_sqs_queue.karpenter_interruption.arn
}

resource "aws_iam_role" "karpenter_controller" {
  name               = "${var.name}-karpenter-controller"
  assume_role_policy = local.pod_identity_trust
  tags               = var.tags
}

# The controller policy of Karpenter's getting-started guide at v1.11.1 (the chart version,
# variable karpenter_version): cloudformation.yaml of aws/karpenter-provider-aws,
# website/content/en/docs/getting-started/getting-started-with-karpenter, compared statement by
# statement after substituting the parameters (docs/decisions.md): the same statements with the
# same conditions, as one inline policy. Only addition: the KMS statement at the end, because
# the nodes' volumes are encrypted with this deployment's key. Compare again on a chart upgrade.
locals {
  karpenter_region_arn = "arn:${local.partition}:ec2:${local.region}"
  karpenter_cluster_tag = {
    "aws:RequestTag/kubernetes.io/cluster/${var.name}" = "owned"
    "aws:RequestTag/eks:eks-cluster-name"              = var.name
  }
  karpenter_launched = [
    "${local.karpenter_region_arn}:*:fleet/*",
    "${local.karpenter_region_arn}:*:instance/*",
    "${local.karpenter_region_arn}:*:volume/*",
    "${local.karpenter_region_arn}:*:network-interface/*",
    "${local.karpenter_region_arn}:*:launch-template/*",
    "${local.karpenter_region_arn}:*:spot-instances-request/*",
  ]
  instance_profiles = "arn:${local.partition}:iam::${local.account_id}:instance-profile/*"
}

resource "aws_iam_role_policy" "karpenter_controller" {
  #checkov:skip=CKV_AWS_355:Upstream's policy: the Describe* reads and pricing:GetProducts accept no resource ARN; they are limited to this region where AWS allows it.
  #checkov:skip=CKV_AWS_290:Upstream's policy: launching and deleting are scoped by the cluster's tags, which EC2 checks on resources whose ARNs do not exist beforehand.
  name = "karpenter-controller"
  role = aws_iam_role.karpenter_controller.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # -- NodeLifecyclePolicy --
      {
        Sid    = "AllowScopedEC2InstanceAccessActions"
        Effect = "Allow"
        Action = ["ec2:RunInstances", "ec2:CreateFleet"]
        Resource = [
          "${local.karpenter_region_arn}::image/*",
          "${local.karpenter_region_arn}::snapshot/*",
          "${local.karpenter_region_arn}:*:security-group/*",
          "${local.karpenter_region_arn}:*:subnet/*",
          "${local.karpenter_region_arn}:*:capacity-reservation/*",
          "${local.karpenter_region_arn}:*:placement-group/*",
        ]
      },
      {
        Sid      = "AllowScopedEC2LaunchTemplateAccessActions"
        Effect   = "Allow"
        Action   = ["ec2:RunInstances", "ec2:CreateFleet"]
        Resource = "${local.karpenter_region_arn}:*:launch-template/*"
        Condition = {
          StringEquals = { "aws:ResourceTag/kubernetes.io/cluster/${var.name}" = "owned" }
          StringLike   = { "aws:ResourceTag/karpenter.sh/nodepool" = "*" }
        }
      },
      {
        Sid      = "AllowScopedEC2InstanceActionsWithTags"
        Effect   = "Allow"
        Action   = ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"]
        Resource = local.karpenter_launched
        Condition = {
          StringEquals = local.karpenter_cluster_tag
          StringLike   = { "aws:RequestTag/karpenter.sh/nodepool" = "*" }
        }
      },
      {
        Sid      = "AllowScopedResourceCreationTagging"
        Effect   = "Allow"
        Action   = "ec2:CreateTags"
        Resource = local.karpenter_launched
        Condition = {
          StringEquals = merge(local.karpenter_cluster_tag, {
            "ec2:CreateAction" = ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]
          })
          StringLike = { "aws:RequestTag/karpenter.sh/nodepool" = "*" }
        }
      },
      {
        Sid      = "AllowScopedResourceTagging"
        Effect   = "Allow"
        Action   = "ec2:CreateTags"
        Resource = "${local.karpenter_region_arn}:*:instance/*"
        Condition = {
          StringEquals                = { "aws:ResourceTag/kubernetes.io/cluster/${var.name}" = "owned" }
          StringLike                  = { "aws:ResourceTag/karpenter.sh/nodepool" = "*" }
          StringEqualsIfExists        = { "aws:RequestTag/eks:eks-cluster-name" = var.name }
          "ForAllValues:StringEquals" = { "aws:TagKeys" = ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"] }
        }
      },
      {
        Sid    = "AllowScopedDeletion"
        Effect = "Allow"
        Action = ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"]
        Resource = [
          "${local.karpenter_region_arn}:*:instance/*",
          "${local.karpenter_region_arn}:*:launch-template/*",
        ]
        Condition = {
          StringEquals = { "aws:ResourceTag/kubernetes.io/cluster/${var.name}" = "owned" }
          StringLike   = { "aws:ResourceTag/karpenter.sh/nodepool" = "*" }
        }
      },
      # -- IAMIntegrationPolicy --
      {
        Sid      = "AllowPassingInstanceRole"
        Effect   = "Allow"
        Action   = "iam:PassRole"
        Resource = aws_iam_role.karpenter_node.arn
        Condition = {
          StringEquals = { "iam:PassedToService" = ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"] }
        }
      },
      {
        Sid      = "AllowScopedInstanceProfileCreationActions"
        Effect   = "Allow"
        Action   = "iam:CreateInstanceProfile"
        Resource = local.instance_profiles
        Condition = {
          StringEquals = merge(local.karpenter_cluster_tag, {
            "aws:RequestTag/topology.kubernetes.io/region" = local.region
          })
          StringLike = { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass" = "*" }
        }
      },
      {
        Sid      = "AllowScopedInstanceProfileTagActions"
        Effect   = "Allow"
        Action   = "iam:TagInstanceProfile"
        Resource = local.instance_profiles
        Condition = {
          StringEquals = merge(local.karpenter_cluster_tag, {
            "aws:ResourceTag/kubernetes.io/cluster/${var.name}" = "owned"
            "aws:ResourceTag/topology.kubernetes.io/region"     = local.region
            "aws:RequestTag/topology.kubernetes.io/region"      = local.region
          })
          StringLike = {
            "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass" = "*"
            "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass"  = "*"
          }
        }
      },
      {
        Sid      = "AllowScopedInstanceProfileActions"
        Effect   = "Allow"
        Action   = ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"]
        Resource = local.instance_profiles
        Condition = {
          StringEquals = {
            "aws:ResourceTag/kubernetes.io/cluster/${var.name}" = "owned"
            "aws:ResourceTag/topology.kubernetes.io/region"     = local.region
          }
          StringLike = { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass" = "*" }
        }
      },
      # -- EKSIntegrationPolicy --
      {
        Sid      = "AllowAPIServerEndpointDiscovery"
        Effect   = "Allow"
        Action   = "eks:DescribeCluster"
        Resource = aws_eks_cluster.this.arn
      },
      # -- InterruptionPolicy --
      {
        Sid      = "AllowInterruptionQueueActions"
        Effect   = "Allow"
        Action   = ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
        Resource = aws_sqs_queue.karpenter_interruption.arn
      },
      # -- ResourceDiscoveryPolicy --
      {
        Sid    = "AllowRegionalReadActions"
        Effect = "Allow"
        Action = [
          "ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
          "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplates",
          "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups", "ec2:DescribeSpotPriceHistory",
          "ec2:DescribeSubnets",
        ]
        Resource  = "*"
        Condition = { StringEquals = { "aws:RequestedRegion" = local.region } }
      },
      {
        Sid      = "AllowSSMReadActions"
        Effect   = "Allow"
        Action   = "ssm:GetParameter"
        Resource = "arn:${local.partition}:ssm:${local.region}::parameter/aws/service/*"
      },
      {
        # Not under the region condition: the Price List API answers only from a few regions
        # (us-east-1, ap-south-1, eu-central-1), so a RequestedRegion condition denies it.
        Sid      = "AllowPricingReadActions"
        Effect   = "Allow"
        Action   = "pricing:GetProducts"
        Resource = "*"
      },
      {
        Sid      = "AllowUnscopedInstanceProfileListAction"
        Effect   = "Allow"
        Action   = "iam:ListInstanceProfiles"
        Resource = "*"
      },
      {
        Sid      = "AllowInstanceProfileReadActions"
        Effect   = "Allow"
        Action   = "iam:GetInstanceProfile"
        Resource = local.instance_profiles
      },
      # -- this deployment: the nodes' volumes are encrypted with its key --
      {
        Sid      = "UseTheDeploymentKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"]
        Resource = aws_kms_key.this.arn
      },
    ]
  })
}

resource "aws_eks_pod_identity_association" "karpenter" {
  cluster_name    = aws_eks_cluster.this.name
  namespace       = "kube-system"
  service_account = "karpenter"
  role_arn        = aws_iam_role.karpenter_controller.arn
  tags            = var.tags
}
