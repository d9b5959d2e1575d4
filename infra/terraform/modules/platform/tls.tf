# The HTTPS certificate of the load balancer (a microphone needs a secure origin):
# - with a domain: an ACM certificate validated through DNS records in its Route 53 zone;
# - without one: a certificate imported into ACM beforehand with the AWS CLI (the original
#   deployment used a self-signed one, docs/deploy.md step 2), named by `certificate_arn`. Its
#   private key therefore never passes through Terraform or its state.

locals {
  use_domain = var.domain_name != ""
}

check "a_certificate" {
  assert {
    condition     = local.use_domain || startswith(var.certificate_arn, "arn:")
    error_message = "Give domain_name (+ route53_zone_id), or certificate_arn of a certificate imported into ACM."
  }
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
    precondition {
      condition     = var.certificate_arn == ""
      error_message = "Give domain_name (+ route53_zone_id) or certificate_arn, not both."
    }
  }
}

# Keyed by the domain name (known at plan time); the record's values come after the request.
resource "aws_route53_record" "certificate_validation" {
  for_each        = local.use_domain ? toset([var.domain_name]) : toset([])
  zone_id         = var.route53_zone_id
  name            = local.validation[each.key].resource_record_name
  type            = local.validation[each.key].resource_record_type
  records         = [local.validation[each.key].resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

locals {
  validation = local.use_domain ? {
    for option in aws_acm_certificate.domain[0].domain_validation_options : option.domain_name => option
  } : {}
}

resource "aws_acm_certificate_validation" "domain" {
  count                   = local.use_domain ? 1 : 0
  certificate_arn         = aws_acm_certificate.domain[0].arn
  validation_record_fqdns = [for record in aws_route53_record.certificate_validation : record.fqdn]
}

locals {
  certificate_arn = local.use_domain ? aws_acm_certificate_validation.domain[0].certificate_arn : var.certificate_arn
}
