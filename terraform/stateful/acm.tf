# Optional: when domain_name and route53_zone_id are set, an ACM certificate
# for the ingress, validated through DNS records in the hosted zone. Its ARN
# goes to the ALB ingress annotation.

locals {
  make_certificate = var.domain_name != null
}

resource "aws_acm_certificate" "ingress" {
  count = local.make_certificate ? 1 : 0

  domain_name               = var.domain_name
  subject_alternative_names = var.subject_alternative_names
  validation_method         = "DNS"

  # A replacement must be issued before the ingress lets go of the old one.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "ingress_validation" {
  for_each = local.make_certificate ? {
    for o in aws_acm_certificate.ingress[0].domain_validation_options : o.domain_name => o
  } : {}

  zone_id         = var.route53_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "ingress" {
  count = local.make_certificate ? 1 : 0

  certificate_arn         = aws_acm_certificate.ingress[0].arn
  validation_record_fqdns = [for r in aws_route53_record.ingress_validation : r.fqdn]
}
