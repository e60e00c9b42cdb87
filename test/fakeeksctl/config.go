package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
	"sigs.k8s.io/yaml"
)

// loadConfig reads a ClusterConfig as eksctl's loader does for create
// commands (pkg/eks ParseConfig, pkg/ctl/cmdutils): strict decoding,
// apiVersion and kind, metadata.name and region, the create-cluster VPC
// defaults, then SetClusterConfigDefaults, ValidateClusterConfig and, per
// managed node group, SetManagedNodeGroupDefaults and
// ValidateManagedNodeGroup. It deliberately does not share code with
// bootstrap's eksctl package: it checks that package's output.
func loadConfig(path string) (*api.ClusterConfig, error) {
	if path == "" {
		return nil, errors.New("--config-file/-f must be set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file %q: %w", path, err)
	}
	cfg := &api.ClusterConfig{}
	if err := yaml.UnmarshalStrict(data, cfg); err != nil {
		return nil, fmt.Errorf("loading config file %q: %w", path, err)
	}
	if cfg.APIVersion != api.SchemeGroupVersion.String() || cfg.Kind != api.ClusterConfigKind {
		return nil, fmt.Errorf("loading config file %q: no kind %q is registered for version %q", path, cfg.Kind, cfg.APIVersion)
	}
	meta := cfg.Metadata
	switch {
	case meta == nil:
		return nil, errors.New("metadata must be set")
	case meta.Name == "":
		return nil, errors.New("metadata.name must be set")
	case meta.Region == "":
		return nil, errors.New("metadata.region must be set")
	}
	if meta.Version == "" {
		meta.Version = api.DefaultVersion
	}
	if cfg.VPC == nil {
		cfg.VPC = api.NewClusterVPC(cfg.IPv6Enabled())
	}
	if cfg.VPC.NAT == nil {
		cfg.VPC.NAT = api.DefaultClusterNAT()
	}
	if cfg.VPC.NAT.Gateway == nil || *cfg.VPC.NAT.Gateway == "" {
		g := api.ClusterSingleNAT
		cfg.VPC.NAT.Gateway = &g
	}
	if cfg.VPC.CIDR == nil {
		c := api.DefaultCIDR()
		cfg.VPC.CIDR = &c
	}
	api.SetClusterEndpointAccessDefaults(cfg.VPC)
	api.SetClusterConfigDefaults(cfg)
	if err := api.ValidateClusterConfig(cfg); err != nil {
		return nil, err
	}
	for i, ng := range cfg.ManagedNodeGroups {
		if err := api.SetManagedNodeGroupDefaults(ng, cfg.Metadata, false); err != nil {
			return nil, err
		}
		if err := api.ValidateManagedNodeGroup(i, ng); err != nil {
			return nil, err
		}
	}
	// pkg/ctl/cmdutils/configfile.go validateBareCluster: with default
	// add-ons disabled and vpc-cni not listed, a cluster cannot have nodes
	// or IRSA service accounts at creation.
	if cfg.AddonsConfig.DisableDefaultAddons && !slices.ContainsFunc(cfg.Addons, func(a *api.Addon) bool { return a.Name == api.VPCCNIAddon }) &&
		(cfg.HasNodes() || len(cfg.IAM.ServiceAccounts) > 0) {
		return nil, errors.New("fields nodeGroups, managedNodeGroups, fargateProfiles, karpenter, gitops, iam.serviceAccounts, " +
			"and iam.podIdentityAssociations are not supported during cluster creation in a cluster without VPC CNI if Auto Mode is disabled; " +
			"please remove these fields and add them back after cluster creation is successful")
	}
	if len(cfg.NodeGroups) > 0 {
		return nil, errors.New("fakeeksctl: self-managed nodeGroups are not imitated; bootstrap uses managedNodeGroups")
	}
	return cfg, nil
}

// run loads the -f file and opens AWS for its region. ctx ends on SIGINT or
// SIGTERM (main).
func run(ctx context.Context, f *flags, do func(context.Context, *env, *api.ClusterConfig, *flags) error) error {
	cfg, err := loadConfig(f.file)
	if err != nil {
		return err
	}
	e, err := newEnv(ctx, cfg.Metadata.Region)
	if err != nil {
		return err
	}
	return do(ctx, e, cfg, f)
}
