package pipeline

import (
	"encoding/json"
	"strings"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/shell"
)

// The runbook's ownership check: findForeign's rule (mismatches) for the
// objects a script would take over or delete by name alone, the EKS cluster
// (eksctl delete cluster --name) and its IRSA roles (eksctl create
// iamserviceaccount skips a role that exists). The data tier needs no such
// check in a script: its apply fails on a name that is taken (the script
// imports nothing), and its destroy deletes only what the state holds.
// TestOwnershipScriptAgreesWithGo runs ownershipJQ and mismatches on the
// same tags.

// ownershipJQ prints each tag problem of the tags it reads (a JSON object)
// against $want; with $eks "yes" (a cluster, a role) another cluster's
// eksctl tag is one too. Nothing printed: the tags prove the object ours.
const ownershipJQ = `(. // {}) as $t | ($want | to_entries[] | select($t[.key] != .value) | "\(.key)=\($t[.key] // "(none)"), want \(.value)"),
  (if $eks == "yes" and ($t | has($ek)) and $t[$ek] != $cluster then "\($ek)=\($t[$ek]), want \($cluster)" else empty end)`

// ownershipJQArgs are ownershipJQ's arguments but $eks.
func ownershipJQArgs(want cloud.Ownership, cluster string) []string {
	w, _ := json.Marshal(want) // a map of strings: cannot fail
	return []string{"-r", "--argjson", "want", string(w), "--arg", "cluster", cluster, "--arg", "ek", cloud.TagEksctlCluster}
}

// ownershipScript is the bash of the check: every problem is listed, then
// the script stops before anything changes, as findForeign does.
func ownershipScript(p *config.Profile) string {
	q := func(args ...string) string { return shell.Quote(args) }
	region := p.Region
	jq := "jq " + q(ownershipJQArgs(envOwnership(p), p.Cluster.Name)...) + " --arg eks yes " + q(ownershipJQ)
	lines := []string{
		"# Problems found: an object with this environment's name but not its tags.",
		"OWNERSHIP_PROBLEMS=()",
		"# owned WHAT TAGS-JSON: records WHAT's tag problems.",
		"owned() {",
		"  local problems",
		`  problems=$(` + jq + ` <<<"$2" | paste -sd ';' -)`,
		`  if [ -n "${problems}" ]; then OWNERSHIP_PROBLEMS+=("$1: ${problems}"); fi`,
		"}",
		"if found " + q("aws", "eks", "describe-cluster", "--region", region, "--name", p.Cluster.Name, "--query", "cluster.name", "--output", "text") + "; then",
		"  owned " + q("EKS cluster "+p.Cluster.Name) + ` "$(` + q("aws", "eks", "describe-cluster", "--region", region, "--name", p.Cluster.Name, "--query", "cluster.tags", "--output", "json") + `)"`,
		"fi",
	}
	for _, role := range appFirst(p) {
		lines = append(lines,
			"if found "+q("aws", "iam", "get-role", "--role-name", role, "--query", "Role.RoleName", "--output", "text")+"; then",
			"  owned "+q("IAM role "+role)+` "$(`+q("aws", "iam", "list-role-tags", "--role-name", role, "--output", "json")+" | jq "+q("[(.Tags // [])[] | {key: .Key, value: .Value}] | from_entries")+`)"`,
			"fi")
	}
	lines = append(lines,
		`if [ "${#OWNERSHIP_PROBLEMS[@]}" -gt 0 ]; then`,
		"  echo "+q("objects with the names of environment "+p.Name+" but not its tags ("+envOwnership(p).String()+"): nothing was changed; give this environment other names in bootstrap.yaml, or, only if you know these objects are its own, tag them")+" >&2",
		`  printf '  %s\n' "${OWNERSHIP_PROBLEMS[@]}" >&2`,
		"  exit 1",
		"fi",
	)
	return strings.Join(lines, "\n") + "\n"
}
