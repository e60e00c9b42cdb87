package addons

import (
	"slices"
	"testing"

	"github.com/sovd/bootstrap/internal/config"
)

// TestExternalDNSPolicyOneZone: the role changes records of the hosted zone
// of app.domain and of no other zone; without a domain it changes none.
func TestExternalDNSPolicyOneZone(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	const mine, other = "Z0MINE", "Z0OTHER"
	doc, err := externalDNSIRSA.Policy(p, Live{HostedZoneID: mine})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		action, resource string
		want             bool
	}{
		{"route53:ChangeResourceRecordSets", HostedZoneARN(mine), true},
		{"route53:ChangeResourceRecordSets", HostedZoneARN(other), false},
		{"route53:ChangeResourceRecordSets", "*", false},
		{"route53:ListResourceRecordSets", HostedZoneARN(mine), true},
		{"route53:ListResourceRecordSets", HostedZoneARN(other), false},
		{"route53:ListTagsForResources", HostedZoneARN(mine), true},
		{"route53:ListHostedZones", "*", true},
		{"route53:DeleteHostedZone", HostedZoneARN(mine), false},
		{"route53:ChangeTagsForResource", HostedZoneARN(mine), false},
	} {
		if got := policyAllows(t, doc, tc.action, tc.resource); got != tc.want {
			t.Errorf("%s on %s: allowed = %v, want %v", tc.action, tc.resource, got, tc.want)
		}
	}
	staging := config.Builtin("staging") // no app.domain
	none, err := externalDNSIRSA.Policy(staging, Live{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{HostedZoneARN(mine), HostedZoneARN(""), "*"} {
		if policyAllows(t, none, "route53:ChangeResourceRecordSets", r) {
			t.Errorf("without app.domain the role may change records on %s", r)
		}
	}
}

// TestExternalDNSValues: the keys that keep two environments apart and
// external-dns inside the one zone.
func TestExternalDNSValues(t *testing.T) {
	t.Parallel()
	prod := externalDNSValues(config.Builtin("production"), live).(ExternalDNSValues)
	if prod.TxtOwnerID != "sovd-production-cluster.us-east-1" || prod.Registry != "txt" || prod.Policy != "sync" {
		t.Errorf("registry txt, owner <cluster>.<region>, policy sync: got %q %q %q", prod.Registry, prod.TxtOwnerID, prod.Policy)
	}
	if !slices.Equal(prod.DomainFilters, []string{"sovd.production.com"}) || !slices.Contains(prod.ExtraArgs, "--zone-id-filter="+live.HostedZoneID) {
		t.Errorf("filters: domain %v, args %v", prod.DomainFilters, prod.ExtraArgs)
	}
	if prod.Provider.Name != "aws" || !slices.Equal(prod.Sources, []string{"ingress"}) {
		t.Errorf("provider %q sources %v", prod.Provider.Name, prod.Sources)
	}
	if prod.ServiceAccount.Annotations[IRSAAnnotation] != "arn:aws:iam::123456789012:role/sovd-production-external-dns" {
		t.Errorf("service account %+v", prod.ServiceAccount)
	}
	stg := externalDNSValues(config.Builtin("staging"), Live{AccountID: "123456789012"}).(ExternalDNSValues)
	if stg.TxtOwnerID == prod.TxtOwnerID {
		t.Errorf("staging and production share the owner %q", stg.TxtOwnerID)
	}
	if !slices.Equal(stg.DomainFilters, []string{NoDomainFilter}) {
		t.Errorf("staging (no app.domain) domain filters = %v, want only %s", stg.DomainFilters, NoDomainFilter)
	}
	for _, a := range stg.ExtraArgs {
		if len(a) > len("--zone-id-filter") && a[:len("--zone-id-filter")] == "--zone-id-filter" {
			t.Errorf("staging has a zone filter %q without a zone", a)
		}
	}
}
