package pipeline

import (
	"strings"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/shell"
)

// The runbook's sweep of network interfaces and security groups: the
// policy of sweep.go (sweepOwnership, classify) in jq over what
// describe-network-interfaces and describe-security-groups print for the
// cluster's VPC. TestSweepScriptAgreesWithClassify runs these programs and
// classify on the same objects. Each prints, per object tagged for the
// cluster or the environment, "delete<TAB>id<TAB>why" or "keep<TAB>id<TAB>why".

// sweepJQDefs are the tag rules: cloud.Owner's queries (listed: what
// FindTagged reads) and sweepOwnership's (ours: a cluster tag, or all three
// of the environment's tags).
const sweepJQDefs = `def tagmap: [(.TagSet // .Tags // [])[] | {key: .Key, value: .Value}] | from_entries;
def bycluster: has($k8s) or .["` + cloud.TagELBv2Cluster + `"] == $cluster or .["` + cloud.TagEksctlCluster + `"] == $cluster or .["` + cloud.TagCNICluster + `"] == $cluster;
def listed: bycluster or (.` + cloud.TagEnvironment + ` == $env and .` + cloud.TagManagedBy + ` == "` + cloud.ManagedByBootstrap + `");
def ours: bycluster or (.` + cloud.TagEnvironment + ` == $env and .` + cloud.TagApplication + ` == $app and .` + cloud.TagManagedBy + ` == "` + cloud.ManagedByBootstrap + `");
def notours($t; $vpc_of): if ($t | ours | not) then "not this environment's (tags \($t | tojson))"
  elif $vpc_of != $vpc then "in \($vpc_of // "no VPC"), not the cluster's VPC \($vpc)"
  elif $t[$k8s] == "shared" then "tagged \($k8s)=shared: other clusters may use it"
  else "" end;
`

// eniSweepJQ is classify's verdict on a network interface.
const eniSweepJQ = sweepJQDefs + `.NetworkInterfaces[] | tagmap as $t | select($t | listed) | notours($t; .VpcId) as $why |
  if $why != "" then "keep\t\(.NetworkInterfaceId)\t\($why)"
  elif .RequesterManaged then "keep\t\(.NetworkInterfaceId)\tmanaged by an AWS service (\(.Description)): it goes with what made it"
  elif .Status != "available" then "keep\t\(.NetworkInterfaceId)\tin use (\(.Status))"
  else "delete\t\(.NetworkInterfaceId)\tunattached" end`

// sgSweepJQ is sgNotOurs's verdict on a security group: "delete" means the
// group is the environment's to delete once nothing uses it (the script
// checks that next, as sgHeld and the rules' references do).
const sgSweepJQ = sweepJQDefs + `.SecurityGroups[] | select(.GroupName != "default") | tagmap as $t | select($t | listed) | notours($t; .VpcId) as $why |
  if $why != "" then "keep\t\(.GroupId)\t\($why)" else "delete\t\(.GroupId)\t\(.GroupName)" end`

// sweepJQArgs are the jq arguments of both programs but the VPC's.
func sweepJQArgs(o cloud.Owner) []string {
	return []string{"-r", "--arg", "cluster", o.Cluster, "--arg", "env", o.Environment, "--arg", "app", o.Application, "--arg", "k8s", o.KubernetesTag()}
}

// sweepScripts are the runbook's sweep of the cluster's VPC: its network
// interfaces, then its security groups.
func sweepScripts(o cloud.Owner, region string) (eni, sg string) {
	q := func(args ...string) string { return shell.Quote(args) }
	jq := "jq " + q(sweepJQArgs(o)...) + ` --arg vpc "<cluster-vpc-id>" `
	eni = strings.Join([]string{
		`SWEEP_ENIS=$(aws ec2 describe-network-interfaces --region ` + q(region) + ` --filters "Name=vpc-id,Values=<cluster-vpc-id>" --output json | ` + jq + q(eniSweepJQ) + `)`,
		`while IFS=$'\t' read -r verdict eni why; do`,
		`  [ -n "${verdict}" ] || continue`,
		`  if [ "${verdict}" = delete ]; then`,
		`    aws ec2 delete-network-interface --region ` + q(region) + ` --network-interface-id "${eni}"`,
		`    echo "deleted network interface ${eni}: ${why}"`,
		`  else`,
		`    echo "kept network interface ${eni}: ${why}" >&2`,
		`  fi`,
		`done <<<"${SWEEP_ENIS}"`,
	}, "\n") + "\n"
	sg = strings.Join([]string{
		`SWEEP_GROUPS=$(aws ec2 describe-security-groups --region ` + q(region) + ` --filters "Name=vpc-id,Values=<cluster-vpc-id>" --output json | ` + jq + q(sgSweepJQ) + `)`,
		`SWEEP_SGS=()`,
		`while IFS=$'\t' read -r verdict sg why; do`,
		`  [ -n "${verdict}" ] || continue`,
		`  if [ "${verdict}" = delete ]; then SWEEP_SGS+=("${sg}"); else echo "kept security group ${sg}: ${why}" >&2; fi`,
		`done <<<"${SWEEP_GROUPS}"`,
		`# A group goes once no network interface uses it and no other group's rules refer to it;`,
		`# AWS refuses the delete otherwise. Passes go on while one goes (a group whose rules refer`,
		`# to another goes first); what is still refused is kept, with the reason, and the script goes on.`,
		`SWEEP_LEFT=() SWEEP_WHY=()`,
		`while [ "${#SWEEP_SGS[@]}" -gt 0 ]; do`,
		`  SWEEP_LEFT=() SWEEP_WHY=()`,
		`  for sg in "${SWEEP_SGS[@]}"; do`,
		`    users=$(aws ec2 describe-network-interfaces --region ` + q(region) + ` --filters "Name=group-id,Values=${sg}" --query 'NetworkInterfaces[].[NetworkInterfaceId,Status]' --output text)`,
		`    if [ -n "${users}" ]; then`,
		`      SWEEP_LEFT+=("${sg}") SWEEP_WHY+=("used by ${users//$'\n'/, }")`,
		`    elif out=$(aws ec2 delete-security-group --region ` + q(region) + ` --group-id "${sg}" 2>&1); then`,
		`      echo "deleted security group ${sg}"`,
		`    else`,
		`      SWEEP_LEFT+=("${sg}") SWEEP_WHY+=("${out}")`,
		`    fi`,
		`  done`,
		`  [ "${#SWEEP_LEFT[@]}" -lt "${#SWEEP_SGS[@]}" ] || break`,
		`  SWEEP_SGS=("${SWEEP_LEFT[@]}")`,
		`done`,
		`for i in "${!SWEEP_LEFT[@]}"; do`,
		`  echo "kept security group ${SWEEP_LEFT[i]}: ${SWEEP_WHY[i]} (a load balancer's interfaces go minutes after it: run the script again; else delete what uses it first)" >&2`,
		`done`,
	}, "\n") + "\n"
	return eni, sg
}
