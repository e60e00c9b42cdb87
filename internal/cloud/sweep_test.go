package cloud_test

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

	. "github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/pipeline"
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

// TestLeftoversAgainstMoto builds leftovers of two clusters in moto and
// checks what FindTagged reads of one of them, as the sweep judges it,, and that deleting what it
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
	found, err := findLeftovers(ctx, c, o)
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
	again, err := findLeftovers(ctx, c, o)
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

// findLeftovers is what teardown's sweep finds: what FindTagged reads,
// judged by the pipeline's policy.
func findLeftovers(ctx context.Context, c *Clients, o Owner) ([]Leftover, error) {
	tagged, err := c.FindTagged(ctx, o)
	if err != nil {
		return nil, err
	}
	return pipeline.ClassifyLeftovers(tagged), nil
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
	found, err := findLeftovers(ctx, c, o)
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
