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
  #
  # The S3 backend has no expected-bucket-owner setting (its ConfigSchema in
  # hashicorp/terraform internal/backend/remote-state/s3/backend.go lists
  # none), so `bootstrap data` checks the state bucket with S3's
  # ExpectedBucketOwner before terraform init ever uses it; by hand, run
  # `aws s3api head-bucket --bucket <b> --expected-bucket-owner <account-id>`
  # first.
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
