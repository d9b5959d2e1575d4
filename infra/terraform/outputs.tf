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
  description = "Grafana (user admin, password grafana_admin_password)."
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
  description = "The values infra/k8s/overlays/*/deploy.env takes (add IMAGE_TAG)."
  value = join("\n", [
    "IMAGE_REPOSITORY=${module.platform.ecr_repository_url}",
    "PUBLIC_HOST=${local.public_host}",
    "CERTIFICATE_ARN=${module.platform.certificate_arn}",
    "CLUSTER_NAME=${module.platform.cluster_name}",
    "KARPENTER_NODE_ROLE=${module.platform.karpenter_node_role_name}",
    "EFS_FILE_SYSTEM_ID=${module.platform.efs_file_system_id}",
    "",
  ])
}

output "region" {
  description = "AWS region of the deployment."
  value       = var.region
}
