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
  description = "AMI type of the managed node group (AL2 reached end of support in November 2025)."
  type        = string
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

variable "tls_certificate_pem" {
  description = "Without a domain: the certificate (PEM) to import into ACM, e.g. a self-signed one."
  type        = string
  sensitive   = true
}

variable "tls_private_key_pem" {
  description = "Without a domain: the private key (PEM) of tls_certificate_pem."
  type        = string
  sensitive   = true
}

variable "tls_certificate_chain_pem" {
  description = "Without a domain: the certificate chain (PEM), if any."
  type        = string
  sensitive   = true
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
}
