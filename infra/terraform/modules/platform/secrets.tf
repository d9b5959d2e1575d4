# Secrets that Terraform creates but never stores: the values come in as ephemeral variables
# (drawn by the root module's ephemeral random passwords) and are written with write-only
# arguments (Terraform >= 1.11), so the state holds only the secrets' names. Written once
# (version 1); rotating one is a documented manual step. External Secrets (installed by the
# root module, its role below) copies them, and the RDS-managed database password, into
# Kubernetes Secrets.

resource "aws_secretsmanager_secret" "django" {
  #checkov:skip=CKV2_AWS_57:Django's SECRET_KEY signs sessions; rotating it logs every user out, so it is rotated by hand (docs/deploy.md).
  name                    = "${var.name}/django-secret-key"
  description             = "Django SECRET_KEY of Hearus"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "django" {
  secret_id                = aws_secretsmanager_secret.django.id
  secret_string_wo         = var.django_secret_key
  secret_string_wo_version = 1
}

resource "aws_secretsmanager_secret" "grafana" {
  #checkov:skip=CKV2_AWS_57:Grafana's admin password is rotated by hand (docs/deploy.md).
  name                    = "${var.name}/grafana-admin"
  description             = "Password of Grafana's admin user"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "grafana" {
  secret_id                = aws_secretsmanager_secret.grafana.id
  secret_string_wo         = var.grafana_admin_password
  secret_string_wo_version = 1
}

# Where the data stores answer (not secret: in the state as usual), for External Secrets to
# compose DATABASE_URL, REDIS_URL and CELERY_BROKER_URL (infra/k8s/overlays/prod).
resource "aws_secretsmanager_secret" "endpoints" {
  #checkov:skip=CKV2_AWS_57:Host names, not credentials: nothing to rotate.
  name                    = "${var.name}/endpoints"
  description             = "Host names of Hearus' RDS and ElastiCache endpoints"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "endpoints" {
  secret_id = aws_secretsmanager_secret.endpoints.id
  secret_string = jsonencode({
    database_host     = aws_db_instance.this.address
    redis_broker_host = aws_elasticache_replication_group.this["broker"].primary_endpoint_address
    redis_cache_host  = aws_elasticache_replication_group.this["cache"].primary_endpoint_address
  })
}

# External Secrets' controller (kube-system/external-secrets, EKS Pod Identity): read these
# secrets and the database's, decrypt them with the deployment's key, nothing else.
resource "aws_iam_role" "external_secrets" {
  name               = "${var.name}-external-secrets"
  assume_role_policy = local.pod_identity_trust
  tags               = var.tags
}

resource "aws_iam_role_policy" "external_secrets" {
  name = "read-hearus-secrets"
  role = aws_iam_role.external_secrets.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ReadSecrets"
        Effect = "Allow"
        Action = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        Resource = [
          aws_secretsmanager_secret.django.arn,
          aws_secretsmanager_secret.grafana.arn,
          aws_secretsmanager_secret.endpoints.arn,
          aws_db_instance.this.master_user_secret[0].secret_arn,
        ]
      },
      {
        Sid      = "DecryptThem"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = aws_kms_key.this.arn
      },
    ]
  })
}

resource "aws_eks_pod_identity_association" "external_secrets" {
  cluster_name    = aws_eks_cluster.this.name
  namespace       = "kube-system"
  service_account = "external-secrets"
  role_arn        = aws_iam_role.external_secrets.arn
  tags            = var.tags
}
