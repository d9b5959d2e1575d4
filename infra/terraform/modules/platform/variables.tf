variable "name" {
  description = "Name of the cluster and prefix of every resource."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "availability_zone_count" {
  description = "How many availability zones the subnets span."
  type        = number
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper) instead of one per zone (survives a zone outage)."
  type        = bool
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "Who may reach the Kubernetes API from the internet."
  type        = list(string)
}

variable "node_instance_types" {
  description = "Instance types of the managed node group for the system pods."
  type        = list(string)
}

variable "node_ami_type" {
  description = "AMI type of the managed node group: AL2023 (AL2 has no AMIs for Kubernetes 1.33+)."
  type        = string
  validation {
    condition     = startswith(var.node_ami_type, "AL2023_")
    error_message = "node_ami_type must be an AL2023 AMI type (AL2 has no AMIs for Kubernetes 1.33 and later)."
  }
}

variable "node_disk_size_gb" {
  description = "Root volume size of the managed nodes, in GB."
  type        = number
}

variable "node_count" {
  description = "Desired (and minimum) number of managed nodes."
  type        = number
}

variable "domain_name" {
  description = "Public host name of Hearus (e.g. hearus.example.ac.kr); empty: use the load balancer's name and the imported certificate."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone that holds domain_name, for the DNS validation of its certificate."
  type        = string
}

variable "certificate_arn" {
  description = "Without a domain: ARN of a certificate already imported into ACM (e.g. a self-signed one)."
  type        = string
}

variable "support_type" {
  description = "EKS upgrade policy: STANDARD (upgraded when standard support ends) or EXTENDED (paid extended support)."
  type        = string
}

variable "node_max_count" {
  description = "Most managed nodes for the system pods."
  type        = number
}

variable "db_engine_version" {
  description = "RDS PostgreSQL version (major.minor)."
  type        = string
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_allocated_storage_gb" {
  description = "RDS storage in GB at creation (autoscaled up to 5 times)."
  type        = number
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups (point-in-time recovery within them)."
  type        = number
}

variable "cache_node_type" {
  description = "ElastiCache node type of both Redis replication groups."
  type        = string
}

variable "django_secret_key" {
  description = "Django's SECRET_KEY, written once into Secrets Manager (write-only: never in the state)."
  type        = string
  ephemeral   = true
}

variable "grafana_admin_password" {
  description = "Grafana's admin password, written once into Secrets Manager (write-only: never in the state)."
  type        = string
  ephemeral   = true
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
