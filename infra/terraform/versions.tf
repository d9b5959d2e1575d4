terraform {
  required_version = ">= 1.11" # write-only arguments (modules/platform/secrets.tf)
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.38"
    }
  }
  # The state lives in S3, encrypted with KMS, versioned, locked with S3's own lock file
  # (use_lockfile, Terraform >= 1.10: no DynamoDB table). Bucket, key, region and key id come from
  # backend.hcl at `terraform init -backend-config=backend.hcl` (docs/deploy.md step 3 creates
  # the bucket; backend.hcl.example shows the file).
  backend "s3" {}
}
