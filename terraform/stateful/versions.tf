terraform {
  # 1.11 is the first release with write-only arguments (*_wo), which keep the
  # generated secrets out of state together with the ephemeral password below.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: bucket, key, region and use_lockfile = true are
  # passed with -backend-config (by `bootstrap data`, or by hand as the README
  # shows), one state key per environment.
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
