package cloud

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/sovd/bootstrap/internal/testenv"
)

func TestOwnerMatched(t *testing.T) {
	t.Parallel()
	o := Owner{Cluster: "c1", Environment: "staging", Application: "sovd"}
	tests := []struct {
		name string
		tags map[string]string
		want string // TagString of the match; "" is no match
	}{
		{"kubernetes owned", map[string]string{"kubernetes.io/cluster/c1": "owned", "x": "y"}, "kubernetes.io/cluster/c1=owned"},
		{"kubernetes shared", map[string]string{"kubernetes.io/cluster/c1": "shared"}, "kubernetes.io/cluster/c1=shared"},
		{"controller", map[string]string{TagELBv2Cluster: "c1"}, TagELBv2Cluster + "=c1"},
		{"controller, other cluster", map[string]string{TagELBv2Cluster: "c2"}, ""},
		{"eksctl", map[string]string{TagEksctlCluster: "c1"}, TagEksctlCluster + "=c1"},
		{"vpc cni", map[string]string{TagCNICluster: "c1"}, TagCNICluster + "=c1"},
		{"bootstrap", map[string]string{"Environment": "staging", "ManagedBy": "bootstrap", "Application": "sovd"}, "Environment=staging,ManagedBy=bootstrap"},
		{"bootstrap, other environment", map[string]string{"Environment": "production", "ManagedBy": "bootstrap"}, ""},
		{"Environment alone", map[string]string{"Environment": "staging"}, ""},
		{"other cluster's kubernetes tag", map[string]string{"kubernetes.io/cluster/c10": "owned"}, ""},
	}
	for _, tt := range tests {
		got := Leftover{Tags: o.Matched(tt.tags)}.TagString()
		if got != tt.want {
			t.Errorf("%s: matched %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestClassify: the rules that decide what the sweep may delete, and in
// which order.
func TestClassify(t *testing.T) {
	t.Parallel()
	o := Owner{Cluster: "c1", Environment: "staging", Application: "sovd", VPCID: "vpc-1"}
	ctrl := map[string]string{TagELBv2Cluster: "c1"}
	owned := map[string]string{"kubernetes.io/cluster/c1": "owned"}
	shared := map[string]string{"kubernetes.io/cluster/c1": "shared"}
	env := map[string]string{"Environment": "staging", "ManagedBy": "bootstrap", "Application": "sovd"}
	nat := map[string]string{TagEksctlCluster: "c1", "Environment": "staging", "ManagedBy": "bootstrap", "Application": "sovd"}
	lbARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/k8s-web/abc"
	keptLBARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/legacy/def"

	lbs := []taggedLB{
		{kind: KindLoadBalancer, name: "k8s-web", arn: lbARN, tags: ctrl, securityGroups: []string{"sg-lb"}},
		{kind: KindTargetGroup, name: "k8s-web-80", arn: "arn:tg/1", tags: ctrl},
		{kind: KindLoadBalancer, name: "legacy", arn: keptLBARN, tags: owned, securityGroups: []string{"sg-legacy"}},
		{kind: KindTargetGroup, name: "shared-tg", arn: "arn:tg/2", tags: map[string]string{TagELBv2Cluster: "c1", "kubernetes.io/cluster/c1": "shared"}},
	}
	sgLBs := map[string][]taggedLB{"sg-lb": {lbs[0]}, "sg-legacy": {lbs[2]}}
	enis := []eniFacts{
		{id: "eni-free", vpc: "vpc-1", status: "available", tags: owned, groups: []string{"sg-node"}},
		{id: "eni-busy", vpc: "vpc-1", status: "in-use", instance: "i-1", tags: owned, groups: []string{"sg-busy"}},
		{id: "eni-svc", vpc: "vpc-1", status: "in-use", requesterManaged: true, description: "ELB app/k8s-web/abc", tags: owned},
	}
	eips := []eipFacts{
		{allocation: "eipalloc-free", publicIP: "1.2.3.4", tags: nat},
		{allocation: "eipalloc-env", publicIP: "9.9.9.9", tags: env},
		{allocation: "eipalloc-nat", publicIP: "5.6.7.8", association: "eipassoc-1", eni: "eni-nat", tags: nat},
	}
	sgs := []sgFacts{
		// Used by the free ENI only, which goes first.
		{id: "sg-node", vpc: "vpc-1", name: "node", tags: owned, enis: enis[:1]},
		// Used by an attached ENI.
		{id: "sg-busy", vpc: "vpc-1", name: "busy", tags: owned, enis: enis[1:2]},
		// The controller's group of a load balancer that goes, and the
		// load balancer's own interface.
		{id: "sg-lb", vpc: "vpc-1", name: "k8s-web", tags: ctrl, enis: []eniFacts{{id: "eni-elb", vpc: "vpc-1", status: "in-use", requesterManaged: true, description: "ELB app/k8s-web/abc"}}},
		// Used by a load balancer that stays.
		{id: "sg-legacy", vpc: "vpc-1", name: "legacy", tags: owned},
		// Referred to by sg-busy, which stays.
		{id: "sg-refd-by-kept", vpc: "vpc-1", name: "refd", tags: owned, referencedBy: []string{"sg-busy"}},
		// sg-a refers to sg-b: a goes first, then b (names in reverse).
		{id: "sg-b", vpc: "vpc-1", name: "b", tags: ctrl, referencedBy: []string{"sg-a", "sg-b"}},
		{id: "sg-a", vpc: "vpc-1", name: "a", tags: ctrl},
		// A cycle.
		{id: "sg-x", vpc: "vpc-1", name: "x", tags: owned, referencedBy: []string{"sg-y"}},
		{id: "sg-y", vpc: "vpc-1", name: "y", tags: owned, referencedBy: []string{"sg-x"}},
		{id: "sg-shared", vpc: "vpc-1", name: "shared", tags: shared},
	}
	got := classify(o, lbs, enis, eips, sgs, sgLBs)
	var lines []string
	for _, l := range got {
		verdict := "keep"
		if l.Safe {
			verdict = "delete"
		}
		lines = append(lines, fmt.Sprintf("%s %s %s: %s", l.Kind, l.ID, verdict, l.Why))
	}
	want := []string{
		"load balancer k8s-web delete: made by the load balancer controller for this cluster",
		"load balancer legacy keep: not made by the load balancer controller for this cluster: check what made it, then delete it by hand",
		"target group k8s-web-80 delete: made by the load balancer controller for this cluster",
		"target group shared-tg keep: tagged kubernetes.io/cluster/c1=shared: other clusters may use it",
		"elastic IP eipalloc-env keep: tagged for the environment but for no cluster: its tags cannot tie an address to the cluster's VPC; release it by hand if it is this environment's",
		"elastic IP eipalloc-free delete: unassociated (1.2.3.4)",
		"elastic IP eipalloc-nat keep: associated with eni-nat (5.6.7.8)",
		"network interface eni-busy keep: in use (in-use, attached to i-1)",
		"network interface eni-free delete: unattached",
		"network interface eni-svc keep: managed by an AWS service (ELB app/k8s-web/abc): it goes with what made it",
		"security group sg-a delete: not used by anything that stays (a)",
		"security group sg-lb delete: not used by anything that stays (k8s-web)",
		"security group sg-node delete: not used by anything that stays (node)",
		"security group sg-b delete: not used by anything that stays (b)",
		"security group sg-busy keep: used by eni-busy (in-use, attached to i-1)",
		"security group sg-legacy keep: used by load balancer legacy",
		"security group sg-refd-by-kept keep: referred to by the rules of sg-busy",
		"security group sg-shared keep: tagged kubernetes.io/cluster/c1=shared: other clusters may use it",
		"security group sg-x keep: in a cycle of rules referring to each other (sg-y): remove the rules, then delete it by hand",
		"security group sg-y keep: in a cycle of rules referring to each other (sg-x): remove the rules, then delete it by hand",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("classify:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestLeftoversAgainstMoto builds leftovers of two clusters in moto and
// checks what FindLeftovers reads of one of them, and that deleting what it
// calls safe leaves exactly what it kept.
func TestLeftoversAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := New(ctx, testenv.MotoRegion)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, c)
	vpc, subnets := f.vpc("10.20.0.0/16")

	ctrl := map[string]string{TagELBv2Cluster: "c1"}
	cni := map[string]string{TagCNICluster: "c1"}
	env := map[string]string{"Environment": "staging", "ManagedBy": "bootstrap", "Application": "sovd"}
	nat := map[string]string{TagEksctlCluster: "c1"}
	other := map[string]string{TagELBv2Cluster: "c2", "kubernetes.io/cluster/c2": "owned"}

	sgLB := f.sg(vpc, "k8s-web", ctrl)
	lb := f.lb("k8s-web", subnets, []string{sgLB}, ctrl)
	tg := f.tg("k8s-web-80", vpc, ctrl)
	f.listener(lb, tg)
	sgBackend := f.sg(vpc, "k8s-traffic", ctrl)
	sgNode := f.sg(vpc, "node", map[string]string{"kubernetes.io/cluster/c1": "owned"})
	f.allowFrom(sgNode, sgBackend) // node refers to backend: node goes first
	freeENI := f.eni(subnets[0], []string{sgNode}, cni)
	sgBusy := f.sg(vpc, "busy", env)
	busyENI := f.eni(subnets[0], []string{sgBusy}, cni)
	f.attach(busyENI, subnets[0])
	freeEIP := f.eip(nat)
	usedEIP := f.eip(env)
	f.associate(usedEIP, busyENI)
	// The VPC's default group, tagged: never a leftover.
	def, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(def.SecurityGroups) != 1 {
		t.Fatalf("default group of %s: %v", vpc, err)
	}
	f.tag(aws.ToString(def.SecurityGroups[0].GroupId), map[string]string{"kubernetes.io/cluster/c1": "owned"})
	// Another cluster's: never touched.
	otherLB := f.lb("k8s-other", subnets, nil, other)
	otherSG := f.sg(vpc, "other", other)
	otherENI := f.eni(subnets[1], nil, map[string]string{TagCNICluster: "c2"})

	o := Owner{Cluster: "c1", Environment: "staging", Application: "sovd", VPCID: vpc}
	found, err := c.FindLeftovers(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	var order []string
	for _, l := range found {
		got[l.ID] = l.Safe
		order = append(order, l.ID)
	}
	want := map[string]bool{
		"k8s-web": true, "k8s-web-80": true, sgLB: true, sgBackend: true, sgNode: true, freeENI: true, freeEIP: true,
		sgBusy: false, busyENI: false, usedEIP: false,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("found (id: safe) %v\nwant %v", got, want)
	}
	if indexOf(order, sgNode) > indexOf(order, sgBackend) {
		t.Errorf("order %v deletes %s before %s, whose rules refer to it", order, sgBackend, sgNode)
	}

	lbs, err := c.ClusterLoadBalancers(ctx, "c1")
	if err != nil || len(lbs) != 2 || lbs[0].ID != "k8s-web" || lbs[1].ID != "k8s-web-80" {
		t.Errorf("ClusterLoadBalancers = %+v, %v", lbs, err)
	}

	for _, l := range found {
		if !l.Safe {
			continue
		}
		if err := c.DeleteLeftover(ctx, l); err != nil {
			t.Errorf("%v", err)
		}
		// Already gone is success.
		if err := c.DeleteLeftover(ctx, l); err != nil {
			t.Errorf("deleting again: %v", err)
		}
	}
	again, err := c.FindLeftovers(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, l := range again {
		left = append(left, l.ID)
		if l.Safe {
			t.Errorf("after the sweep %s %s is still called safe", l.Kind, l.ID)
		}
	}
	if strings.Join(left, " ") != strings.Join([]string{usedEIP, busyENI, sgBusy}, " ") {
		t.Errorf("left %v, want the kept EIP, ENI and group", left)
	}
	// The other cluster's are all there.
	if lbs, err := c.ClusterLoadBalancers(ctx, "c2"); err != nil || len(lbs) != 1 || lbs[0].ARN != otherLB {
		t.Errorf("cluster c2's load balancers: %+v, %v", lbs, err)
	}
	if _, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{otherSG}}); err != nil {
		t.Errorf("cluster c2's security group: %v", err)
	}
	if _, err := c.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{otherENI}}); err != nil {
		t.Errorf("cluster c2's network interface: %v", err)
	}
}

// TestDeleteLeftoverInUse: a refusal because something holds the resource
// is ErrInUse, so callers can wait for it to go.
func TestDeleteLeftoverInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := New(ctx, testenv.MotoRegion)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, c)
	vpc, subnets := f.vpc("10.30.0.0/16")
	lb := f.lb("k8s-held", subnets, nil, nil)
	tg := f.tg("k8s-held-80", vpc, nil)
	f.listener(lb, tg)
	err = c.DeleteLeftover(ctx, Leftover{Kind: KindTargetGroup, ID: "k8s-held-80", ARN: tg})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("deleting a target group a listener uses: %v, want ErrInUse", err)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// fixture makes AWS resources in moto for the sweep tests.
type fixture struct {
	t   *testing.T
	ctx context.Context
	c   *Clients
	n   int
}

func newFixture(t *testing.T, c *Clients) *fixture {
	return &fixture{t: t, ctx: context.Background(), c: c}
}

func ec2Tags(rt ec2types.ResourceType, tags map[string]string) []ec2types.TagSpecification {
	if len(tags) == 0 {
		return nil
	}
	var ts []ec2types.Tag
	for k, v := range tags {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: ts}}
}

func (f *fixture) vpc(cidr string) (string, []string) {
	f.t.Helper()
	v, err := f.c.EC2.CreateVpc(f.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		f.t.Fatal(err)
	}
	vpc := aws.ToString(v.Vpc.VpcId)
	prefix := strings.TrimSuffix(cidr, ".0.0/16")
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		s, err := f.c.EC2.CreateSubnet(f.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc),
			CidrBlock: aws.String(fmt.Sprintf("%s.%d.0/24", prefix, i+1)), AvailabilityZone: aws.String(az)})
		if err != nil {
			f.t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	return vpc, subnets
}

func (f *fixture) sg(vpc, name string, tags map[string]string) string {
	f.t.Helper()
	g, err := f.c.EC2.CreateSecurityGroup(f.ctx, &ec2.CreateSecurityGroupInput{VpcId: aws.String(vpc), GroupName: aws.String(name),
		Description: aws.String(name), TagSpecifications: ec2Tags(ec2types.ResourceTypeSecurityGroup, tags)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(g.GroupId)
}

// allowFrom lets from's members reach group on port 80: group's rules
// refer to from.
func (f *fixture) allowFrom(group, from string) {
	f.t.Helper()
	_, err := f.c.EC2.AuthorizeSecurityGroupIngress(f.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(from)}}}}})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) tag(id string, tags map[string]string) {
	f.t.Helper()
	var ts []ec2types.Tag
	for k, v := range tags {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := f.c.EC2.CreateTags(f.ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: ts}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) eni(subnet string, groups []string, tags map[string]string) string {
	f.t.Helper()
	n, err := f.c.EC2.CreateNetworkInterface(f.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), Groups: groups,
		TagSpecifications: ec2Tags(ec2types.ResourceTypeNetworkInterface, tags)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(n.NetworkInterface.NetworkInterfaceId)
}

// attach attaches an ENI to a new instance.
func (f *fixture) attach(eni, subnet string) {
	f.t.Helper()
	r, err := f.c.EC2.RunInstances(f.ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(subnet)})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.c.EC2.AttachNetworkInterface(f.ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(eni),
		InstanceId: r.Instances[0].InstanceId, DeviceIndex: aws.Int32(1)}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) eip(tags map[string]string) string {
	f.t.Helper()
	a, err := f.c.EC2.AllocateAddress(f.ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc,
		TagSpecifications: ec2Tags(ec2types.ResourceTypeElasticIp, tags)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(a.AllocationId)
}

func (f *fixture) associate(eip, eni string) {
	f.t.Helper()
	if _, err := f.c.EC2.AssociateAddress(f.ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(eip), NetworkInterfaceId: aws.String(eni)}); err != nil {
		f.t.Fatal(err)
	}
}

func elbTags(tags map[string]string) []elbv2types.Tag {
	var ts []elbv2types.Tag
	for k, v := range tags {
		ts = append(ts, elbv2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return ts
}

func (f *fixture) lb(name string, subnets, groups []string, tags map[string]string) string {
	f.t.Helper()
	out, err := f.c.ELBv2().CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Subnets: subnets,
		SecurityGroups: groups, Tags: elbTags(tags)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
}

func (f *fixture) tg(name, vpc string, tags map[string]string) string {
	f.t.Helper()
	out, err := f.c.ELBv2().CreateTargetGroup(f.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String(vpc), TargetType: elbv2types.TargetTypeEnumIp, Tags: elbTags(tags)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

func (f *fixture) listener(lb, tg string) {
	f.t.Helper()
	if _, err := f.c.ELBv2().CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lb), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(80), DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}}); err != nil {
		f.t.Fatal(err)
	}
}

// TestSweepOwnership: the rule that keeps the sweep to this environment's
// resources in the cluster's VPC.
func TestSweepOwnership(t *testing.T) {
	t.Parallel()
	o := Owner{Cluster: "c1", Environment: "staging", Application: "sovd", VPCID: "vpc-1"}
	env := map[string]string{"Environment": "staging", "Application": "sovd", "ManagedBy": "bootstrap"}
	otherApp := map[string]string{"Environment": "staging", "Application": "billing", "ManagedBy": "bootstrap"}
	noApp := map[string]string{"Environment": "staging", "ManagedBy": "bootstrap"}
	cni := map[string]string{TagCNICluster: "c1"}
	for _, c := range []struct {
		name string
		kind Kind
		tags map[string]string
		vpc  string
		o    Owner
		want string // "" sweeps; else the start of the reason kept
	}{
		{"env group in the VPC", KindSecurityGroup, env, "vpc-1", o, ""},
		{"env interface in the VPC", KindENI, env, "vpc-1", o, ""},
		{"cluster interface in the VPC", KindENI, cni, "vpc-1", o, ""},
		{"another application's group", KindSecurityGroup, otherApp, "vpc-1", o, "not this environment's (Application=billing, want sovd)"},
		{"another application's interface", KindENI, otherApp, "vpc-1", o, "not this environment's (Application=billing, want sovd)"},
		{"another application's address", KindEIP, otherApp, "", o, "not this environment's (Application=billing, want sovd)"},
		{"no Application", KindSecurityGroup, noApp, "vpc-1", o, "not this environment's (Application missing)"},
		{"env group in another VPC", KindSecurityGroup, env, "vpc-2", o, "in vpc-2, not the cluster's VPC vpc-1"},
		{"cluster interface in another VPC", KindENI, cni, "vpc-2", o, "in vpc-2, not the cluster's VPC vpc-1"},
		{"VPC unknown", KindENI, env, "vpc-1", Owner{Cluster: "c1", Environment: "staging", Application: "sovd"}, "the cluster's VPC is not known"},
		{"env address", KindEIP, env, "", o, "tagged for the environment but for no cluster"},
		{"eksctl's address", KindEIP, map[string]string{TagEksctlCluster: "c1"}, "", o, ""},
	} {
		got := sweepOwnership(c.o, c.kind, c.tags, c.vpc)
		if (c.want == "") != (got == "") || !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestSweepKeepsDecoysAgainstMoto: a security group, an available network
// interface and an elastic IP tagged Environment=staging,
// ManagedBy=bootstrap but Application=billing, and a group and interface
// with all three of staging's tags in another VPC: the sweep keeps every
// one and says why; what is staging's in the cluster's VPC goes.
func TestSweepKeepsDecoysAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := New(ctx, testenv.MotoRegion)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, c)
	vpc, subnets := f.vpc("10.30.0.0/16")
	otherVPC, otherSubnets := f.vpc("10.31.0.0/16")
	env := map[string]string{"Environment": "staging", "Application": "sovd", "ManagedBy": "bootstrap"}
	billing := map[string]string{"Environment": "staging", "Application": "billing", "ManagedBy": "bootstrap"}

	mine := f.sg(vpc, "mine", env)
	mineENI := f.eni(subnets[0], []string{mine}, env)
	decoySG := f.sg(vpc, "billing", billing)
	decoyENI := f.eni(subnets[0], []string{decoySG}, billing)
	decoyEIP := f.eip(billing)
	farSG := f.sg(otherVPC, "far", env)
	farENI := f.eni(otherSubnets[0], []string{farSG}, env)

	o := Owner{Cluster: "c9", Environment: "staging", Application: "sovd", VPCID: vpc}
	found, err := c.FindLeftovers(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for _, l := range found {
		if l.Safe {
			why[l.ID] = "delete"
		} else {
			why[l.ID] = l.Why
		}
	}
	want := map[string]string{
		mine: "delete", mineENI: "delete",
		decoySG:  "not this environment's (Application=billing, want sovd)",
		decoyENI: "not this environment's (Application=billing, want sovd)",
		decoyEIP: "not this environment's (Application=billing, want sovd)",
		farSG:    "in " + otherVPC + ", not the cluster's VPC " + vpc,
		farENI:   "in " + otherVPC + ", not the cluster's VPC " + vpc,
	}
	for id, w := range want {
		if why[id] != w {
			t.Errorf("%s: %q, want %q", id, why[id], w)
		}
	}
	for _, l := range found {
		if l.Safe {
			if err := c.DeleteLeftover(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The decoys are all still there.
	if out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{decoySG, farSG}}); err != nil || len(out.SecurityGroups) != 2 {
		t.Errorf("decoy groups: %v", err)
	}
	if out, err := c.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{decoyENI, farENI}}); err != nil || len(out.NetworkInterfaces) != 2 {
		t.Errorf("decoy interfaces: %v", err)
	}
	if out, err := c.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{decoyEIP}}); err != nil || len(out.Addresses) != 1 {
		t.Errorf("decoy address: %v", err)
	}
}
