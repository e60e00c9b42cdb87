package main

// The upgrade path: upgrade cluster, upgrade nodegroup, update addon, as
// eksctl 0.230.0 runs them. Each rule below names the eksctl file it
// follows, read at v0.230.0 (the module github.com/weaveworks/eksctl
// v0.230.0 this repository requires holds the whole source). What EKS does on the nodes (draining them) the fake plays against
// the tests' API server ($FAKE_EKSCTL_KUBECONFIG), since moto has no nodes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
)

// amiRelease stands in for the SSM parameter eksctl reads for a managed
// node group's newest AMI release of a Kubernetes version
// (/aws/service/eks/optimized-ami/<version>/amazon-linux-2023/x86_64/standard/recommended/release_version,
// pkg/ami/ssm_resolver.go MakeManagedSSMParameterName): the shape of EKS's
// release versions, <kubernetes version>-<build date>.
func amiRelease(version string) string {
	return version + ".0-20261115"
}

// minorOf parses "1.34" (or "1.34.2") into its minor number.
func minorOf(v string) (int, error) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 || parts[0] != "1" {
		return 0, fmt.Errorf("invalid Kubernetes version %q", v)
	}
	return strconv.Atoi(parts[1])
}

// supportedVersions stands in for EKS's DescribeClusterVersions, from which
// eksctl 0.230.0 takes the versions it may upgrade to (pkg/eks/versions_manager.go
// NewClusterVersionsManager): the versions EKS lists as not UNSUPPORTED,
// here those eksctl's API package knows in standard or extended support
// on 2026-12-02 (1.29 to 1.35).
var supportedVersions = []string{api.Version1_29, api.Version1_30, api.Version1_31, api.Version1_32, api.Version1_33, api.Version1_34, api.Version1_35}

// upgradeCluster is `eksctl upgrade cluster`.
//
//   - pkg/ctl/upgrade/cluster.go: the cluster from --name/--region or -f;
//     without --approve it only plans (cmd.Plan) and changes nothing.
//   - pkg/eks/versions_manager.go ResolveUpgradeVersion: no version (or
//     "auto") means the next supported one ("control plane is already on
//     latest version" when there is none); an unsupported version is
//     refused; the current one needs nothing; upward, only the next
//     version ("upgrading more than one version at a time is not
//     supported ... Please upgrade to %q first"); downward, only the
//     previous one (a roll back).
//   - pkg/actions/cluster/upgrade.go upgrade: "no cluster version update
//     required" when there is nothing to do; otherwise
//     UpdateClusterVersionBlocking (UpdateClusterVersion and a wait on the
//     update), then "you will need to follow the upgrade procedure for all
//     of nodegroups and add-ons".
func upgradeCluster(ctx context.Context, f *flags) error {
	name, region, err := nameAndRegion(f)
	if err != nil {
		return err
	}
	target := f.version
	if f.file != "" {
		cfg, err := loadConfig(f.file)
		if err != nil {
			return err
		}
		// pkg/ctl/upgrade/cluster.go resets the version before loading: the
		// file's metadata.version, if any, is the target.
		if target == "" {
			target = cfg.Metadata.Version
		}
	}
	e, err := newEnv(ctx, region)
	if err != nil {
		return err
	}
	cl, err := describeCluster(ctx, e, name)
	if err != nil {
		return err
	}
	current := aws.ToString(cl.Version)
	target, err = resolveUpgradeVersion(target, current)
	if err != nil {
		return err
	}
	if target == "" {
		info("no cluster version update required")
		return nil
	}
	action, past := "upgrade", "upgraded"
	if slices.Index(supportedVersions, target) < slices.Index(supportedVersions, current) {
		action, past = "roll back", "rolled back"
	}
	if !f.approve {
		// pkg/ctl/cmdutils LogIntendedAction and LogPlanModeWarning.
		info("(plan) %s cluster %q control plane from current version %q to %q", action, name, current, target)
		warn("no changes were applied, run again with '--approve' to apply the changes")
		return nil
	}
	info("will %s cluster %q control plane from current version %q to %q", action, name, current, target)
	out, err := e.eks.UpdateClusterVersion(ctx, &eks.UpdateClusterVersionInput{Name: aws.String(name), Version: aws.String(target)})
	if err != nil {
		return err
	}
	if err := pause(ctx, e.delays.upgradeCluster, "the control plane's version update"); err != nil {
		return err
	}
	if err := waitUpdate(ctx, e, name, out.Update, "", ""); err != nil {
		return err
	}
	success("cluster %q control plane has been %s to version %q", name, past, target)
	info("you will need to follow the upgrade procedure for all of nodegroups and add-ons")
	return nil
}

// resolveUpgradeVersion is pkg/eks/versions_manager.go ResolveUpgradeVersion:
// the version to move to, or "" for none.
func resolveUpgradeVersion(desired, current string) (string, error) {
	i := slices.Index(supportedVersions, current)
	if current == "" {
		return "", errors.New("couldn't resolve control plane version")
	}
	if i < 0 {
		return "", fmt.Errorf("control plane version %q is not supported", current)
	}
	next, previous := "", ""
	if i < len(supportedVersions)-1 {
		next = supportedVersions[i+1]
	}
	if i > 0 {
		previous = supportedVersions[i-1]
	}
	if desired == "" || desired == "auto" {
		if next == "" {
			info("control plane is already on latest version %q", current)
		}
		return next, nil
	}
	j := slices.Index(supportedVersions, desired)
	switch {
	case j < 0:
		return "", fmt.Errorf("control plane version %q is not supported", desired)
	case j == i:
		return "", nil
	case j > i && desired == next:
		return desired, nil
	case j > i:
		return "", fmt.Errorf("upgrading more than one version at a time is not supported. Found upgrade from %q to %q. Please upgrade to %q first", current, desired, next)
	case previous == "":
		return "", fmt.Errorf("cannot downgrade: %q is the oldest supported version", current)
	case desired == previous:
		return desired, nil
	}
	return "", fmt.Errorf("downgrading more than one version at a time is not supported. Found downgrade from %q to %q. Please downgrade to %q first", current, desired, previous)
}

// waitUpdate reads an EKS update back until it is no longer in progress
// (moto's are Successful at once) and fails on Failed or Cancelled.
func waitUpdate(ctx context.Context, e *env, cluster string, u *ekstypes.Update, nodegroup, addon string) error {
	in := &eks.DescribeUpdateInput{Name: aws.String(cluster), UpdateId: u.Id}
	if nodegroup != "" {
		in.NodegroupName = aws.String(nodegroup)
	}
	if addon != "" {
		in.AddonName = aws.String(addon)
	}
	out, err := e.eks.DescribeUpdate(ctx, in)
	if err != nil {
		return err
	}
	switch out.Update.Status {
	case ekstypes.UpdateStatusSuccessful:
		return nil
	default:
		var msgs []string
		for _, er := range out.Update.Errors {
			msgs = append(msgs, fmt.Sprintf("%s: %s", er.ErrorCode, aws.ToString(er.ErrorMessage)))
		}
		return fmt.Errorf("update %s is %s: %s", aws.ToString(u.Id), out.Update.Status, strings.Join(msgs, "; "))
	}
}

// upgradeNodeGroup is `eksctl upgrade nodegroup`.
//
//   - pkg/ctl/upgrade/nodegroup.go: --cluster and --name are required;
//     --wait defaults to true; the timeout defaults to 45 minutes.
//   - pkg/actions/nodegroup/upgrade.go Upgrade: a node group EKS does not
//     know is refused ("upgrade is only supported for managed nodegroups"),
//     one not ACTIVE too;
//     one with an eksctl stack is upgraded through the stack
//     (upgradeUsingStack): --kubernetes-version and --release-version
//     together are refused; the release is the newest AMI release of the
//     version (SSM, amiRelease here), "already up-to-date" when the node
//     group has it. The stack update makes EKS run UpdateNodegroupVersion:
//     a rolling update that drains the old nodes with the eviction API,
//     respecting PodDisruptionBudgets unless --force-upgrade, and fails with
//     PodEvictionFailure when a budget keeps a pod from being evicted
//     (docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html).
//     The fake plays that drain against the tests' API server: a budget
//     that allows no disruption of the pods it covers blocks it.
func upgradeNodeGroup(ctx context.Context, f *flags) error {
	if f.name == "" {
		return errors.New("--cluster must be set")
	}
	if f.nodegroup == "" {
		return errors.New("--name must be set")
	}
	if f.version != "" && f.release != "" {
		return errors.New("only one of kubernetes-version or release-version can be specified")
	}
	region := f.region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	e, err := newEnv(ctx, region)
	if err != nil {
		return err
	}
	ng, err := e.eks.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(f.name), NodegroupName: aws.String(f.nodegroup)})
	if err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return fmt.Errorf("upgrade is only supported for managed nodegroups; could not find one with name %q", f.nodegroup)
		}
		return err
	}
	// pkg/actions/nodegroup/upgrade.go Upgrade: only an ACTIVE node group.
	switch ng.Nodegroup.Status {
	case ekstypes.NodegroupStatusActive:
	case ekstypes.NodegroupStatusUpdating:
		return errors.New("nodegroup is currently being updated, please retry the command after the existing update is complete")
	default:
		return fmt.Errorf("nodegroup must be in %q state when upgrading a nodegroup; got state %q", ekstypes.NodegroupStatusActive, ng.Nodegroup.Status)
	}
	version := f.version
	if version == "" {
		version = aws.ToString(ng.Nodegroup.Version)
	}
	release := f.release
	if release == "" {
		release = amiRelease(version)
	}
	if release == aws.ToString(ng.Nodegroup.ReleaseVersion) && version == aws.ToString(ng.Nodegroup.Version) {
		info("nodegroup %q is already up-to-date", f.nodegroup)
		return nil
	}
	info("upgrading nodegroup version")
	if !f.force {
		if blocked, err := blockingBudgets(ctx); err != nil {
			return err
		} else if len(blocked) > 0 {
			if err := pause(ctx, e.delays.upgradeNodeGroup, "the node group's rolling update"); err != nil {
				return err
			}
			// What CloudFormation reports when EKS's update fails; the
			// node group keeps its version.
			return fmt.Errorf("error updating nodegroup stack: waiter state transitioned to Failure: Resource handler returned message: \"[ErrorDetail(ErrorCode=PodEvictionFailure, ErrorMessage=Reached max retries while trying to evict pods from nodes in node group %s, ResourceIds=[%s])]\"",
				f.nodegroup, strings.Join(blocked, ", "))
		}
	}
	in := &eks.UpdateNodegroupVersionInput{ClusterName: aws.String(f.name), NodegroupName: aws.String(f.nodegroup), Force: f.force}
	in.Version = aws.String(version)
	in.ReleaseVersion = aws.String(release)
	out, err := e.eks.UpdateNodegroupVersion(ctx, in)
	if err != nil {
		return fmt.Errorf("error updating nodegroup stack: %w", err)
	}
	if f.wait {
		if err := pause(ctx, e.delays.upgradeNodeGroup, "the node group's rolling update"); err != nil {
			return err
		}
		if err := waitUpdate(ctx, e, f.name, out.Update, f.nodegroup, ""); err != nil {
			return err
		}
	}
	info("nodegroup successfully upgraded")
	return nil
}

// blockingBudgets are the pods a drain cannot evict: those covered by a
// PodDisruptionBudget whose status allows no disruption, as the eviction
// API answers 429 for them. Named as EKS's error names resources
// (namespace/pod). Without an API server there is nothing to drain.
func blockingBudgets(ctx context.Context) ([]string, error) {
	kc := os.Getenv(envKubeconfig)
	if kc == "" {
		return nil, nil
	}
	bin := os.Getenv("FAKE_EKSCTL_KUBECTL")
	if bin == "" {
		bin = "kubectl"
	}
	out, err := exec.CommandContext(ctx, bin, "get", "pdb", "--all-namespaces", "-o", "json", "--kubeconfig", kc).Output()
	if err != nil {
		return nil, fmt.Errorf("fakeeksctl: listing PodDisruptionBudgets: %w", err)
	}
	var list struct {
		Items []struct {
			Metadata struct{ Name, Namespace string }
			Status   struct {
				DisruptionsAllowed int `json:"disruptionsAllowed"`
				ExpectedPods       int `json:"expectedPods"`
			}
		}
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, err
	}
	var blocked []string
	for _, p := range list.Items {
		if p.Status.ExpectedPods > 0 && p.Status.DisruptionsAllowed == 0 {
			blocked = append(blocked, "pdb/"+p.Metadata.Namespace+"/"+p.Metadata.Name)
		}
	}
	sort.Strings(blocked)
	return blocked, nil
}

// updateAddon is `eksctl update addon`.
//
//   - pkg/ctl/update/addon.go: the add-on from --name (or -f's addons);
//     the cluster's Kubernetes version is read first ("Kubernetes version
//     %q in use by cluster %q").
//   - pkg/actions/addon/update.go Update: an add-on the cluster lacks is an
//     error (Get); no --version keeps the current one; otherwise the
//     newest version matching it ("latest": the newest of all) among those
//     DescribeAddonVersions lists for the cluster's version
//     (pkg/actions/addon/addon.go getLatestMatchingVersion); then
//     UpdateAddon, and with --wait a wait until the add-on is ACTIVE.
func updateAddon(ctx context.Context, f *flags) error {
	name, region, err := f.name, f.region, error(nil)
	var addons []*api.Addon
	if f.file != "" {
		cfg, err := loadConfig(f.file)
		if err != nil {
			return err
		}
		name, region, addons = cfg.Metadata.Name, cfg.Metadata.Region, cfg.Addons
	} else {
		if f.addon == "" {
			return errors.New("--name is required")
		}
		addons = []*api.Addon{{Name: f.addon, Version: f.version}}
	}
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	e, err := newEnv(ctx, region)
	if err != nil {
		return err
	}
	cl, err := describeCluster(ctx, e, name)
	if err != nil {
		return fmt.Errorf("failed to fetch cluster %q version: %v", name, err)
	}
	k8s := aws.ToString(cl.Version)
	info("Kubernetes version %q in use by cluster %q", k8s, name)
	for _, a := range addons {
		cur, err := e.eks.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(name), AddonName: aws.String(a.Name)})
		if err != nil {
			return err
		}
		version := aws.ToString(cur.Addon.AddonVersion)
		if a.Version == "" {
			info("no new version provided, preserving existing version: %s", version)
		} else {
			latest, err := latestAddonVersion(ctx, e, a.Name, a.Version, k8s)
			if err != nil {
				return fmt.Errorf("failed to fetch addon version: %w", err)
			}
			if latest != version {
				info("new version provided %s", latest)
			}
			version = latest
		}
		info("updating addon")
		out, err := e.eks.UpdateAddon(ctx, &eks.UpdateAddonInput{ClusterName: aws.String(name), AddonName: aws.String(a.Name), AddonVersion: aws.String(version)})
		if err != nil {
			return fmt.Errorf("failed to update addon %q: %v", a.Name, err)
		}
		if f.wait {
			if err := waitUpdate(ctx, e, name, out.Update, "", a.Name); err != nil {
				return err
			}
			info("addon %q active", a.Name)
		}
		if err := applyAddonObjects(ctx, a.Name, version); err != nil {
			return err
		}
	}
	return nil
}

// latestAddonVersion is getLatestMatchingVersion (pkg/actions/addon/addon.go):
// among the versions EKS lists for the cluster's Kubernetes version, those
// containing want ("latest": all), the newest.
func latestAddonVersion(ctx context.Context, e *env, addon, want, k8s string) (string, error) {
	out, err := e.eks.DescribeAddonVersions(ctx, &eks.DescribeAddonVersionsInput{AddonName: aws.String(addon), KubernetesVersion: aws.String(k8s)})
	if err != nil {
		return "", err
	}
	if len(out.Addons) == 0 || len(out.Addons[0].AddonVersions) == 0 {
		return "", fmt.Errorf("no versions available for %q", addon)
	}
	var versions []string
	for _, v := range out.Addons[0].AddonVersions {
		if want == "latest" || strings.Contains(aws.ToString(v.AddonVersion), want) {
			versions = append(versions, aws.ToString(v.AddonVersion))
		}
	}
	if len(versions) == 0 {
		return "", fmt.Errorf("no version(s) found matching %q for %q", want, addon)
	}
	sort.Slice(versions, func(i, j int) bool { return addonVersionLess(versions[j], versions[i]) })
	return versions[0], nil
}

// addonVersionLess orders v1.2.3-eksbuild.4 versions numerically.
func addonVersionLess(a, b string) bool {
	na, nb := versionNumbers(a), versionNumbers(b)
	for i := 0; i < len(na) && i < len(nb); i++ {
		if na[i] != nb[i] {
			return na[i] < nb[i]
		}
	}
	return len(na) < len(nb)
}

func versionNumbers(v string) []int {
	var out []int
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}
