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
  description = "AMI type of the managed node group. AL2 reached end of support in November 2025 and has no AMIs for Kubernetes 1.33+: AL2023 or Bottlerocket."
  type        = string
  default     = "AL2023_x86_64_STANDARD"
  validation {
    condition     = contains(["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64", "AL2_x86_64"], var.node_ami_type)
    error_message = "node_ami_type must be an EKS managed node group AMI type such as AL2023_x86_64_STANDARD."
  }
}

variable "node_disk_size_gb" {
  description = "Root volume of the managed nodes in GB (the original: 40)."
  type        = number
  default     = 40
}

variable "node_count" {
  description = "Managed nodes for the system pods (the original: 2)."
  type        = number
  default     = 2
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

variable "tls_certificate_pem" {
  description = "Without a domain: certificate to import (PEM), e.g. self-signed (docs/deploy.md)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "tls_private_key_pem" {
  description = "Without a domain: private key of tls_certificate_pem (PEM)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "tls_certificate_chain_pem" {
  description = "Without a domain: certificate chain (PEM), if any."
  type        = string
  default     = ""
  sensitive   = true
}

variable "grafana_admin_password" {
  description = "Password of Grafana's admin user."
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.grafana_admin_password) >= 16
    error_message = "Use at least 16 characters for grafana_admin_password."
  }
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
