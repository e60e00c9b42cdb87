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
// this environment's is another's and is kept (internal/pipeline's sweep policy).
type Owner struct {
	Cluster     string
	Environment string
	Application string
	// VPCID is the cluster's VPC; FindTagged looks it up by eksctl's tag
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
		// say why such a resource is kept; the pipeline's policy decides.
		q = append(q, tagQuery{{key: TagEnvironment, values: []string{o.Environment}}, {key: TagManagedBy, values: []string{ManagedByBootstrap}}})
	}
	return q
}

// byCluster reports whether the tags tie a resource to this cluster (its
// Kubernetes, load balancer controller, eksctl or VPC CNI tag).
func (o Owner) ByCluster(tags map[string]string) bool {
	for _, q := range o.queries()[:4] {
		if q.matches(tags) {
			return true
		}
	}
	return false
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

// TaggedLB is a load balancer or target group with its tags.
// TaggedLB is a load balancer or target group with its tags.
type TaggedLB struct {
	Kind           Kind
	Name, ARN      string
	Tags           map[string]string
	SecurityGroups []string
}

// elbv2Resources lists every load balancer and target group of the region
// with its tags (ELBv2 has no server-side tag filter).
func (c *Clients) elbv2Resources(ctx context.Context) ([]TaggedLB, error) {
	cl := c.ELBv2()
	var out []TaggedLB
	lbs := elbv2.NewDescribeLoadBalancersPaginator(cl, &elbv2.DescribeLoadBalancersInput{})
	for lbs.HasMorePages() {
		page, err := lbs.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing load balancers in %s: %w", c.Region, err)
		}
		for _, lb := range page.LoadBalancers {
			out = append(out, TaggedLB{Kind: KindLoadBalancer, Name: aws.ToString(lb.LoadBalancerName),
				ARN: aws.ToString(lb.LoadBalancerArn), SecurityGroups: lb.SecurityGroups})
		}
	}
	tgs := elbv2.NewDescribeTargetGroupsPaginator(cl, &elbv2.DescribeTargetGroupsInput{})
	for tgs.HasMorePages() {
		page, err := tgs.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing target groups in %s: %w", c.Region, err)
		}
		for _, tg := range page.TargetGroups {
			out = append(out, TaggedLB{Kind: KindTargetGroup, Name: aws.ToString(tg.TargetGroupName), ARN: aws.ToString(tg.TargetGroupArn)})
		}
	}
	// DescribeTags takes at most 20 ARNs.
	byARN := map[string]*TaggedLB{}
	for i := range out {
		byARN[out[i].ARN] = &out[i]
	}
	for start := 0; start < len(out); start += 20 {
		end := min(start+20, len(out))
		arns := make([]string, 0, end-start)
		for _, r := range out[start:end] {
			arns = append(arns, r.ARN)
		}
		res, err := cl.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
		if err != nil {
			if isNotFound(err) {
				// One went while we looked: read them one by one.
				for _, arn := range arns {
					one, err := cl.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{arn}})
					if err != nil {
						if isNotFound(err) {
							byARN[arn].ARN = "" // gone
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
		if r.ARN != "" {
			live = append(live, r)
		}
	}
	return live, nil
}

func setELBTags(byARN map[string]*TaggedLB, descs []elbv2types.TagDescription) {
	for _, d := range descs {
		r := byARN[aws.ToString(d.ResourceArn)]
		if r == nil {
			continue
		}
		r.Tags = map[string]string{}
		for _, t := range d.Tags {
			r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
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
		if r.Tags[TagELBv2Cluster] != cluster {
			continue
		}
		out = append(out, Leftover{Kind: r.Kind, ID: r.Name, ARN: r.ARN, Tags: map[string]string{TagELBv2Cluster: cluster},
			Safe: true, Why: "made by the load balancer controller for this cluster"})
	}
	SortLeftovers(out)
	return out, nil
}

// ENIFacts is what decides whether a network interface can go, and whether
// it holds a security group.
type ENIFacts struct {
	ID, Status, Description, Instance string
	RequesterManaged                  bool
	Groups                            []string
	Tags                              map[string]string
	VPC                               string
}

// SGFacts is what decides whether a security group can go.
type SGFacts struct {
	ID, Name, VPC string
	Tags          map[string]string
	// ENIs use it; ReferencedBy are the other groups whose rules name it.
	ENIs         []ENIFacts
	ReferencedBy []string
}

// EIPFacts is what decides whether an elastic IP can be released.
type EIPFacts struct {
	Allocation, PublicIP, Association, ENI, Instance string
	Tags                                             map[string]string
}

// Tagged is what FindTagged read: everything still tagged for the owner,
// with what decides whether it may go. Deciding is the caller's
// (internal/pipeline's sweep policy); nothing here judges.
type Tagged struct {
	// Owner is the owner looked for, its VPC filled in when it was empty.
	Owner Owner
	// LBs are the load balancers and target groups tagged for the owner.
	LBs  []TaggedLB
	ENIs []ENIFacts
	EIPs []EIPFacts
	// SGs are the security groups tagged for the owner (never a VPC's
	// default group); SGLBs are the region's load balancers, tagged or
	// not, by the security group they use.
	SGs   []SGFacts
	SGLBs map[string][]TaggedLB
}

// FindTagged reads what is still tagged for the owner in the region: ELBv2
// load balancers and target groups, network interfaces, security groups and
// elastic IPs, with the facts a sweep decides on (attachments, users of each
// group, rules referring to it). When o.VPCID is empty the cluster's VPC is
// looked up by eksctl's tag. Changes nothing.
func (c *Clients) FindTagged(ctx context.Context, o Owner) (Tagged, error) {
	if o.VPCID == "" {
		vpc, err := c.clusterVPC(ctx, o.Cluster)
		if err != nil {
			return Tagged{}, err
		}
		o.VPCID = vpc
	}
	lbs, err := c.elbv2Resources(ctx)
	if err != nil {
		return Tagged{}, err
	}
	var owned []TaggedLB
	for _, r := range lbs {
		if o.Matched(r.Tags) != nil {
			owned = append(owned, r)
		}
	}
	enis, err := c.taggedENIs(ctx, o)
	if err != nil {
		return Tagged{}, err
	}
	eips, err := c.taggedEIPs(ctx, o)
	if err != nil {
		return Tagged{}, err
	}
	sgs, err := c.taggedSGs(ctx, o)
	if err != nil {
		return Tagged{}, err
	}
	// Load balancers of the region hold security groups too, tagged or not.
	sgUsers := map[string][]TaggedLB{}
	for _, r := range lbs {
		for _, g := range r.SecurityGroups {
			sgUsers[g] = append(sgUsers[g], r)
		}
	}
	return Tagged{Owner: o, LBs: owned, ENIs: enis, EIPs: eips, SGs: sgs, SGLBs: sgUsers}, nil
}

// SortLeftovers orders leftovers as they are deleted: by Kind (kindOrder),
// then by ID; security groups keep the order they come in.
func SortLeftovers(ls []Leftover) {
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

func (c *Clients) taggedENIs(ctx context.Context, o Owner) ([]ENIFacts, error) {
	seen := map[string]bool{}
	var out []ENIFacts
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

func eniOf(n ec2types.NetworkInterface) ENIFacts {
	e := ENIFacts{
		ID: aws.ToString(n.NetworkInterfaceId), Status: string(n.Status), Description: aws.ToString(n.Description),
		RequesterManaged: aws.ToBool(n.RequesterManaged), Tags: tagMap(n.TagSet), VPC: aws.ToString(n.VpcId),
	}
	if n.Attachment != nil {
		e.Instance = aws.ToString(n.Attachment.InstanceId)
	}
	for _, g := range n.Groups {
		e.Groups = append(e.Groups, aws.ToString(g.GroupId))
	}
	return e
}

func (c *Clients) taggedEIPs(ctx context.Context, o Owner) ([]EIPFacts, error) {
	seen := map[string]bool{}
	var out []EIPFacts
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
			out = append(out, EIPFacts{
				Allocation: id, PublicIP: aws.ToString(a.PublicIp), Association: aws.ToString(a.AssociationId),
				ENI: aws.ToString(a.NetworkInterfaceId), Instance: aws.ToString(a.InstanceId), Tags: tagMap(a.Tags),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Allocation < out[j].Allocation })
	return out, nil
}

func (c *Clients) taggedSGs(ctx context.Context, o Owner) ([]SGFacts, error) {
	seen := map[string]bool{}
	var out []SGFacts
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
				out = append(out, SGFacts{ID: id, Name: aws.ToString(g.GroupName), VPC: aws.ToString(g.VpcId), Tags: tagMap(g.Tags)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	for i := range out {
		g := &out[i]
		p := ec2.NewDescribeNetworkInterfacesPaginator(c.EC2, &ec2.DescribeNetworkInterfacesInput{
			Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{g.ID}}},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("listing the network interfaces using %s: %w", g.ID, err)
			}
			for _, n := range page.NetworkInterfaces {
				g.ENIs = append(g.ENIs, eniOf(n))
			}
		}
		refs := map[string]bool{}
		for _, filter := range []string{"ip-permission.group-id", "egress.ip-permission.group-id"} {
			p := ec2.NewDescribeSecurityGroupsPaginator(c.EC2, &ec2.DescribeSecurityGroupsInput{
				Filters: []ec2types.Filter{{Name: aws.String(filter), Values: []string{g.ID}}},
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("listing the security groups whose rules refer to %s: %w", g.ID, err)
				}
				for _, r := range page.SecurityGroups {
					if id := aws.ToString(r.GroupId); id != g.ID {
						refs[id] = true
					}
				}
			}
		}
		for id := range refs {
			g.ReferencedBy = append(g.ReferencedBy, id)
		}
		sort.Strings(g.ReferencedBy)
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
