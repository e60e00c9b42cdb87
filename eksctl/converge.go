package eksctl

import (
	"fmt"
	"slices"
	"strings"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
)

// The settings of a ClusterConfig that apply only when eksctl creates the
// cluster, and what can bring an existing cluster to them: eksctl changes
// the endpoint access in place (utils update-cluster-vpc-config) and turns
// Secrets encryption on (utils enable-secrets-encryption); EKS changes or
// removes no cluster's Secrets key, and a managed node group's launch
// template (pod IMDS) is not changed in place.

// ClusterSettings are those settings as EKS reports them for a cluster
// (DescribeCluster), or as a ClusterConfig asks for them (WantedSettings).
type ClusterSettings struct {
	PrivateAccess bool
	PublicAccess  bool
	// PublicCIDRs limit the public endpoint; empty in a ClusterConfig means
	// EKS's default, 0.0.0.0/0.
	PublicCIDRs []string
	// SecretsKeyARN is the KMS key of Secrets' envelope encryption; empty
	// for none.
	SecretsKeyARN string
}

// WantedSettings are the settings cfg asks for, with eksctl's endpoint
// defaults (SetClusterEndpointAccessDefaults: private off, public on).
func WantedSettings(cfg *api.ClusterConfig) ClusterSettings {
	var w ClusterSettings
	w.PublicAccess = true
	if cfg.VPC != nil {
		if e := cfg.VPC.ClusterEndpoints; e != nil {
			if e.PrivateAccess != nil {
				w.PrivateAccess = *e.PrivateAccess
			}
			if e.PublicAccess != nil {
				w.PublicAccess = *e.PublicAccess
			}
		}
		w.PublicCIDRs = append([]string(nil), cfg.VPC.PublicAccessCIDRs...)
	}
	if cfg.SecretsEncryption != nil {
		w.SecretsKeyARN = cfg.SecretsEncryption.KeyARN
	}
	return w
}

// Difference is one setting of a live cluster that is not the wanted one.
type Difference struct {
	What, Live, Want string
	// Fix says what brings the cluster to Want, or why nothing can.
	Fix string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s %s (want %s): %s", d.What, d.Live, d.Want, d.Fix)
}

// Convergence is what brings an existing cluster to a ClusterConfig.
type Convergence struct {
	// UpdateVPCConfig: the endpoint access or the public CIDRs differ
	// (UpdateClusterVPCConfig).
	UpdateVPCConfig bool
	// EnableSecretsEncryption: the file has a key, the cluster none
	// (EnableSecretsEncryption).
	EnableSecretsEncryption bool
	// Differences are every setting that differs, converged or not.
	Differences []Difference
	// Blocked are the differences no command can converge: the run stops
	// on them before changing anything.
	Blocked []string
}

// Fixes named in Differences.
const (
	FixUp = "bootstrap up converges it (eksctl utils %s)"
)

// Converge compares a live cluster's settings with the wanted ones and says
// which of eksctl's commands bring it there, and what none can. It is the one
// place that decides; the cluster step runs what it says and status shows its
// Differences.
func Converge(want, live ClusterSettings) Convergence {
	var c Convergence
	vpc := fmt.Sprintf(FixUp, "update-cluster-vpc-config")
	if want.PrivateAccess != live.PrivateAccess {
		c.UpdateVPCConfig = true
		c.Differences = append(c.Differences, Difference{"endpoint private access", onOff(live.PrivateAccess), onOff(want.PrivateAccess), vpc})
	}
	if want.PublicAccess != live.PublicAccess {
		c.UpdateVPCConfig = true
		c.Differences = append(c.Differences, Difference{"endpoint public access", onOff(live.PublicAccess), onOff(want.PublicAccess), vpc})
	}
	// The CIDRs matter only while the public endpoint is (to be) on.
	if want.PublicAccess && !cidrsEqual(live.PublicCIDRs, want.PublicCIDRs) {
		d := Difference{"public endpoint CIDRs", cidrList(live.PublicCIDRs), cidrList(want.PublicCIDRs), vpc}
		if len(want.PublicCIDRs) == 0 {
			// update-cluster-vpc-config -f changes the CIDRs only when the
			// file lists some (pkg/ctl/utils/vpc_helper.go
			// UpdateClusterVPCConfig): with none listed it leaves the
			// cluster's limit in place.
			d.Fix = "eksctl leaves a cluster's CIDRs as they are when the ClusterConfig lists none: list 0.0.0.0/0 in cluster.endpointAccess.publicCIDRs to open the endpoint to all, or the cluster's CIDRs to keep them"
			c.Blocked = append(c.Blocked, fmt.Sprintf("cluster.endpointAccess.publicCIDRs: empty, while the cluster limits its public endpoint to %s; %s", cidrList(live.PublicCIDRs), d.Fix))
		} else {
			c.UpdateVPCConfig = true
		}
		c.Differences = append(c.Differences, d)
	}
	const noChange = "EKS cannot change or remove a cluster's Secrets encryption key (AssociateEncryptionConfig only enables it on a cluster that has none)"
	switch {
	case want.SecretsKeyARN == live.SecretsKeyARN:
	case live.SecretsKeyARN == "":
		c.EnableSecretsEncryption = true
		c.Differences = append(c.Differences, Difference{"Secrets encryption", "off", want.SecretsKeyARN, fmt.Sprintf(FixUp, "enable-secrets-encryption")})
	case want.SecretsKeyARN == "":
		d := Difference{"Secrets encryption", live.SecretsKeyARN, "off", noChange + ": set cluster.kmsKeyARN to the cluster's key, or make a new cluster"}
		c.Differences = append(c.Differences, d)
		c.Blocked = append(c.Blocked, fmt.Sprintf("cluster.kmsKeyARN is not set, but the cluster's Secrets are encrypted with %s; %s", live.SecretsKeyARN, d.Fix))
	default:
		d := Difference{"Secrets encryption key", live.SecretsKeyARN, want.SecretsKeyARN, noChange + ": set cluster.kmsKeyARN to the cluster's key, or make a new cluster"}
		c.Differences = append(c.Differences, d)
		c.Blocked = append(c.Blocked, fmt.Sprintf("cluster.kmsKeyARN is %s, but the cluster's Secrets are encrypted with %s; %s", want.SecretsKeyARN, live.SecretsKeyARN, d.Fix))
	}
	return c
}

// Err is the error of a convergence that is blocked, naming the cluster.
func (c Convergence) Err(cluster string) error {
	if len(c.Blocked) == 0 {
		return nil
	}
	return fmt.Errorf("cluster %s cannot be brought to the profile, and nothing was changed:\n  %s", cluster, strings.Join(c.Blocked, "\n  "))
}

// cidrsEqual is eksctl's comparison (pkg/ctl/utils/vpc_helper.go
// cidrsEqual): as sets, none wanted being EKS's default of 0.0.0.0/0.
func cidrsEqual(live, want []string) bool {
	if len(want) == 0 && len(live) == 1 && live[0] == "0.0.0.0/0" {
		return true
	}
	a, b := slices.Clone(live), slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func cidrList(c []string) string {
	if len(c) == 0 {
		return "0.0.0.0/0 (none listed)"
	}
	s := slices.Clone(c)
	slices.Sort(s)
	return strings.Join(s, ",")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// PodIMDSDifference is the node group's pod IMDS setting as its launch
// template has it (hopLimit: HttpPutResponseHopLimit; 0 when unknown)
// against the ClusterConfig's disablePodIMDS: eksctl's launch template sets
// a hop limit of 1 for it (pkg/cfn/builder/nodegroup.go), so that pods
// cannot reach the instance metadata service. A managed node group's
// launch template is not changed in place: a new node group is the fix.
func PodIMDSDifference(ng *api.ManagedNodeGroup, hopLimit int) *Difference {
	want := api.IsEnabled(ng.DisablePodIMDS)
	if hopLimit == 0 || want == (hopLimit == 1) {
		return nil
	}
	live, w := "reachable from pods", "blocked"
	if !want {
		live, w = w, live
	}
	return &Difference{"pod IMDS", live, w, "not changed on an existing node group: make a new node group (eksctl create nodegroup) and delete the old one"}
}
