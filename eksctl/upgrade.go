package eksctl

import "time"

// The upgrade path's argv (eksctl 0.230.0). Each command moves one thing
// and converges: run again after it finished, it finds nothing to do.

// NodeGroupUpgradeTimeout bounds the wait of UpgradeNodeGroup: EKS drains
// the old nodes one by one and, when a PodDisruptionBudget keeps a pod,
// retries for a while before failing with PodEvictionFailure; bootstrap
// gives up after this and says what blocks the drain. eksctl's own default
// is 45 minutes (pkg/ctl/upgrade/nodegroup.go upgradeNodegroupTimeout).
const NodeGroupUpgradeTimeout = 30 * time.Minute

// UpgradeCluster moves the control plane to version, which must be the
// next minor: eksctl refuses more than one minor at a time
// (pkg/eks/versions_manager.go ResolveUpgradeVersion) and, without
// --approve, only prints its plan (pkg/ctl/upgrade/cluster.go). It waits
// for EKS's update to finish.
func UpgradeCluster(name, region, version string) []string {
	return []string{"upgrade", "cluster", "--name", name, "--region", region, "--version", version, "--approve"}
}

// UpdateAddon moves an EKS add-on to the newest version EKS lists as
// compatible with the cluster's Kubernetes version ("latest", resolved by
// eksctl with DescribeAddonVersions for the cluster's version:
// pkg/actions/addon/addon.go getLatestMatchingVersion), keeping its IAM
// role, and waits until it is ACTIVE.
func UpdateAddon(cluster, name, region string) []string {
	return []string{"update", "addon", "--cluster", cluster, "--name", name, "--region", region, "--version", "latest", "--wait"}
}

// UpgradeNodeGroup moves a managed node group to version on its newest AMI
// release. EKS replaces the nodes in a rolling update, draining each old
// node with the eviction API, so PodDisruptionBudgets are respected
// (no --force-upgrade); eksctl waits (--wait) at most timeout.
func UpgradeNodeGroup(cluster, name, region, version string, timeout time.Duration) []string {
	return []string{"upgrade", "nodegroup", "--cluster", cluster, "--name", name, "--region", region,
		"--kubernetes-version", version, "--wait", "--timeout", timeout.String()}
}
