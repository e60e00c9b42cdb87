package eksctl

import (
	"slices"
	"sort"
	"strings"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
)

// clusterAddons are the add-ons bootstrap lists in the ClusterConfig, with
// addonsConfig.disableDefaultAddons: every add-on eksctl would make by
// default (KnownAddons' IsDefault, not excluded in the region) except those
// Helm installs. For eksctl 0.230.0 in us-east-1 that is vpc-cni,
// kube-proxy and coredns: what a node group needs, and what eksctl makes
// before it; metrics-server, a default too, is the Helm release.
//
// Listed without IAM settings, vpc-cni gets from eksctl (OIDC on) the IRSA
// role it would have made for the default add-on: stack
// eksctl-<cluster>-addon-vpc-cni, a role for kube-system/aws-node with
// AmazonEKS_CNI_Policy (pkg/actions/addon/create.go
// setRecommendedPoliciesForIRSA), deleted with the cluster.
func clusterAddons(region string, helmReplaced []string, tags map[string]string) []*api.Addon {
	var names []string
	for name, known := range api.KnownAddons {
		if known.IsDefault && !slices.Contains(known.ExcludedRegions, region) && !slices.Contains(helmReplaced, name) {
			names = append(names, name)
		}
	}
	// Before the node group first, as eksctl creates them.
	sort.Slice(names, func(i, j int) bool {
		bi, bj := api.KnownAddons[names[i]].CreateBeforeNodeGroup, api.KnownAddons[names[j]].CreateBeforeNodeGroup
		if bi != bj {
			return bi
		}
		return names[i] < names[j]
	})
	out := make([]*api.Addon, len(names))
	for i, n := range names {
		out[i] = &api.Addon{Name: n, Tags: copyTags(tags)}
	}
	return out
}

// ClusterAddonNames are the add-ons the rendered ClusterConfig lists for a
// region (clusterAddons), the EKS add-ons an environment's cluster has.
func ClusterAddonNames(region string, helmReplaced []string) []string {
	var out []string
	for _, a := range clusterAddons(region, helmReplaced, nil) {
		out = append(out, a.Name)
	}
	return out
}

// AddonsCreated are the EKS add-ons `eksctl create cluster` makes from cfg
// in its region: the listed ones, and unless addonsConfig.disableDefaultAddons
// every default add-on of eksctl's KnownAddons table that is not excluded in
// the region and not listed (pkg/actions/addon/tasks.go CreateAddonTasks).
// Names are lower case, sorted.
func AddonsCreated(cfg *api.ClusterConfig) []string {
	var out []string
	for _, a := range cfg.Addons {
		out = append(out, a.CanonicalName())
	}
	if !cfg.AddonsConfig.DisableDefaultAddons {
		for name, known := range api.KnownAddons {
			if known.IsDefault && !slices.Contains(known.ExcludedRegions, cfg.Metadata.Region) && !slices.Contains(out, strings.ToLower(name)) {
				out = append(out, strings.ToLower(name))
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
