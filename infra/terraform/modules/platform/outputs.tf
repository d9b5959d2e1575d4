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
