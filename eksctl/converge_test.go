package eksctl

import (
	"strings"
	"testing"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/internal/config"
)

const (
	keyA = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	keyB = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
)

func TestConverge(t *testing.T) {
	t.Parallel()
	open := ClusterSettings{PrivateAccess: true, PublicAccess: true, PublicCIDRs: []string{"0.0.0.0/0"}}
	office := ClusterSettings{PrivateAccess: true, PublicAccess: true, PublicCIDRs: []string{"203.0.113.0/24", "198.51.100.0/24"}}
	with := func(s ClusterSettings, f func(*ClusterSettings)) ClusterSettings {
		s.PublicCIDRs = append([]string(nil), s.PublicCIDRs...)
		f(&s)
		return s
	}
	tests := []struct {
		name        string
		want, live  ClusterSettings
		vpc, enable bool
		blocked     string // a part of the blocked reason; "" for none
		differences int
	}{
		{"same", office, office, false, false, "", 0},
		{"cidrs in another order, repeated", office, with(office, func(s *ClusterSettings) {
			s.PublicCIDRs = []string{"198.51.100.0/24", "203.0.113.0/24", "198.51.100.0/24"}
		}), false, false, "", 0},
		{"none wanted is 0.0.0.0/0", with(open, func(s *ClusterSettings) { s.PublicCIDRs = nil }), open, false, false, "", 0},
		{"open endpoint limited", office, open, true, false, "", 1},
		{"one cidr more", office, with(office, func(s *ClusterSettings) { s.PublicCIDRs = s.PublicCIDRs[:1] }), true, false, "", 1},
		{"public off", with(office, func(s *ClusterSettings) { s.PublicAccess = false; s.PublicCIDRs = nil }), office, true, false, "", 1},
		{"private on", office, with(office, func(s *ClusterSettings) { s.PrivateAccess = false }), true, false, "", 1},
		{"cidrs not compared with public off", ClusterSettings{PrivateAccess: true}, with(office, func(s *ClusterSettings) { s.PublicAccess = false }), false, false, "", 0},
		{"limit removed from the profile", with(open, func(s *ClusterSettings) { s.PublicCIDRs = nil }), office, false, false, "cluster.endpointAccess.publicCIDRs", 1},
		{"encryption enabled", with(office, func(s *ClusterSettings) { s.SecretsKeyARN = keyA }), office, false, true, "", 1},
		{"same key", with(office, func(s *ClusterSettings) { s.SecretsKeyARN = keyA }), with(office, func(s *ClusterSettings) { s.SecretsKeyARN = keyA }), false, false, "", 0},
		{"another key", with(office, func(s *ClusterSettings) { s.SecretsKeyARN = keyB }), with(office, func(s *ClusterSettings) { s.SecretsKeyARN = keyA }), false, false, "cluster.kmsKeyARN is " + keyB, 1},
		{"key removed from the profile", office, with(office, func(s *ClusterSettings) { s.SecretsKeyARN = keyA }), false, false, "cluster.kmsKeyARN is not set", 1},
		{"old cluster: open, unencrypted", with(office, func(s *ClusterSettings) { s.SecretsKeyARN = keyA }), open, true, true, "", 2},
		{"blocked key beside endpoint drift", with(office, func(s *ClusterSettings) { s.SecretsKeyARN = keyB }), with(open, func(s *ClusterSettings) { s.SecretsKeyARN = keyA }), true, false, "EKS cannot change or remove", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Converge(tt.want, tt.live)
			if c.UpdateVPCConfig != tt.vpc || c.EnableSecretsEncryption != tt.enable {
				t.Errorf("vpc, enable = %v, %v; want %v, %v", c.UpdateVPCConfig, c.EnableSecretsEncryption, tt.vpc, tt.enable)
			}
			if len(c.Differences) != tt.differences {
				t.Errorf("differences = %v, want %d", c.Differences, tt.differences)
			}
			err := c.Err("sovd-production-cluster")
			switch {
			case tt.blocked == "" && err != nil:
				t.Errorf("blocked: %v", err)
			case tt.blocked != "" && (err == nil || !strings.Contains(err.Error(), tt.blocked)):
				t.Errorf("err = %v, want it to name %q", err, tt.blocked)
			}
		})
	}
}

// WantedSettings reads what Render put in the file: the profile's endpoint
// access and key.
func TestWantedSettings(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	p.Cluster.EndpointAccess = config.EndpointAccess{Private: true, Public: true, PublicCIDRs: []string{"203.0.113.0/24"}}
	p.Cluster.KMSKeyARN = keyA
	cfg, err := Render(p, Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	w := WantedSettings(cfg)
	if !w.PrivateAccess || !w.PublicAccess || strings.Join(w.PublicCIDRs, ",") != "203.0.113.0/24" || w.SecretsKeyARN != keyA {
		t.Errorf("WantedSettings = %+v", w)
	}
}

func TestPodIMDSDifference(t *testing.T) {
	t.Parallel()
	ng := &api.ManagedNodeGroup{NodeGroupBase: &api.NodeGroupBase{DisablePodIMDS: api.Enabled()}}
	if d := PodIMDSDifference(ng, 1); d != nil {
		t.Errorf("hop limit 1: %v", d)
	}
	if d := PodIMDSDifference(ng, 0); d != nil {
		t.Errorf("unknown: %v", d)
	}
	if d := PodIMDSDifference(ng, 2); d == nil || !strings.Contains(d.Fix, "new node group") {
		t.Errorf("hop limit 2: %v", d)
	}
}
