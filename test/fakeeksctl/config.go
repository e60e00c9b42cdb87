package main

import (
	"context"
	"errors"
	"fmt"
	"os"

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
