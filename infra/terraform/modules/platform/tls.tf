# The HTTPS certificate of the load balancer (a microphone needs a secure origin):
# - with a domain: an ACM certificate validated through DNS records in its Route 53 zone;
# - without one: the certificate given as PEM variables (the original deployment used a
#   self-signed one, see docs/deploy.md) imported into ACM.

locals {
  use_domain = var.domain_name != ""
}

resource "aws_acm_certificate" "domain" {
  count             = local.use_domain ? 1 : 0
  domain_name       = var.domain_name
  validation_method = "DNS"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
    precondition {
      condition     = var.route53_zone_id != ""
      error_message = "domain_name needs route53_zone_id: the hosted zone that holds it, for DNS validation."
    }
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = local.use_domain ? {
    for option in aws_acm_certificate.domain[0].domain_validation_options : option.domain_name => option
  } : {}
  zone_id         = var.route53_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "domain" {
  count                   = local.use_domain ? 1 : 0
  certificate_arn         = aws_acm_certificate.domain[0].arn
  validation_record_fqdns = [for record in aws_route53_record.certificate_validation : record.fqdn]
}

resource "aws_acm_certificate" "imported" {
  count             = local.use_domain ? 0 : 1
  certificate_body  = var.tls_certificate_pem
  private_key       = var.tls_private_key_pem
  certificate_chain = var.tls_certificate_chain_pem != "" ? var.tls_certificate_chain_pem : null
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
    precondition {
      condition     = var.tls_certificate_pem != "" && var.tls_private_key_pem != ""
      error_message = "Give domain_name (+ route53_zone_id), or tls_certificate_pem and tls_private_key_pem."
    }
  }
}

locals {
  certificate_arn = local.use_domain ? aws_acm_certificate_validation.domain[0].certificate_arn : aws_acm_certificate.imported[0].arn
}
