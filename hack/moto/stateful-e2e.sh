#!/usr/bin/env bash
# End-to-end check of terraform/stateful against the project's moto launcher,
# by hand, with production-sized inputs: what `bootstrap data` and
# `bootstrap teardown` do, as plain commands. The Go integration test does the
# same; this script is its readable transcript and a manual fallback.
#
#   BOOTSTRAP_TF_PROVIDER_MIRROR=/path/to/mirror hack/moto/stateful-e2e.sh
#
# Needs python3 with moto 5.2.1, awscli, terraform >= 1.11, and a filesystem
# mirror holding registry.terraform.io/hashicorp/aws 5.100.x. Leaves nothing
# behind but its work directory (printed; KEEP=1 keeps moto running too).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
: "${BOOTSTRAP_TF_PROVIDER_MIRROR:?set BOOTSTRAP_TF_PROVIDER_MIRROR to the provider mirror directory}"
terraform=${BOOTSTRAP_TEST_TERRAFORM:-terraform}
work=$(mktemp -d "${TMPDIR:-/tmp}/stateful-e2e.XXXXXX")
echo "work directory: $work" >&2

step() { printf '\n== %s\n' "$*" >&2; }
now() { date +%s; }

# --- moto --------------------------------------------------------------------
step "starting moto"
coproc MOTO { exec python3 "$repo/hack/moto/server.py" 0 --stop-on-stdin-eof 2>"$work/moto.log"; }
read -r ready port <&"${MOTO[0]}"
[ "$ready" = READY ] || { echo "moto did not start" >&2; exit 1; }
cleanup() {
	if [ "${KEEP:-}" != 1 ]; then kill "$MOTO_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# Everything talks to moto only: one endpoint for every service (the AWS
# provider, the S3 backend and awscli all honour AWS_ENDPOINT_URL), fixed
# fake credentials, no instance metadata, no shared config or profile.
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 || true
# awscli v1 replaces the endpoint of rds (and sqs, emr, docdb, neptune) in
# us-east-1 unless --endpoint-url is on the command line.
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" --output json "$@"; }
q() { command aws --endpoint-url "$AWS_ENDPOINT_URL" --output text "$@"; }

# --- what eksctl would have made ---------------------------------------------
step "creating VPC, subnets and the EKS cluster (eksctl's part)"
cluster=sovd-production-cluster
vpc=$(q ec2 create-vpc --cidr-block 192.168.0.0/16 --query Vpc.VpcId)
private=()
i=0
for az in us-east-1a us-east-1b us-east-1c; do
	pub=$(q ec2 create-subnet --vpc-id "$vpc" --availability-zone "$az" \
		--cidr-block "192.168.$((i * 32)).0/19" --query Subnet.SubnetId)
	q ec2 create-tags --resources "$pub" --tags Key=kubernetes.io/role/elb,Value=1 >/dev/null
	priv=$(q ec2 create-subnet --vpc-id "$vpc" --availability-zone "$az" \
		--cidr-block "192.168.$((96 + i * 32)).0/19" --query Subnet.SubnetId)
	q ec2 create-tags --resources "$priv" --tags Key=kubernetes.io/role/internal-elb,Value=1 >/dev/null
	private+=("$priv")
	i=$((i + 1))
done
role=$(q iam create-role --role-name eksctl-sovd-production-cluster-ServiceRole \
	--assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}' \
	--query Role.Arn)
q eks create-cluster --name "$cluster" --role-arn "$role" --kubernetes-version 1.33 \
	--resources-vpc-config "subnetIds=$(IFS=,; echo "${private[*]}")" >/dev/null

# What `bootstrap data` reads from the live cluster.
vpc_id=$(q eks describe-cluster --name "$cluster" --query cluster.resourcesVpcConfig.vpcId)
cluster_sg=$(q eks describe-cluster --name "$cluster" --query cluster.resourcesVpcConfig.clusterSecurityGroupId)
[ "$vpc_id" = "$vpc" ] || { echo "describe-cluster vpcId $vpc_id != $vpc" >&2; exit 1; }
echo "vpc $vpc_id, cluster security group $cluster_sg, private subnets ${private[*]}" >&2

# --- state backend (bootstrap data ensures it) -------------------------------
step "creating the state bucket"
account=$(q sts get-caller-identity --query Account)
state_bucket="sovd-tfstate-$account-us-east-1"
aws s3api create-bucket --bucket "$state_bucket" >/dev/null
aws s3api put-bucket-versioning --bucket "$state_bucket" --versioning-configuration Status=Enabled
aws s3api put-bucket-encryption --bucket "$state_bucket" --server-side-encryption-configuration \
	'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
aws s3api put-public-access-block --bucket "$state_bucket" --public-access-block-configuration \
	BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true

# --- terraform ---------------------------------------------------------------
step "terraform init"
cat >"$work/cli.tfrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$BOOTSTRAP_TF_PROVIDER_MIRROR"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 TF_INPUT=0
mkdir -p "$work/plugin-cache"
export TF_PLUGIN_CACHE_DIR="$work/plugin-cache"
root="$work/stateful"
cp -r "$repo/terraform/stateful" "$root"
rm -rf "$root/.terraform" "$root/.terraform.lock.hcl"
tf() { "$terraform" -chdir="$root" "$@"; }

private_json=$(printf '"%s",' "${private[@]}")
cat >"$work/production.tfvars.json" <<EOF
{
  "environment": "production",
  "region": "us-east-1",
  "vpc_id": "$vpc_id",
  "private_subnet_ids": [${private_json%,}],
  "cluster_security_group_id": "$cluster_sg",
  "db_instance_class": "db.t3.large",
  "db_engine_version": "15",
  "db_allocated_storage": 100,
  "db_max_allocated_storage": 500,
  "db_multi_az": true,
  "db_backup_retention_days": 7,
  "db_deletion_protection": true,
  "redis_node_type": "cache.t3.medium",
  "redis_engine_version": "7.1",
  "redis_num_cache_clusters": 2,
  "redis_automatic_failover": true,
  "redis_multi_az": true,
  "bucket_name": "sovd-production-data-$account",
  "secret_recovery_window_days": 30
}
EOF
vars=(-var-file="$work/production.tfvars.json")

t0=$(now)
tf init -no-color \
	-backend-config="bucket=$state_bucket" \
	-backend-config="key=stateful/production.tfstate" \
	-backend-config="region=us-east-1" \
	-backend-config="use_lockfile=true" >"$work/init.log"
echo "init took $(($(now) - t0)) s" >&2

step "terraform apply (production sizes)"
t0=$(now)
tf apply -no-color -auto-approve "${vars[@]}" >"$work/apply.log"
echo "apply took $(($(now) - t0)) s" >&2

step "second plan shows no changes"
t0=$(now)
set +e
tf plan -no-color -detailed-exitcode "${vars[@]}" >"$work/plan2.log"
rc=$?
set -e
echo "plan took $(($(now) - t0)) s" >&2
[ $rc -eq 0 ] || { echo "second plan exit code $rc (2 = changes):" >&2; cat "$work/plan2.log" >&2; exit 1; }

step "setting the Redis AUTH token from the secret (bootstrap data's part)"
rg=$(tf output -raw redis_replication_group_id)
redis_secret=$(q secretsmanager get-secret-value --secret-id sovd/production/redis --query SecretString)
token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["auth_token"])' "$redis_secret")
aws elasticache modify-replication-group --replication-group-id "$rg" \
	--auth-token "$token" --auth-token-update-strategy ROTATE --apply-immediately >/dev/null
[ "$(q elasticache describe-replication-groups --replication-group-id "$rg" \
	--query 'ReplicationGroups[0].AuthTokenEnabled')" = True ]
set +e
tf plan -no-color -detailed-exitcode "${vars[@]}" >"$work/plan3.log"
rc=$?
set -e
[ $rc -eq 0 ] || { echo "plan after setting the AUTH token exit code $rc:" >&2; cat "$work/plan3.log" >&2; exit 1; }

step "no generated secret value in the state"
tf state pull >"$work/state.json"
master_arn=$(tf output -raw db_master_user_secret_arn)
jwt=$(q secretsmanager get-secret-value --secret-id sovd/production/jwt --query SecretString)
db_master=$(q secretsmanager get-secret-value --secret-id "$master_arn" --query SecretString)
python3 - "$work/state.json" "$jwt" "$redis_secret" "$db_master" <<'EOF'
import json, sys
state = open(sys.argv[1]).read()
values = []
for raw in sys.argv[2:]:
    doc = json.loads(raw)
    values += [v for k, v in doc.items() if k in ("secret", "auth_token", "password")]
assert len(values) == 3, values
for v in values:
    assert len(v) >= 16, "generated value too short"
    assert v not in state, "a generated secret value is in the Terraform state"
print(f"checked {len(values)} generated values: none in the state", file=sys.stderr)
EOF

step "teardown: lift deletion protection, name the final snapshot, destroy"
snapshot="sovd-production-final-$(date -u +%Y%m%dT%H%M%SZ | tr '[:upper:]' '[:lower:]')"
teardown=("${vars[@]}" -var=db_deletion_protection=false -var="db_final_snapshot_identifier=$snapshot")
t0=$(now)
tf apply -no-color -auto-approve "${teardown[@]}" >"$work/apply-teardown.log"
echo "teardown apply took $(($(now) - t0)) s" >&2
t0=$(now)
tf destroy -no-color -auto-approve "${teardown[@]}" >"$work/destroy.log"
echo "destroy took $(($(now) - t0)) s" >&2

step "what is left"
aws rds describe-db-snapshots --db-snapshot-identifier "$snapshot" \
	--query 'DBSnapshots[0].[DBSnapshotIdentifier,Status]' --output text >&2
left=$(q resourcegroupstaggingapi get-resources --tag-filters Key=Environment,Values=production \
	--query 'ResourceTagMappingList[].ResourceARN')
left_ecr=$(q ecr describe-repositories --query 'repositories[].repositoryName')
left_sg=$(q ec2 describe-security-groups --filters Name=tag:Environment,Values=production --query 'SecurityGroups[].GroupId')
left_ec=$(q elasticache describe-cache-clusters --query 'CacheClusters[].CacheClusterId')
echo "tagged resources left: ${left:-none}" >&2
[ -z "$left_ecr$left_sg$left_ec" ] || { echo "left: ecr=$left_ecr sg=$left_sg elasticache=$left_ec" >&2; exit 1; }
# Only the final snapshot and, in production, the secrets in their recovery
# window may remain.
for arn in $left; do
	case "$arn" in
	*":snapshot:$snapshot") ;;
	*":secret:sovd/production/"*) ;;
	*) echo "unexpected leftover: $arn" >&2; exit 1 ;;
	esac
done
echo "OK" >&2
