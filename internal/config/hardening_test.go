package config

import (
	"strings"
	"testing"
	"time"
)

func TestEndpointAccessValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    EndpointAccess
		want string // a path in the problems; "" for none
	}{
		{"default", EndpointAccess{Private: true, Public: true}, ""},
		{"cidrs", EndpointAccess{Private: true, Public: true, PublicCIDRs: []string{"203.0.113.0/24"}}, ""},
		{"private only", EndpointAccess{Private: true}, ""},
		{"no access", EndpointAccess{}, "cluster.endpointAccess"},
		{"cidrs without public", EndpointAccess{Private: true, PublicCIDRs: []string{"203.0.113.0/24"}}, "cluster.endpointAccess.publicCIDRs"},
		{"host bits", EndpointAccess{Public: true, PublicCIDRs: []string{"203.0.113.5/24"}}, "cluster.endpointAccess.publicCIDRs[0]"},
		{"ipv6", EndpointAccess{Public: true, PublicCIDRs: []string{"2001:db8::/32"}}, "cluster.endpointAccess.publicCIDRs[0]"},
		{"not a cidr", EndpointAccess{Public: true, PublicCIDRs: []string{"office"}}, "cluster.endpointAccess.publicCIDRs[0]"},
	}
	for _, tt := range tests {
		p := Builtin("staging")
		p.Cluster.EndpointAccess = tt.e
		probs := ValidateProfile(p, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
		found := ""
		for _, pr := range probs {
			if strings.Contains(pr.Path, "endpointAccess") {
				found = pr.Path
			}
		}
		if tt.want == "" && found != "" || tt.want != "" && found != "environments.staging."+tt.want {
			t.Errorf("%s: problems at %q, want %q (%v)", tt.name, found, tt.want, probs)
		}
	}
}

// The built-in production profile is valid (plan works on it) but not ready
// to create: its endpoint would be open to the internet and it has no
// Secrets key. Staging, unprotected, is ready.
func TestReadyToCreate(t *testing.T) {
	t.Parallel()
	prod := Builtin("production")
	if probs := ValidateProfile(prod, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)); len(probs) != 0 {
		t.Fatalf("the built-in production profile must stay valid for plan: %v", probs)
	}
	probs := ReadyToCreate(prod)
	paths := map[string]bool{}
	for _, pr := range probs {
		paths[pr.Path] = true
		if pr.Hint == "" {
			t.Errorf("%s: no hint", pr.Path)
		}
	}
	if !paths["environments.production.cluster.endpointAccess.publicCIDRs"] || !paths["environments.production.cluster.kmsKeyARN"] {
		t.Errorf("production not ready should name publicCIDRs and kmsKeyARN, got %v", probs)
	}
	prod.Cluster.EndpointAccess.PublicCIDRs = []string{"0.0.0.0/0"}
	if len(ReadyToCreate(prod)) != 2 {
		t.Error("0.0.0.0/0 is the whole internet, not a limit")
	}
	prod.Cluster.EndpointAccess.PublicCIDRs = []string{"203.0.113.0/24"}
	prod.Cluster.KMSKeyARN = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	if probs := ReadyToCreate(prod); len(probs) != 0 {
		t.Errorf("configured production should be ready: %v", probs)
	}
	prod.Cluster.EndpointAccess = EndpointAccess{Private: true}
	if probs := ReadyToCreate(prod); len(probs) != 0 {
		t.Errorf("private-only production needs no CIDRs: %v", probs)
	}
	if probs := ReadyToCreate(Builtin("staging")); len(probs) != 0 {
		t.Errorf("staging is not protected: %v", probs)
	}
}
