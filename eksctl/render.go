// Package eksctl renders the ClusterConfig bootstrap hands to eksctl and
// builds the argv of every eksctl command bootstrap runs. It runs nothing and
// prints nothing: internal/pipeline runs what it builds.
//
// The ClusterConfig is built as typed values from eksctl's own API package
// (eksctl.io/v1alpha5) and checked in-process with that package's defaulting
// and validation, the same functions `eksctl create cluster -f` calls, so a
// profile eksctl would reject is rejected before any binary runs.
package eksctl

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
	"github.com/weaveworks/eksctl/pkg/utils/ipnet"
	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/internal/config"
)

// LogRetentionDays is how long control-plane logs are kept in CloudWatch.
// eksctl's default keeps them forever, which is a cost that only grows.
const LogRetentionDays = 90

// ServiceAccount is one IRSA role bootstrap asks eksctl for: the role is made
// with a fixed name (so its ARN is known before it exists) and roleOnly, the
// Kubernetes ServiceAccount being owned by the Helm chart that annotates it
// (or by bootstrap's manifests). Its fields are those of addons.IRSARole:
// the list is built once, from the add-ons' records, and handed over as
// data.
type ServiceAccount struct {
	Namespace string
	Name      string
	RoleName  string
	// Policy is the role's inline policy document.
	Policy map[string]any
}

// Inputs are what the ClusterConfig needs beyond the profile, from the
// add-ons (addons.IRSARoles, addons.EKSAddonsReplaced): this package renders
// them and knows no add-on.
type Inputs struct {
	// ServiceAccounts are the IRSA roles, in the order they are rendered.
	ServiceAccounts []ServiceAccount
	// HelmReplaced are the EKS add-ons whose software a Helm release
	// installs: left out of the ClusterConfig's add-ons.
	HelmReplaced []string
}

// Render builds the ClusterConfig of a validated profile and checks it with
// eksctl's own defaulting and validation (see Validate). The result is what
// Marshal writes: only the fields bootstrap sets, eksctl fills in the rest
// the same way when it loads the file.
func Render(p *config.Profile, in Inputs) (*api.ClusterConfig, error) {
	c := p.Cluster
	cidr, err := ipnet.ParseCIDR(c.VPCCIDR)
	if err != nil {
		return nil, fmt.Errorf("cluster.vpcCIDR %q: %w", c.VPCCIDR, err)
	}
	tags := p.AllTags()
	nat := c.NAT

	var sas []*api.ClusterIAMServiceAccount
	for _, sa := range in.ServiceAccounts {
		sas = append(sas, &api.ClusterIAMServiceAccount{
			ClusterIAMMeta: api.ClusterIAMMeta{Name: sa.Name, Namespace: sa.Namespace},
			RoleName:       sa.RoleName,
			RoleOnly:       api.Enabled(),
			AttachPolicy:   api.InlineDocument(sa.Policy),
			Tags:           copyTags(tags),
		})
	}

	ng := c.NodeGroup
	cfg := &api.ClusterConfig{
		TypeMeta: api.ClusterConfigTypeMeta(),
		Metadata: &api.ClusterMeta{
			Name:    c.Name,
			Region:  p.Region,
			Version: c.KubernetesVersion,
			Tags:    copyTags(tags),
		},
		// Without the list, eksctl picks zones itself and in us-east-1 makes
		// only 2 public + 2 private subnets.
		AvailabilityZones: append([]string(nil), p.AvailabilityZones...),
		VPC: &api.ClusterVPC{
			Network: api.Network{CIDR: cidr},
			NAT:     &api.ClusterNAT{Gateway: &nat},
			// The profile's endpoint access (config.EndpointAccess); with
			// public access, only from PublicCIDRs when listed.
			ClusterEndpoints:  &api.ClusterEndpoints{PublicAccess: boolp(c.EndpointAccess.Public), PrivateAccess: boolp(c.EndpointAccess.Private)},
			PublicAccessCIDRs: append([]string(nil), c.EndpointAccess.PublicCIDRs...),
		},
		IAM: &api.ClusterIAM{
			WithOIDC:        api.Enabled(),
			ServiceAccounts: sas,
		},
		ManagedNodeGroups: []*api.ManagedNodeGroup{{
			NodeGroupBase: &api.NodeGroupBase{
				Name:         ng.Name,
				InstanceType: ng.InstanceType,
				ScalingConfig: &api.ScalingConfig{
					DesiredCapacity: intp(ng.Desired),
					MinSize:         intp(ng.Min),
					MaxSize:         intp(ng.Max),
				},
				VolumeSize:      intp(ng.VolumeSizeGB),
				VolumeEncrypted: api.Enabled(),
				// Nodes in the private subnets, reaching out through NAT;
				// without this eksctl puts them in the public subnets.
				PrivateNetworking: true,
				// Pods cannot reach the instance metadata service, so none
				// can take the node role's credentials: every add-on gets
				// its AWS identity from IRSA, and the load balancer
				// controller its region and VPC from its values.
				DisablePodIMDS: api.Enabled(),
				Tags:           copyTags(tags),
			},
		}},
		// eksctl makes default EKS add-ons, metrics-server among them, which
		// Helm installs here: the defaults are off and the others listed.
		AddonsConfig: api.AddonsConfig{DisableDefaultAddons: true},
		Addons:       clusterAddons(p.Region, in.HelmReplaced, tags),
		// Explicit: eksctl's default is EXTENDED, billed $0.60/h once the
		// version leaves standard support.
		UpgradePolicy: &api.UpgradePolicy{SupportType: c.SupportType},
		CloudWatch: &api.ClusterCloudWatch{
			ClusterLogging: &api.ClusterCloudWatchLogging{
				EnableTypes:        append([]string(nil), c.Logging...),
				LogRetentionInDays: LogRetentionDays,
			},
		},
	}
	if len(c.Logging) == 0 {
		cfg.CloudWatch = nil
	}
	if c.KMSKeyARN != "" {
		cfg.SecretsEncryption = &api.SecretsEncryption{KeyARN: c.KMSKeyARN}
	}
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Validate runs on a copy of cfg what `eksctl create cluster -f` runs on a
// loaded file before it touches AWS: the loader's checks of metadata and VPC,
// SetClusterConfigDefaults and ValidateClusterConfig, then
// SetManagedNodeGroupDefaults and ValidateManagedNodeGroup for each managed
// node group. cfg itself is not changed. Errors name the ClusterConfig field.
func Validate(cfg *api.ClusterConfig) error {
	if err := validate(cfg.DeepCopy()); err != nil {
		return &ValidationError{Cluster: clusterName(cfg), Err: err}
	}
	return nil
}

// ValidationError is a ClusterConfig that eksctl would reject.
type ValidationError struct {
	Cluster string
	Err     error
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("eksctl would reject the ClusterConfig of cluster %q: %v", e.Cluster, e.Err)
}

func (e *ValidationError) Unwrap() error { return e.Err }

func validate(cfg *api.ClusterConfig) error {
	if cfg.APIVersion != api.SchemeGroupVersion.String() || cfg.Kind != api.ClusterConfigKind {
		return fmt.Errorf("apiVersion/kind is %s/%s, eksctl reads %s/%s", cfg.APIVersion, cfg.Kind, api.SchemeGroupVersion, api.ClusterConfigKind)
	}
	meta := cfg.Metadata
	switch {
	case meta == nil:
		return errors.New("metadata must be set")
	case meta.Name == "":
		return errors.New("metadata.name must be set")
	case meta.Region == "":
		return errors.New("metadata.region must be set")
	}
	// What eksctl's create-cluster loader does before validation
	// (pkg/ctl/cmdutils: NewCreateClusterLoader).
	if cfg.VPC == nil {
		cfg.VPC = api.NewClusterVPC(cfg.IPv6Enabled())
	}
	if cfg.VPC.NAT == nil && !cfg.IPv6Enabled() {
		cfg.VPC.NAT = api.DefaultClusterNAT()
	}
	if cfg.VPC.NAT != nil && cfg.VPC.NAT.Gateway != nil {
		switch g := *cfg.VPC.NAT.Gateway; g {
		case api.ClusterHighlyAvailableNAT, api.ClusterSingleNAT, api.ClusterDisableNAT:
		default:
			return fmt.Errorf("vpc.nat.gateway %q is not one of %s, %s, %s", g, api.ClusterHighlyAvailableNAT, api.ClusterSingleNAT, api.ClusterDisableNAT)
		}
	}
	api.SetClusterEndpointAccessDefaults(cfg.VPC)
	if cfg.HasAnySubnets() && len(cfg.AvailabilityZones) != 0 {
		return errors.New("vpc.subnets and availabilityZones cannot be set at the same time")
	}
	for i, ng := range cfg.ManagedNodeGroups {
		if ng.NodeGroupBase == nil {
			return fmt.Errorf("managedNodeGroups[%d] is empty", i)
		}
	}

	// What InitializeClusterConfig does (pkg/ctl/cmdutils/cmd.go).
	api.SetClusterConfigDefaults(cfg)
	if err := api.ValidateClusterConfig(cfg); err != nil {
		return err
	}
	for i, ng := range cfg.ManagedNodeGroups {
		if err := api.SetManagedNodeGroupDefaults(ng, cfg.Metadata, cfg.IsControlPlaneOnOutposts()); err != nil {
			return fmt.Errorf("managedNodeGroups[%d]: %w", i, err)
		}
		if err := api.ValidateManagedNodeGroup(i, ng); err != nil {
			return nameNodeFlags(i, err)
		}
	}
	return nil
}

// nameNodeFlags rewrites the CLI flag names some of eksctl's node group
// errors use (they are shared with the flag path) into the fields of the
// file, so the message points at the ClusterConfig.
func nameNodeFlags(i int, err error) error {
	path := fmt.Sprintf("managedNodeGroups[%d]", i)
	r := strings.NewReplacer(
		"--nodes-min", path+".minSize",
		"--nodes-max", path+".maxSize",
		"--nodes", path+".desiredCapacity",
	)
	msg := r.Replace(err.Error())
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// Marshal renders a ClusterConfig as the YAML eksctl reads.
func Marshal(cfg *api.ClusterConfig) ([]byte, error) {
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshalling ClusterConfig: %w", err)
	}
	header := "# Rendered by bootstrap from the environment's profile; edits are overwritten.\n" +
		"# eksctl reads it: eksctl create cluster -f <this file>\n"
	return append([]byte(header), out...), nil
}

// Parse reads a ClusterConfig the way eksctl does: strictly (unknown fields
// are errors), then apiVersion and kind checked.
func Parse(data []byte) (*api.ClusterConfig, error) {
	cfg := &api.ClusterConfig{}
	if err := yaml.UnmarshalStrict(data, cfg); err != nil {
		return nil, fmt.Errorf("reading ClusterConfig: %w", err)
	}
	if cfg.APIVersion != api.SchemeGroupVersion.String() || cfg.Kind != api.ClusterConfigKind {
		return nil, fmt.Errorf("reading ClusterConfig: apiVersion/kind is %q/%q, want %s/%s", cfg.APIVersion, cfg.Kind, api.SchemeGroupVersion, api.ClusterConfigKind)
	}
	return cfg, nil
}

func clusterName(cfg *api.ClusterConfig) string {
	if cfg.Metadata == nil {
		return ""
	}
	return cfg.Metadata.Name
}

func boolp(b bool) *bool { return &b }

func intp(n int) *int { return &n }

func copyTags(t map[string]string) map[string]string {
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// trimHeader drops Marshal's comment lines, for comparisons.
func trimHeader(b []byte) []byte {
	for bytes.HasPrefix(b, []byte("#")) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	return b
}
