#!/usr/bin/env bash
# Prints the directory of a Terraform provider filesystem mirror that holds
# hashicorp/aws (the directory containing registry.terraform.io/).
# The public registry is not reachable on the build machines, so tests install
# the AWS provider from such a mirror. $BOOTSTRAP_TF_PROVIDER_MIRROR wins;
# otherwise the usual places are searched, then the file system (shallowly).
set -euo pipefail

has_aws() { [ -d "$1/registry.terraform.io/hashicorp/aws" ]; }

if [ -n "${BOOTSTRAP_TF_PROVIDER_MIRROR:-}" ]; then
  has_aws "$BOOTSTRAP_TF_PROVIDER_MIRROR" || { echo "BOOTSTRAP_TF_PROVIDER_MIRROR=$BOOTSTRAP_TF_PROVIDER_MIRROR holds no registry.terraform.io/hashicorp/aws" >&2; exit 1; }
  echo "$BOOTSTRAP_TF_PROVIDER_MIRROR"; exit 0
fi
for d in "$HOME/.terraform.d/plugins" "$HOME/.local/share/terraform/plugins" \
         /usr/local/share/terraform/plugins /usr/share/terraform/plugins; do
  if has_aws "$d"; then echo "$d"; exit 0; fi
done
found=$(find / -maxdepth 5 -type d -path '*/registry.terraform.io/hashicorp/aws' \
          -not -path '/proc/*' -not -path '*/.terraform/*' 2>/dev/null | head -n 1 || true)
if [ -n "$found" ]; then dirname "$(dirname "$(dirname "$found")")"; exit 0; fi
echo "no Terraform provider mirror with hashicorp/aws found; set BOOTSTRAP_TF_PROVIDER_MIRROR" >&2
exit 1
