variable "region" {
  description = "AWS region of the deployment."
  type        = string
  default     = "ap-northeast-2"
}

variable "name" {
  description = "Name of the cluster and prefix of every resource."
  type        = string
  default     = "hearus"
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version; infra/check.sh validates the manifests against it."
  type        = string
  default     = "1.35"
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "availability_zone_count" {
  description = "How many availability zones the subnets span."
  type        = number
  default     = 3
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper) instead of one per zone."
  type        = bool
  default     = true
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "Who may reach the Kubernetes API from the internet; narrow it to your office or VPN."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "node_instance_types" {
  description = "Instance types of the managed node group (the original ran t3.large)."
  type        = list(string)
  default     = ["t3.large"]
}

variable "node_ami_type" {
  description = "AMI type of the managed node group. AL2 reached end of support in November 2025 and has no AMIs for Kubernetes 1.33+: AL2023 only (Karpenter's nodes are AL2023 too)."
  type        = string
  default     = "AL2023_x86_64_STANDARD"
  validation {
    condition     = contains(["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD"], var.node_ami_type)
    error_message = "node_ami_type must be AL2023_x86_64_STANDARD or AL2023_ARM_64_STANDARD."
  }
}

variable "node_disk_size_gb" {
  description = "Root volume of the managed nodes in GB (the original: 40)."
  type        = number
  default     = 40
}

variable "node_count" {
  description = "Managed nodes for the system pods (the original: 2); also the group's minimum."
  type        = number
  default     = 2
}

variable "node_max_count" {
  description = "Most managed nodes for the system pods (the application's pods run on Karpenter's nodes)."
  type        = number
  default     = 4
}

variable "domain_name" {
  description = "Public host name (e.g. hearus.example.ac.kr). Empty: the load balancer's own name and the certificate from the PEM variables."
  type        = string
  default     = ""
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of domain_name (for the certificate's DNS validation)."
  type        = string
  default     = ""
}

variable "certificate_arn" {
  description = "Without a domain: ARN of a certificate imported into ACM beforehand (docs/deploy.md step 2), e.g. a self-signed one. Its key never passes through Terraform."
  type        = string
  default     = ""
  validation {
    condition     = (var.domain_name == "") != (var.certificate_arn == "")
    error_message = "Give domain_name (with route53_zone_id) or certificate_arn, exactly one of them."
  }
}

variable "support_type" {
  description = "EKS upgrade policy: STANDARD (AWS upgrades the cluster when standard support ends) or EXTENDED (paid extended support)."
  type        = string
  default     = "STANDARD"
  validation {
    condition     = contains(["STANDARD", "EXTENDED"], var.support_type)
    error_message = "support_type is STANDARD or EXTENDED."
  }
}

variable "db_engine_version" {
  description = "RDS PostgreSQL version (major.minor)."
  type        = string
  default     = "17.6"
}

variable "db_instance_class" {
  description = "RDS instance class (Multi-AZ: two of them are paid)."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage_gb" {
  description = "RDS storage at creation, in GB (grows automatically up to five times)."
  type        = number
  default     = 50
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups; point-in-time recovery anywhere within them."
  type        = number
  default     = 14
  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "Keep 7 to 35 days of backups."
  }
}

variable "cache_node_type" {
  description = "ElastiCache node type of the broker and the cache replication groups (two nodes each)."
  type        = string
  default     = "cache.t4g.small"
}

variable "gpu_live" {
  description = "Install the NVIDIA device plugin for the GPU live NodePool (infra/k8s/overlays/prod-gpu). Untested without an AWS account."
  type        = bool
  default     = false
}

variable "external_secrets_version" {
  description = "external-secrets Helm chart version."
  type        = string
  default     = "0.19.2"
}

variable "prometheus_adapter_version" {
  description = "prometheus-adapter Helm chart version."
  type        = string
  default     = "5.1.0"
}

variable "nvidia_device_plugin_version" {
  description = "nvidia-device-plugin Helm chart version (gpu_live only)."
  type        = string
  default     = "0.17.4"
}

variable "karpenter_version" {
  description = "Karpenter Helm chart version (1.x: NodePool karpenter.sh/v1)."
  type        = string
  default     = "1.11.1"
}

variable "load_balancer_controller_version" {
  description = "aws-load-balancer-controller Helm chart version."
  type        = string
  default     = "1.14.0"
}

variable "kube_prometheus_stack_version" {
  description = "kube-prometheus-stack Helm chart version."
  type        = string
  default     = "79.0.0"
}

variable "tags" {
  description = "Tags on every AWS resource."
  type        = map(string)
  default     = { project = "hearus" }
}
