locals {
  alb_ingress  = try(data.kubernetes_ingress_v1.grafana.status[0].load_balancer[0].ingress[0].hostname, "")
  alb_hostname = local.alb_ingress != null ? local.alb_ingress : ""
  public_host  = var.domain_name != "" ? var.domain_name : local.alb_hostname
}

output "alb_hostname" {
  description = "DNS name of the load balancer (empty until the controller has created it: run `terraform apply -refresh-only`)."
  value       = local.alb_hostname
}

output "app_url" {
  description = "Where Hearus answers."
  value       = local.public_host != "" ? "https://${local.public_host}/" : ""
}

output "grafana_url" {
  description = "Grafana (user admin; the password: aws secretsmanager get-secret-value --secret-id <grafana_secret_name>)."
  value       = local.public_host != "" ? "https://${local.public_host}/grafana/" : ""
}

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.platform.cluster_name
}

output "ecr_repository_url" {
  description = "Where to push the image."
  value       = module.platform.ecr_repository_url
}

output "deploy_env" {
  description = "The values infra/k8s/overlays/prod/deploy.env takes (add IMAGE_TAG and AMI_ALIAS, docs/deploy.md step 6)."
  value = join("\n", [
    "IMAGE_REPOSITORY=${module.platform.ecr_repository_url}",
    "PUBLIC_HOST=${local.public_host}",
    "CERTIFICATE_ARN=${module.platform.certificate_arn}",
    "CLUSTER_NAME=${module.platform.cluster_name}",
    "KARPENTER_NODE_ROLE=${module.platform.karpenter_node_role_name}",
    "EFS_FILE_SYSTEM_ID=${module.platform.efs_file_system_id}",
    "DATABASE_SECRET_ARN=${module.platform.database_secret_arn}",
    "DJANGO_SECRET_NAME=${module.platform.django_secret_name}",
    "ENDPOINTS_SECRET_NAME=${module.platform.endpoints_secret_name}",
    "",
  ])
}

output "region" {
  description = "AWS region of the deployment."
  value       = var.region
}

output "grafana_secret_name" {
  description = "Secrets Manager secret with Grafana's admin password."
  value       = module.platform.grafana_secret_name
}
