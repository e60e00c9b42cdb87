package cloud

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
)

// HostedZone is a Route53 public hosted zone: its id without /hostedzone/
// and its name without the trailing dot.
type HostedZone struct {
	ID   string
	Name string
}

// ZoneCandidate is one hosted zone as ListHostedZonesByName returns it.
type ZoneCandidate struct {
	ID      string // /hostedzone/Z... or Z...
	Name    string // with or without the trailing dot
	Private bool
}

// PickHostedZone chooses the zone that holds domain: the public zone whose
// name is the longest suffix of domain (sovd.example.com lives in
// sovd.example.com. if it exists, else in example.com.). Route53 lets an
// account hold several public zones of one name (CreateHostedZone takes a
// caller reference, not a unique name); two of them at the chosen name are
// ambiguous, and the error lists their ids so that app.hostedZoneID can
// name one. Private zones are left out: ACM's DNS validation and the
// internet resolve only public ones.
func PickHostedZone(domain string, zones []ZoneCandidate) (HostedZone, error) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	best := -1
	var found []HostedZone
	for _, z := range zones {
		if z.Private {
			continue
		}
		name := strings.TrimSuffix(strings.ToLower(z.Name), ".")
		if name != domain && !strings.HasSuffix(domain, "."+name) {
			continue
		}
		hz := HostedZone{ID: strings.TrimPrefix(z.ID, "/hostedzone/"), Name: name}
		switch {
		case len(name) > best:
			best, found = len(name), []HostedZone{hz}
		case len(name) == best:
			found = append(found, hz)
		}
	}
	switch len(found) {
	case 0:
		return HostedZone{}, fmt.Errorf("no public Route53 hosted zone holds %s (none named %s or a parent of it); "+
			"create one (aws route53 create-hosted-zone --name <zone> --caller-reference <unique>) and delegate it, "+
			"or set app.hostedZoneID", domain, domain)
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, z := range found {
		ids[i] = z.ID
	}
	return HostedZone{}, fmt.Errorf("%d public Route53 hosted zones are named %s (%s): set app.hostedZoneID to the one that is delegated",
		len(found), found[0].Name, strings.Join(ids, ", "))
}

// FindHostedZone finds the public hosted zone that holds domain, by name
// (PickHostedZone). It reads every page of ListHostedZones: the zones of an
// account are few, and ListHostedZonesByName starts at a name rather than
// filtering by suffix.
func (c *Clients) FindHostedZone(ctx context.Context, domain string) (HostedZone, error) {
	r53 := route53.NewFromConfig(c.Config)
	var zones []ZoneCandidate
	p := route53.NewListHostedZonesPaginator(r53, &route53.ListHostedZonesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return HostedZone{}, fmt.Errorf("listing Route53 hosted zones: %w", err)
		}
		for _, z := range page.HostedZones {
			private := z.Config != nil && z.Config.PrivateZone
			zones = append(zones, ZoneCandidate{ID: aws.ToString(z.Id), Name: aws.ToString(z.Name), Private: private})
		}
	}
	return PickHostedZone(domain, zones)
}

// HostedZoneExists reports whether the zone id names a hosted zone of the
// account (a configured app.hostedZoneID is checked before anything is
// made).
func (c *Clients) HostedZoneExists(ctx context.Context, id string) (HostedZone, error) {
	r53 := route53.NewFromConfig(c.Config)
	out, err := r53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})
	if err != nil {
		return HostedZone{}, fmt.Errorf("app.hostedZoneID %s: %w", id, err)
	}
	if out.HostedZone == nil {
		return HostedZone{}, fmt.Errorf("app.hostedZoneID %s: Route53 returned no zone", id)
	}
	hz := out.HostedZone
	if hz.Config != nil && hz.Config.PrivateZone {
		return HostedZone{}, fmt.Errorf("app.hostedZoneID %s (%s) is a private zone: ACM validates and the internet resolves only public ones",
			id, aws.ToString(hz.Name))
	}
	return HostedZone{ID: strings.TrimPrefix(aws.ToString(hz.Id), "/hostedzone/"), Name: strings.TrimSuffix(aws.ToString(hz.Name), ".")}, nil
}

// LoadBalancer is the scheme and state of the load balancer whose DNS name
// is dnsName (an Ingress's status hostname); an error when the account has
// none of that name.
func (c *Clients) LoadBalancer(ctx context.Context, dnsName string) (scheme, state string, err error) {
	p := elbv2.NewDescribeLoadBalancersPaginator(elbv2.NewFromConfig(c.Config), &elbv2.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", "", fmt.Errorf("describing load balancers: %w", err)
		}
		for _, lb := range page.LoadBalancers {
			if strings.EqualFold(aws.ToString(lb.DNSName), dnsName) {
				st := ""
				if lb.State != nil {
					st = string(lb.State.Code)
				}
				return string(lb.Scheme), st, nil
			}
		}
	}
	return "", "", fmt.Errorf("no load balancer of this account and region is %s", dnsName)
}
