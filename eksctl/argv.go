package eksctl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MinVersion is the oldest eksctl bootstrap runs. The ClusterConfig is
// validated with the API package of this release (the module version in
// go.mod; a test keeps the two equal): it is the first that creates
// Kubernetes 1.35 clusters, and an older eksctl may reject or silently drop
// fields it does not know.
const MinVersion = "0.230.0"

// The argv builders below return eksctl's arguments, without the program
// name. They are pure, so the runbook and `bootstrap plan` show exactly what
// runs.

// CreateCluster creates the cluster and everything in the file: VPC, control
// plane, OIDC provider, IRSA roles, managed node groups. Not idempotent: a
// second run fails with AlreadyExists.
func CreateCluster(file string) []string {
	return []string{"create", "cluster", "-f", file}
}

// CreateIAMServiceAccounts creates the IRSA roles of the file that have no
// stack yet; existing ones are skipped. --approve applies the plan.
func CreateIAMServiceAccounts(file string) []string {
	return []string{"create", "iamserviceaccount", "-f", file, "--approve"}
}

// UpdateIAMServiceAccounts updates the IRSA roles of the file that exist
// to the file's policies (create iamserviceaccount leaves an existing role's
// policy as it is); roles that do not exist are skipped. --approve applies
// the plan.
func UpdateIAMServiceAccounts(file string) []string {
	return []string{"update", "iamserviceaccount", "-f", file, "--approve"}
}

// DeleteAddon deletes an EKS add-on of the cluster, with its Kubernetes
// objects (there is no --preserve) and its IAM stack. eksctl does not wait
// for EKS to finish. An add-on that is already gone, with no IAM stack, is
// an error ("could not find addon or associated IAM stack(s) to delete"),
// so callers check that it exists first.
func DeleteAddon(cluster, name, region string) []string {
	return []string{"delete", "addon", "--cluster", cluster, "--name", name, "--region", region}
}

// CreateNodeGroups creates the node groups of the file that do not exist yet;
// existing ones are excluded.
func CreateNodeGroups(file string) []string {
	return []string{"create", "nodegroup", "-f", file}
}

// AssociateOIDCProvider creates the cluster's IAM OIDC provider unless it is
// already associated.
func AssociateOIDCProvider(file string) []string {
	return []string{"utils", "associate-iam-oidc-provider", "-f", file, "--approve"}
}

// UpdateClusterVPCConfig brings an existing cluster's Kubernetes API
// endpoint access (vpc.clusterEndpoints) and public access CIDRs
// (vpc.publicAccessCIDRs) to the file's, each with its own EKS
// UpdateClusterConfig, waited for; what already matches is left alone, and
// with no publicAccessCIDRs in the file the cluster's stay as they are.
// Other fields of the file are ignored. Without --approve it only plans
// (eksctl 0.230.0 pkg/ctl/utils/update_cluster_vpc_config.go and
// vpc_helper.go; it replaces the deprecated update-cluster-endpoints and
// set-public-access-cidrs).
func UpdateClusterVPCConfig(file string) []string {
	return []string{"utils", "update-cluster-vpc-config", "-f", file, "--approve"}
}

// EnableSecretsEncryption turns on envelope encryption of Kubernetes Secrets
// with the file's secretsEncryption.keyARN (EKS AssociateEncryptionConfig,
// waited for, up to 1h20m by default), then rewrites every existing Secret
// through the Kubernetes API so that it is stored encrypted
// (--encrypt-existing-secrets defaults to true). A cluster already
// encrypted with the same key is success; with another key it fails
// ("changing the key is not supported"). eksctl 0.230.0
// pkg/ctl/utils/enable_secrets_encryption.go, pkg/eks/update.go
// EnableKMSEncryption; it applies with or without --approve, which is given
// for the reader.
func EnableSecretsEncryption(file string) []string {
	return []string{"utils", "enable-secrets-encryption", "-f", file, "--approve"}
}

// GetCluster prints the cluster's description as JSON (a one-element list of
// EKS Cluster objects).
func GetCluster(name, region string) []string {
	return []string{"get", "cluster", "--name", name, "--region", region, "-o", "json"}
}

// WriteKubeconfig writes a kubeconfig for the cluster to path (for helm and
// kubectl in the add-ons phase), leaving the user's ~/.kube/config alone.
// Its user runs `aws eks get-token`.
func WriteKubeconfig(name, region, path string) []string {
	return []string{"utils", "write-kubeconfig", "--cluster", name, "--region", region, "--kubeconfig", path}
}

// DeleteCluster deletes the cluster and every stack eksctl made for it,
// waiting until they are gone. Nodes are drained without the eviction API:
// by the time teardown gets here the workloads are being destroyed on
// purpose, and a PodDisruptionBudget must not hold the drain forever.
func DeleteCluster(name, region string) []string {
	return []string{"delete", "cluster", "--name", name, "--region", region, "--wait", "--disable-nodegroup-eviction"}
}

// DeleteNodeGroup deletes one node group of the cluster (for a managed node
// group: its nodegroup stack, which holds the EKS node group and its node
// instance role), waiting until it is gone. Teardown runs it beside the
// data tier's destroy, so that the node groups' several minutes overlap
// that work instead of adding to DeleteCluster's.
//
// Nodes are drained without the eviction API, for the reason given on
// DeleteCluster; this command spells the flag --disable-eviction where
// delete cluster has --disable-nodegroup-eviction. There is no --approve:
// with --cluster and --name eksctl applies at once and refuses --approve
// ("cannot use --approve unless a config file is specified via
// --config-file/-f").
//
// Not idempotent: a node group that is already gone (no nodegroup stack and
// no EKS node group) makes eksctl fail with EKS's ResourceNotFoundException
// ("No node group found for name: NAME."), so callers check that it exists
// first.
func DeleteNodeGroup(cluster, name, region string) []string {
	return []string{"delete", "nodegroup", "--cluster", cluster, "--name", name, "--region", region, "--wait", "--disable-eviction"}
}

// Version prints eksctl's version ("0.230.0", or with a pre-release and
// build suffix for development builds).
func Version() []string { return []string{"version"} }

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)\.(\d+)`)

// ParseVersion finds the semantic version in `eksctl version` output.
func ParseVersion(out string) ([3]int, error) {
	var v [3]int
	m := versionRE.FindStringSubmatch(out)
	if m == nil {
		return v, fmt.Errorf("no version in eksctl's output %q", strings.TrimSpace(out))
	}
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, nil
}

// CheckVersion reports whether `eksctl version` output names MinVersion or
// newer.
func CheckVersion(out string) error {
	have, err := ParseVersion(out)
	if err != nil {
		return err
	}
	want, _ := ParseVersion(MinVersion)
	for i := range have {
		if have[i] != want[i] {
			if have[i] < want[i] {
				return fmt.Errorf("eksctl %d.%d.%d is older than %s, the oldest bootstrap supports; install eksctl %s or newer",
					have[0], have[1], have[2], MinVersion, MinVersion)
			}
			break
		}
	}
	return nil
}
