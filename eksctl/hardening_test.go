package eksctl

import (
	"slices"
	"testing"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/internal/config"
)

// The endpoint access, the Secrets key and the pods' IMDS block reach the
// ClusterConfig, and eksctl's own validation (Render runs it) takes them.
func TestEndpointSecretsEncryptionAndIMDS(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	p.Cluster.EndpointAccess = config.EndpointAccess{Private: true, Public: true, PublicCIDRs: []string{"203.0.113.0/24", "198.51.100.7/32"}}
	p.Cluster.KMSKeyARN = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	if probs := config.ReadyToCreate(p); len(probs) != 0 {
		t.Fatalf("a profile with CIDRs and a key should be ready: %v", probs)
	}
	cfg, err := render(t, p)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.VPC.ClusterEndpoints
	if !api.IsEnabled(e.PrivateAccess) || !api.IsEnabled(e.PublicAccess) || !slices.Equal(cfg.VPC.PublicAccessCIDRs, p.Cluster.EndpointAccess.PublicCIDRs) {
		t.Errorf("endpoints %+v CIDRs %v", e, cfg.VPC.PublicAccessCIDRs)
	}
	if cfg.SecretsEncryption == nil || cfg.SecretsEncryption.KeyARN != p.Cluster.KMSKeyARN {
		t.Errorf("secretsEncryption = %+v", cfg.SecretsEncryption)
	}
	for _, ng := range cfg.ManagedNodeGroups {
		if !api.IsEnabled(ng.DisablePodIMDS) {
			t.Errorf("node group %s lets pods reach IMDS", ng.Name)
		}
	}

	// Private only: eksctl takes it (nodes and operators inside the VPC).
	p.Cluster.EndpointAccess = config.EndpointAccess{Private: true}
	cfg, err = render(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if api.IsEnabled(cfg.VPC.ClusterEndpoints.PublicAccess) || len(cfg.VPC.PublicAccessCIDRs) != 0 {
		t.Errorf("private-only profile rendered public access: %+v %v", cfg.VPC.ClusterEndpoints, cfg.VPC.PublicAccessCIDRs)
	}
}
