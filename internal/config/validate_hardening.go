package config

import (
	"fmt"
	"net/netip"
)

// MaxPublicAccessCIDRs is how many publicAccessCIDRs EKS accepts on a
// cluster's endpoint.
const MaxPublicAccessCIDRs = 40

// validateEndpointAccess checks cluster.endpointAccess: some access at all,
// and public CIDRs that EKS takes (IPv4 prefixes, at most 40).
func (v *validator) validateEndpointAccess(p *Profile) {
	e := p.Cluster.EndpointAccess
	if !e.Private && !e.Public {
		v.add("cluster.endpointAccess", "neither private nor public: nothing could reach the API server",
			"set private: true (nodes inside the VPC), public: true with publicCIDRs for operators, or both")
	}
	if !e.Public && len(e.PublicCIDRs) > 0 {
		v.add("cluster.endpointAccess.publicCIDRs", "is set while public is false", "remove publicCIDRs, or set public: true")
	}
	if len(e.PublicCIDRs) > MaxPublicAccessCIDRs {
		v.add("cluster.endpointAccess.publicCIDRs", fmt.Sprintf("lists %d CIDRs; EKS takes at most %d", len(e.PublicCIDRs), MaxPublicAccessCIDRs),
			"merge them into fewer prefixes")
	}
	for i, c := range e.PublicCIDRs {
		pfx, err := netip.ParsePrefix(c)
		if err != nil || !pfx.Addr().Is4() || pfx.Masked() != pfx {
			v.add(fmt.Sprintf("cluster.endpointAccess.publicCIDRs[%d]", i), fmt.Sprintf("%q is not an IPv4 CIDR block", c),
				"write the network address and prefix, such as 203.0.113.0/24")
		}
	}
}

// ReadyToCreate reports what a protected profile still lacks before its
// cluster may be created: the built-in production profile cannot know the
// operators' networks or the account's KMS key, so `bootstrap plan` works on
// it (and warns), while `bootstrap cluster` and `up` refuse with these
// problems before starting anything. Unprotected profiles are always ready.
func ReadyToCreate(p *Profile) Problems {
	if !p.Protected() {
		return nil
	}
	v := &validator{env: p.Name}
	e := p.Cluster.EndpointAccess
	if e.Public && (len(e.PublicCIDRs) == 0 || containsString(e.PublicCIDRs, "0.0.0.0/0")) {
		v.add("cluster.endpointAccess.publicCIDRs", "the API server of a protected environment would be open to the whole internet",
			"list your operators' networks (publicCIDRs: [203.0.113.0/24]), or set public: false and reach the API from inside the VPC")
	}
	if p.Cluster.KMSKeyARN == "" {
		v.add("cluster.kmsKeyARN", "a protected environment needs envelope encryption of Kubernetes Secrets, and once a cluster has a key EKS cannot change or remove it",
			"create a symmetric key in "+p.Region+" (aws kms create-key --tags TagKey=Environment,TagValue="+p.Name+"; aws kms enable-key-rotation) and set its ARN here")
	}
	return v.probs
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CreateWarnings are ReadyToCreate's problems as `bootstrap plan` shows
// them: plan works on the built-in profiles, cluster and up refuse.
func CreateWarnings(p *Profile) []string {
	var w []string
	for _, pr := range ReadyToCreate(p) {
		w = append(w, "bootstrap cluster and up will refuse until this is set: "+pr.String())
	}
	return w
}
