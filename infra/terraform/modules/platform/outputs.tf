output "cluster_name" {
  description = "EKS cluster name."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority" {
  description = "Base64 CA certificate of the Kubernetes API."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "region" {
  description = "AWS region."
  value       = local.region
}

output "vpc_id" {
  description = "VPC id (the load balancer controller needs it)."
  value       = aws_vpc.this.id
}

output "karpenter_node_role_name" {
  description = "IAM role of the nodes Karpenter launches (EC2NodeClass spec.role)."
  value       = aws_iam_role.karpenter_node.name
}

output "karpenter_interruption_queue" {
  description = "SQS queue name for Karpenter's interruption handling."
  value       = aws_sqs_queue.karpenter_interruption.name
}

output "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  value       = local.certificate_arn
}

output "efs_file_system_id" {
  description = "EFS file system of the recordings (StorageClass hearus-efs)."
  value       = aws_efs_file_system.media.id
}

output "ecr_repository_url" {
  description = "Where to push the image."
  value       = aws_ecr_repository.hearus.repository_url
}

output "node_group_ready" {
  description = "The managed node group's id, once it exists (the Helm releases wait for it)."
  value       = aws_eks_node_group.system.id
}

output "database_host" {
  description = "RDS PostgreSQL endpoint host name."
  value       = aws_db_instance.this.address
}

output "database_secret_arn" {
  description = "Secrets Manager secret (created and rotated by RDS) with the database user and password."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "redis_broker_host" {
  description = "Primary endpoint of the Celery broker Redis (TLS)."
  value       = aws_elasticache_replication_group.this["broker"].primary_endpoint_address
}

output "redis_cache_host" {
  description = "Primary endpoint of the channel layer and cache Redis (TLS)."
  value       = aws_elasticache_replication_group.this["cache"].primary_endpoint_address
}

output "django_secret_name" {
  description = "Secrets Manager secret holding Django's SECRET_KEY."
  value       = aws_secretsmanager_secret.django.name
}

output "grafana_secret_name" {
  description = "Secrets Manager secret holding Grafana's admin password."
  value       = aws_secretsmanager_secret.grafana.name
}

output "node_security_group_id" {
  description = "The cluster security group (nodes and pods)."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "endpoints_secret_name" {
  description = "Secrets Manager secret with the data stores' host names."
  value       = aws_secretsmanager_secret.endpoints.name
}
