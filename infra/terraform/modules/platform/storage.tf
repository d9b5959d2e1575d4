# Recordings uploaded to web and transcribed by worker live on one EFS file system, mounted by
# both through the EFS CSI driver (StorageClass hearus-efs in infra/k8s).

resource "aws_efs_file_system" "media" {
  creation_token   = "${var.name}-media"
  encrypted        = true
  kms_key_id       = aws_kms_key.this.arn
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"

  lifecycle_policy {
    transition_to_ia = "AFTER_30_DAYS"
  }
  tags = merge(var.tags, { Name = "${var.name}-media" })
}

resource "aws_efs_backup_policy" "media" {
  file_system_id = aws_efs_file_system.media.id
  backup_policy {
    status = "ENABLED"
  }
}

resource "aws_security_group" "efs" {
  name        = "${var.name}-efs"
  description = "NFS from the cluster's nodes and pods to the media file system"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "NFS from inside the VPC"
    from_port   = 2049
    to_port     = 2049
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
  egress {
    description = "Replies inside the VPC"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = [var.vpc_cidr]
  }
  tags = merge(var.tags, { Name = "${var.name}-efs" })
}

resource "aws_efs_mount_target" "media" {
  count           = length(aws_subnet.private)
  file_system_id  = aws_efs_file_system.media.id
  subnet_id       = aws_subnet.private[count.index].id
  security_groups = [aws_security_group.efs.id]
}

# The image of web, live and worker.
resource "aws_ecr_repository" "hearus" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.this.arn
  }
  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "hearus" {
  repository = aws_ecr_repository.hearus.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 30 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 30 }
      action       = { type = "expire" }
    }]
  })
}
