package cloud

import (
	"strings"
	"testing"
)

func TestPickHostedZone(t *testing.T) {
	t.Parallel()
	pub := func(id, name string) ZoneCandidate { return ZoneCandidate{ID: "/hostedzone/" + id, Name: name} }
	for _, c := range []struct {
		name    string
		domain  string
		zones   []ZoneCandidate
		want    string
		wantErr string
	}{
		{"parent zone", "sovd.production.com", []ZoneCandidate{pub("ZA", "production.com."), pub("ZB", "other.com.")}, "ZA", ""},
		{"the domain's own zone wins over its parent", "sovd.production.com", []ZoneCandidate{pub("ZA", "production.com."), pub("ZS", "sovd.production.com.")}, "ZS", ""},
		{"apex domain", "production.com", []ZoneCandidate{pub("ZA", "production.com")}, "ZA", ""},
		{"a private zone is not the domain's", "sovd.production.com", []ZoneCandidate{{ID: "ZP", Name: "sovd.production.com.", Private: true}, pub("ZA", "production.com.")}, "ZA", ""},
		{"a name that only ends alike is no parent", "sovd.production.com", []ZoneCandidate{pub("ZX", "duction.com.")}, "", "no public Route53 hosted zone holds sovd.production.com"},
		{"missing", "sovd.production.com", nil, "", "create one (aws route53 create-hosted-zone"},
		{"ambiguous", "sovd.production.com", []ZoneCandidate{pub("ZA", "production.com."), pub("ZB", "production.com.")}, "", "2 public Route53 hosted zones are named production.com (ZA, ZB): set app.hostedZoneID"},
		{"ambiguous at a shorter name only", "sovd.production.com", []ZoneCandidate{pub("ZA", "com."), pub("ZB", "com."), pub("ZC", "production.com.")}, "ZC", ""},
	} {
		got, err := PickHostedZone(c.domain, c.zones)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: %v, want an error containing %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || got.ID != c.want {
			t.Errorf("%s: %+v, %v; want %s", c.name, got, err, c.want)
		}
	}
}
