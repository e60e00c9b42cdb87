package cloud

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// What teardown finds still tagged for a cluster once eksctl has deleted it,
// and what it may delete of that. The load balancer controller, the VPC CNI
// and eksctl each tag what they make for a cluster; bootstrap's own tags
// mark what it (or Terraform) made for an environment. What is tagged but
// may still be in use is reported, never deleted.

// Tags that tie a resource to a cluster.
const (
	// TagELBv2Cluster is the load balancer controller's tag on the load
	// balancers, target groups and security groups it makes.
	TagELBv2Cluster = "elbv2.k8s.aws/cluster"
	// TagEksctlCluster is eksctl's tag on what its stacks make.
	TagEksctlCluster = "alpha.eksctl.io/cluster-name"
	// TagCNICluster is the VPC CNI's tag on the network interfaces it makes
	// for pods (it leaks them when a node goes before its ENIs are freed).
	TagCNICluster = "cluster.k8s.amazonaws.com/name"
	// TagKubernetesClusterPrefix + <cluster> is Kubernetes' own ownership
	// tag, with value "owned" or "shared".
	TagKubernetesClusterPrefix = "kubernetes.io/cluster/"
)

// Owner is whose leftovers to look for: a cluster, its VPC, and the
// environment bootstrap tags with Environment=<env>, Application=<app> and
// ManagedBy=bootstrap. Only network interfaces and security groups in the
// VPC are ever deleted; what carries bootstrap's tags but not all three of
// this environment's is another's and is kept (sweepOwnership).
type Owner struct {
	Cluster     string
	Environment string
	Application string
	// VPCID is the cluster's VPC; FindLeftovers looks it up by eksctl's tag
	// when empty (a re-run once EKS has deleted the cluster).
	VPCID string
}

// KubernetesTag is the kubernetes.io/cluster/<name> key.
func (o Owner) KubernetesTag() string { return TagKubernetesClusterPrefix + o.Cluster }

// tagQuery is one tag filter set: every condition must hold. A nil value
// list means any value.
type tagQuery []tagCond

type tagCond struct {
	key    string
	values []string
}

// queries are the ways a resource can be tagged for the owner; a resource
// matching any of them is the owner's.
func (o Owner) queries() []tagQuery {
	q := []tagQuery{
		{{key: o.KubernetesTag()}},
		{{key: TagELBv2Cluster, values: []string{o.Cluster}}},
		{{key: TagEksctlCluster, values: []string{o.Cluster}}},
		{{key: TagCNICluster, values: []string{o.Cluster}}},
	}
	if o.Environment != "" {
		// Listed broadly (another Application too) so that the report can
		// say why such a resource is kept; sweepOwnership decides.
		q = append(q, tagQuery{{key: TagEnvironment, values: []string{o.Environment}}, {key: TagManagedBy, values: []string{ManagedByBootstrap}}})
	}
	return q
}

// byCluster reports whether the tags tie a resource to this cluster (its
// Kubernetes, load balancer controller, eksctl or VPC CNI tag).
func (o Owner) byCluster(tags map[string]string) bool {
	for _, q := range o.queries()[:4] {
		if q.matches(tags) {
			return true
		}
	}
	return false
}

// sweepOwnership decides whether a resource found by its tags is the
// owner's to sweep at all: "" when it is, else why it is kept. Pure; the
// rules (table-tested):
//   - tied to the cluster by a cluster tag, or carrying all three of this
//     environment's tags (Environment, Application, ManagedBy); bootstrap's
//     tags with another Application are another application's;
//   - a network interface or security group must be in the cluster's VPC
//     (when the VPC is gone, so is everything that was in it);
//   - an elastic IP tied by bootstrap's tags alone is never released: an
//     unassociated address has no VPC to prove it this cluster's, and a
//     release cannot be undone.
func sweepOwnership(o Owner, kind Kind, tags map[string]string, vpc string) string {
	if !o.byCluster(tags) {
		want := EnvironmentOwnership(o.Application, o.Environment)
		if m := want.Mismatches(tags); len(m) > 0 {
			return "not this environment's (" + strings.Join(m, "; ") + ")"
		}
		if kind == KindEIP {
			return "tagged for the environment but for no cluster: its tags cannot tie an address to the cluster's VPC; release it by hand if it is this environment's"
		}
	}
	if kind == KindENI || kind == KindSecurityGroup {
		switch {
		case o.VPCID == "":
			return "the cluster's VPC is not known: only what is in it is swept"
		case vpc != o.VPCID:
			return "in " + firstNonEmpty(vpc, "no VPC") + ", not the cluster's VPC " + o.VPCID
		}
	}
	return ""
}

func (q tagQuery) matches(tags map[string]string) bool {
	for _, c := range q {
		v, ok := tags[c.key]
		if !ok {
			return false
		}
		if c.values != nil && !contains(c.values, v) {
			return false
		}
	}
	return true
}

// ec2Filters renders a query as EC2 Describe* filters.
func (q tagQuery) ec2Filters() []ec2types.Filter {
	var out []ec2types.Filter
	for _, c := range q {
		if c.values == nil {
			out = append(out, ec2types.Filter{Name: aws.String("tag-key"), Values: []string{c.key}})
		} else {
			out = append(out, ec2types.Filter{Name: aws.String("tag:" + c.key), Values: c.values})
		}
	}
	return out
}

// Matched returns the tags that make a resource the owner's (for the
// report), or nil when it is not.
func (o Owner) Matched(tags map[string]string) map[string]string {
	var out map[string]string
	for _, q := range o.queries() {
		if !q.matches(tags) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		for _, c := range q {
			out[c.key] = tags[c.key]
		}
	}
	return out
}

// Shared reports whether the tags say the resource is shared with other
// clusters (kubernetes.io/cluster/<name>=shared): not this cluster's to delete.
func (o Owner) Shared(tags map[string]string) bool {
	return tags[o.KubernetesTag()] == "shared"
}

// Kind is a type of leftover.
type Kind string

// Kinds of leftovers, in the order they are deleted: a load balancer holds
// its target groups (through listeners) and its security groups (through its
// network interfaces); an address may hold a network interface.
const (
	KindLoadBalancer  Kind = "load balancer"
	KindTargetGroup   Kind = "target group"
	KindEIP           Kind = "elastic IP"
	KindENI           Kind = "network interface"
	KindSecurityGroup Kind = "security group"
)

var kindOrder = map[Kind]int{KindLoadBalancer: 0, KindTargetGroup: 1, KindEIP: 2, KindENI: 3, KindSecurityGroup: 4}

// Leftover is a resource still tagged for the owner.
type Leftover struct {
	Kind Kind
	// ID is what a person looks it up by: the name of a load balancer or
	// target group, the eni-, sg- or eipalloc- id otherwise.
	ID string
	// ARN is set for load balancers and target groups.
	ARN string
	// Tags are the tags that make it the owner's.
	Tags map[string]string
	// Safe says bootstrap may delete it; Why says what it is, or why it is
	// kept.
	Safe bool
	Why  string
}

// TagString renders Tags as k=v, sorted, comma-separated.
func (l Leftover) TagString() string {
	keys := make([]string, 0, len(l.Tags))
	for k := range l.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l.Tags[k]
	}
	return strings.Join(parts, ",")
}

// DeleteCommand is the aws CLI command that deletes it, for the report.
func (l Leftover) DeleteCommand(region string) string {
	switch l.Kind {
	case KindLoadBalancer:
		return "aws elbv2 delete-load-balancer --region " + region + " --load-balancer-arn " + l.ARN
	case KindTargetGroup:
		return "aws elbv2 delete-target-group --region " + region + " --target-group-arn " + l.ARN
	case KindEIP:
		return "aws ec2 release-address --region " + region + " --allocation-id " + l.ID
	case KindENI:
		return "aws ec2 delete-network-interface --region " + region + " --network-interface-id " + l.ID
	case KindSecurityGroup:
		return "aws ec2 delete-security-group --region " + region + " --group-id " + l.ID
	}
	return ""
}

// ErrInUse marks a delete that AWS refused because something still uses the
// resource (a dependency that usually goes by itself shortly after what held
// it was deleted: a load balancer's network interfaces, a listener).
var ErrInUse = errors.New("still in use")

// ELBv2 is an Elastic Load Balancing v2 client.
func (c *Clients) ELBv2() *elbv2.Client { return elbv2.NewFromConfig(c.Config) }

// taggedLB is a load balancer or target group with its tags.
type taggedLB struct {
	kind           Kind
	name, arn      string
	tags           map[string]string
	securityGroups []string
}

// elbv2Resources lists every load balancer and target group of the region
// with its tags (ELBv2 has no server-side tag filter).
func (c *Clients) elbv2Resources(ctx context.Context) ([]taggedLB, error) {
	cl := c.ELBv2()
	var out []taggedLB
	lbs := elbv2.NewDescribeLoadBalancersPaginator(cl, &elbv2.DescribeLoadBalancersInput{})
	for lbs.HasMorePages() {
		page, err := lbs.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing load balancers in %s: %w", c.Region, err)
		}
		for _, lb := range page.LoadBalancers {
			out = append(out, taggedLB{kind: KindLoadBalancer, name: aws.ToString(lb.LoadBalancerName),
				arn: aws.ToString(lb.LoadBalancerArn), securityGroups: lb.SecurityGroups})
		}
	}
	tgs := elbv2.NewDescribeTargetGroupsPaginator(cl, &elbv2.DescribeTargetGroupsInput{})
	for tgs.HasMorePages() {
		page, err := tgs.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing target groups in %s: %w", c.Region, err)
		}
		for _, tg := range page.TargetGroups {
			out = append(out, taggedLB{kind: KindTargetGroup, name: aws.ToString(tg.TargetGroupName), arn: aws.ToString(tg.TargetGroupArn)})
		}
	}
	// DescribeTags takes at most 20 ARNs.
	byARN := map[string]*taggedLB{}
	for i := range out {
		byARN[out[i].arn] = &out[i]
	}
	for start := 0; start < len(out); start += 20 {
		end := min(start+20, len(out))
		arns := make([]string, 0, end-start)
		for _, r := range out[start:end] {
			arns = append(arns, r.arn)
		}
		res, err := cl.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
		if err != nil {
			if isNotFound(err) {
				// One went while we looked: read them one by one.
				for _, arn := range arns {
					one, err := cl.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{arn}})
					if err != nil {
						if isNotFound(err) {
							byARN[arn].arn = "" // gone
							continue
						}
						return nil, fmt.Errorf("reading the tags of %s: %w", arn, err)
					}
					setELBTags(byARN, one.TagDescriptions)
				}
				continue
			}
			return nil, fmt.Errorf("reading load balancer tags in %s: %w", c.Region, err)
		}
		setELBTags(byARN, res.TagDescriptions)
	}
	live := out[:0]
	for _, r := range out {
		if r.arn != "" {
			live = append(live, r)
		}
	}
	return live, nil
}

func setELBTags(byARN map[string]*taggedLB, descs []elbv2types.TagDescription) {
	for _, d := range descs {
		r := byARN[aws.ToString(d.ResourceArn)]
		if r == nil {
			continue
		}
		r.tags = map[string]string{}
		for _, t := range d.Tags {
			r.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
}

// ClusterLoadBalancers are the load balancers and target groups the load
// balancer controller made for a cluster (tagged elbv2.k8s.aws/cluster=<name>)
// that still exist, load balancers first.
func (c *Clients) ClusterLoadBalancers(ctx context.Context, cluster string) ([]Leftover, error) {
	all, err := c.elbv2Resources(ctx)
	if err != nil {
		return nil, err
	}
	var out []Leftover
	for _, r := range all {
		if r.tags[TagELBv2Cluster] != cluster {
			continue
		}
		out = append(out, Leftover{Kind: r.kind, ID: r.name, ARN: r.arn, Tags: map[string]string{TagELBv2Cluster: cluster},
			Safe: true, Why: "made by the load balancer controller for this cluster"})
	}
	sortLeftovers(out)
	return out, nil
}

// eniFacts is what decides whether a network interface can go, and whether
// it holds a security group.
type eniFacts struct {
	id, status, description, instance string
	requesterManaged                  bool
	groups                            []string
	tags                              map[string]string
	vpc                               string
}

// sgFacts is what decides whether a security group can go.
type sgFacts struct {
	id, name, vpc string
	tags          map[string]string
	// enis use it; referencedBy are the other groups whose rules name it.
	enis         []eniFacts
	referencedBy []string
}

type eipFacts struct {
	allocation, publicIP, association, eni, instance string
	tags                                             map[string]string
}

// FindLeftovers finds what is still tagged for the owner in the region —
// ELBv2 load balancers and target groups, network interfaces, security
// groups (never a VPC's default group) and elastic IPs — and says of each
// whether it is safe to delete: a load balancer or target group the
// controller made for this cluster, an unattached network interface, an
// unassociated address, a security group nothing uses or refers to (once
// the other leftovers are gone). Anything tagged as shared with other
// clusters is kept. The list is in the order to delete it. Changes nothing.
func (c *Clients) FindLeftovers(ctx context.Context, o Owner) ([]Leftover, error) {
	if o.VPCID == "" {
		vpc, err := c.clusterVPC(ctx, o.Cluster)
		if err != nil {
			return nil, err
		}
		o.VPCID = vpc
	}
	lbs, err := c.elbv2Resources(ctx)
	if err != nil {
		return nil, err
	}
	var owned []taggedLB
	for _, r := range lbs {
		if o.Matched(r.tags) != nil {
			owned = append(owned, r)
		}
	}
	enis, err := c.taggedENIs(ctx, o)
	if err != nil {
		return nil, err
	}
	eips, err := c.taggedEIPs(ctx, o)
	if err != nil {
		return nil, err
	}
	sgs, err := c.taggedSGs(ctx, o)
	if err != nil {
		return nil, err
	}
	// Load balancers of the region hold security groups too, tagged or not.
	sgUsers := map[string][]taggedLB{}
	for _, r := range lbs {
		for _, g := range r.securityGroups {
			sgUsers[g] = append(sgUsers[g], r)
		}
	}
	return classify(o, owned, enis, eips, sgs, sgUsers), nil
}

// classify decides, from what was read, what may be deleted and in which
// order. Pure: the rules are tested without AWS.
func classify(o Owner, lbs []taggedLB, enis []eniFacts, eips []eipFacts, sgs []sgFacts, sgLBs map[string][]taggedLB) []Leftover {
	var out []Leftover
	goingLB := map[string]bool{} // "app/name/id" of load balancers to delete
	for _, r := range lbs {
		l := Leftover{Kind: r.kind, ID: r.name, ARN: r.arn, Tags: o.Matched(r.tags)}
		switch {
		case o.Shared(r.tags):
			l.Why = "tagged " + o.KubernetesTag() + "=shared: other clusters may use it"
		case r.tags[TagELBv2Cluster] == o.Cluster:
			l.Safe, l.Why = true, "made by the load balancer controller for this cluster"
			if r.kind == KindLoadBalancer {
				goingLB[lbSuffix(r.arn)] = true
			}
		default:
			l.Why = "not made by the load balancer controller for this cluster: check what made it, then delete it by hand"
		}
		out = append(out, l)
	}
	goingENI := map[string]bool{}
	for _, e := range enis {
		l := Leftover{Kind: KindENI, ID: e.id, Tags: o.Matched(e.tags)}
		why := sweepOwnership(o, KindENI, e.tags, e.vpc)
		switch {
		case why != "":
			l.Why = why
		case o.Shared(e.tags):
			l.Why = "tagged " + o.KubernetesTag() + "=shared: other clusters may use it"
		case e.requesterManaged:
			l.Why = "managed by an AWS service (" + e.description + "): it goes with what made it"
		case e.status != "available":
			l.Why = "in use (" + e.status + attachedTo(e) + ")"
		default:
			l.Safe, l.Why = true, "unattached"
			goingENI[e.id] = true
		}
		out = append(out, l)
	}
	for _, a := range eips {
		l := Leftover{Kind: KindEIP, ID: a.allocation, Tags: o.Matched(a.tags)}
		why := sweepOwnership(o, KindEIP, a.tags, "")
		switch {
		case why != "":
			l.Why = why
		case o.Shared(a.tags):
			l.Why = "tagged " + o.KubernetesTag() + "=shared: other clusters may use it"
		case a.association != "" || a.eni != "" || a.instance != "":
			l.Why = "associated with " + firstNonEmpty(a.instance, a.eni, a.association) + " (" + a.publicIP + ")"
		default:
			l.Safe, l.Why = true, "unassociated ("+a.publicIP+")"
		}
		out = append(out, l)
	}
	out = append(out, classifySGs(o, sgs, sgLBs, goingLB, goingENI)...)
	sortLeftovers(out)
	return out
}

// classifySGs keeps a security group that anything staying behind uses or
// refers to, and orders the others so that a group is deleted after every
// group whose rules refer to it (AWS refuses otherwise).
func classifySGs(o Owner, sgs []sgFacts, sgLBs map[string][]taggedLB, goingLB, goingENI map[string]bool) []Leftover {
	why := map[string]string{}
	safe := map[string]bool{}
	for _, g := range sgs {
		if w := sgNotOurs(o, g); w != "" {
			why[g.id] = w
			continue
		}
		if reason := sgHeld(g, sgLBs[g.id], goingLB, goingENI); reason != "" {
			why[g.id] = reason
			continue
		}
		safe[g.id] = true
	}
	// A group referred to by a group that stays, stays.
	for changed := true; changed; {
		changed = false
		for _, g := range sgs {
			if !safe[g.id] {
				continue
			}
			for _, r := range g.referencedBy {
				if r != g.id && !safe[r] {
					safe[g.id] = false
					why[g.id] = "referred to by the rules of " + r
					changed = true
					break
				}
			}
		}
	}
	// Order: a group goes once every group referring to it has gone.
	var ordered []string
	done := map[string]bool{}
	for {
		var next []string
		for _, g := range sgs {
			if !safe[g.id] || done[g.id] {
				continue
			}
			ready := true
			for _, r := range g.referencedBy {
				if r != g.id && safe[r] && !done[r] {
					ready = false
					break
				}
			}
			if ready {
				next = append(next, g.id)
			}
		}
		if len(next) == 0 {
			break
		}
		sort.Strings(next)
		for _, id := range next {
			done[id] = true
		}
		ordered = append(ordered, next...)
	}
	for _, g := range sgs {
		if safe[g.id] && !done[g.id] {
			safe[g.id] = false
			why[g.id] = "in a cycle of rules referring to each other (" + strings.Join(g.referencedBy, ", ") + "): remove the rules, then delete it by hand"
		}
	}
	rank := map[string]int{}
	for i, id := range ordered {
		rank[id] = i
	}
	var out []Leftover
	for _, g := range sgs {
		l := Leftover{Kind: KindSecurityGroup, ID: g.id, Tags: o.Matched(g.tags), Safe: safe[g.id], Why: why[g.id]}
		if l.Safe {
			l.Why = "not used by anything that stays (" + g.name + ")"
		}
		out = append(out, l)
	}
	// Safe groups in deletion order, kept ones after them by id.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Safe != b.Safe {
			return a.Safe
		}
		if a.Safe {
			return rank[a.ID] < rank[b.ID]
		}
		return a.ID < b.ID
	})
	return out
}

// sgNotOurs says why a group is not the owner's to delete (another's, or
// shared with other clusters), or "".
func sgNotOurs(o Owner, g sgFacts) string {
	if w := sweepOwnership(o, KindSecurityGroup, g.tags, g.vpc); w != "" {
		return w
	}
	if o.Shared(g.tags) {
		return "tagged " + o.KubernetesTag() + "=shared: other clusters may use it"
	}
	return ""
}

// sgHeld says what keeps a group in use, or "" when nothing that stays does.
func sgHeld(g sgFacts, lbs []taggedLB, goingLB, goingENI map[string]bool) string {
	for _, lb := range lbs {
		if !goingLB[lbSuffix(lb.arn)] {
			return "used by load balancer " + lb.name
		}
	}
	for _, e := range g.enis {
		if goingENI[e.id] {
			continue
		}
		// A load balancer's own interfaces go with it.
		if d, ok := strings.CutPrefix(e.description, "ELB "); ok && e.requesterManaged && goingLB[d] {
			continue
		}
		return "used by " + e.id + " (" + e.status + attachedTo(e) + ")"
	}
	return ""
}

// lbSuffix is app/<name>/<id> (or net/...) of a load balancer's ARN, which
// is how its network interfaces' descriptions name it ("ELB app/...").
func lbSuffix(arn string) string {
	_, s, _ := strings.Cut(arn, ":loadbalancer/")
	return s
}

func attachedTo(e eniFacts) string {
	if e.instance != "" {
		return ", attached to " + e.instance
	}
	if e.description != "" {
		return ", " + e.description
	}
	return ""
}

func sortLeftovers(ls []Leftover) {
	sort.SliceStable(ls, func(i, j int) bool {
		a, b := ls[i], ls[j]
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		if a.Kind == KindSecurityGroup {
			return false // classifySGs ordered them
		}
		return a.ID < b.ID
	})
}

func tagMap(tags []ec2types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (c *Clients) taggedENIs(ctx context.Context, o Owner) ([]eniFacts, error) {
	seen := map[string]bool{}
	var out []eniFacts
	for _, q := range o.queries() {
		p := ec2.NewDescribeNetworkInterfacesPaginator(c.EC2, &ec2.DescribeNetworkInterfacesInput{Filters: q.ec2Filters()})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("listing network interfaces tagged for %s: %w", o.Cluster, err)
			}
			for _, n := range page.NetworkInterfaces {
				id := aws.ToString(n.NetworkInterfaceId)
				if seen[id] {
					continue
				}
				seen[id] = true
				out = append(out, eniOf(n))
			}
		}
	}
	return out, nil
}

func eniOf(n ec2types.NetworkInterface) eniFacts {
	e := eniFacts{
		id: aws.ToString(n.NetworkInterfaceId), status: string(n.Status), description: aws.ToString(n.Description),
		requesterManaged: aws.ToBool(n.RequesterManaged), tags: tagMap(n.TagSet), vpc: aws.ToString(n.VpcId),
	}
	if n.Attachment != nil {
		e.instance = aws.ToString(n.Attachment.InstanceId)
	}
	for _, g := range n.Groups {
		e.groups = append(e.groups, aws.ToString(g.GroupId))
	}
	return e
}

func (c *Clients) taggedEIPs(ctx context.Context, o Owner) ([]eipFacts, error) {
	seen := map[string]bool{}
	var out []eipFacts
	for _, q := range o.queries() {
		res, err := c.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: q.ec2Filters()})
		if err != nil {
			return nil, fmt.Errorf("listing elastic IPs tagged for %s: %w", o.Cluster, err)
		}
		for _, a := range res.Addresses {
			id := aws.ToString(a.AllocationId)
			if id == "" || seen[id] {
				continue // an EC2-Classic address has no allocation id
			}
			seen[id] = true
			out = append(out, eipFacts{
				allocation: id, publicIP: aws.ToString(a.PublicIp), association: aws.ToString(a.AssociationId),
				eni: aws.ToString(a.NetworkInterfaceId), instance: aws.ToString(a.InstanceId), tags: tagMap(a.Tags),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].allocation < out[j].allocation })
	return out, nil
}

func (c *Clients) taggedSGs(ctx context.Context, o Owner) ([]sgFacts, error) {
	seen := map[string]bool{}
	var out []sgFacts
	for _, q := range o.queries() {
		p := ec2.NewDescribeSecurityGroupsPaginator(c.EC2, &ec2.DescribeSecurityGroupsInput{Filters: q.ec2Filters()})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("listing security groups tagged for %s: %w", o.Cluster, err)
			}
			for _, g := range page.SecurityGroups {
				id := aws.ToString(g.GroupId)
				if seen[id] || aws.ToString(g.GroupName) == "default" {
					continue // a VPC's default group goes with the VPC
				}
				seen[id] = true
				out = append(out, sgFacts{id: id, name: aws.ToString(g.GroupName), vpc: aws.ToString(g.VpcId), tags: tagMap(g.Tags)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	for i := range out {
		g := &out[i]
		p := ec2.NewDescribeNetworkInterfacesPaginator(c.EC2, &ec2.DescribeNetworkInterfacesInput{
			Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{g.id}}},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("listing the network interfaces using %s: %w", g.id, err)
			}
			for _, n := range page.NetworkInterfaces {
				g.enis = append(g.enis, eniOf(n))
			}
		}
		refs := map[string]bool{}
		for _, filter := range []string{"ip-permission.group-id", "egress.ip-permission.group-id"} {
			p := ec2.NewDescribeSecurityGroupsPaginator(c.EC2, &ec2.DescribeSecurityGroupsInput{
				Filters: []ec2types.Filter{{Name: aws.String(filter), Values: []string{g.id}}},
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("listing the security groups whose rules refer to %s: %w", g.id, err)
				}
				for _, r := range page.SecurityGroups {
					if id := aws.ToString(r.GroupId); id != g.id {
						refs[id] = true
					}
				}
			}
		}
		for id := range refs {
			g.referencedBy = append(g.referencedBy, id)
		}
		sort.Strings(g.referencedBy)
	}
	return out, nil
}

// DeleteLeftover deletes one leftover. One that is already gone is success;
// a refusal because something still uses it wraps ErrInUse.
func (c *Clients) DeleteLeftover(ctx context.Context, l Leftover) error {
	var err error
	switch l.Kind {
	case KindLoadBalancer:
		_, err = c.ELBv2().DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(l.ARN)})
	case KindTargetGroup:
		_, err = c.ELBv2().DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(l.ARN)})
	case KindEIP:
		_, err = c.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: aws.String(l.ID)})
	case KindENI:
		_, err = c.EC2.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(l.ID)})
	case KindSecurityGroup:
		_, err = c.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(l.ID)})
	default:
		return fmt.Errorf("deleting %s %s: unknown kind", l.Kind, l.ID)
	}
	switch {
	case err == nil, isNotFound(err):
		return nil
	case isInUse(err):
		return fmt.Errorf("deleting %s %s: %w: %w", l.Kind, l.ID, ErrInUse, err)
	}
	return fmt.Errorf("deleting %s %s: %w", l.Kind, l.ID, err)
}

func isNotFound(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	// InvalidGroup.NotFound, InvalidNetworkInterfaceID.NotFound,
	// InvalidAllocationID.NotFound, LoadBalancerNotFound, TargetGroupNotFound.
	return strings.HasSuffix(apiErr.ErrorCode(), "NotFound")
}

func isInUse(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "DependencyViolation", "ResourceInUse", "InvalidNetworkInterface.InUse", "InvalidIPAddress.InUse":
		return true
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// clusterVPC is the VPC eksctl made for a cluster (its
// alpha.eksctl.io/cluster-name tag), or "" when there is none (deleted with
// the cluster) or more than one.
func (c *Clients) clusterVPC(ctx context.Context, cluster string) (string, error) {
	out, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + TagEksctlCluster), Values: []string{cluster}},
	}})
	if err != nil {
		return "", fmt.Errorf("looking up the VPC of cluster %s: %w", cluster, err)
	}
	if len(out.Vpcs) != 1 {
		return "", nil
	}
	return aws.ToString(out.Vpcs[0].VpcId), nil
}
