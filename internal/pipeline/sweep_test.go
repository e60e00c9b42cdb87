package pipeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/cloud"
)

// TestClassify: the rules that decide what the sweep may delete, and in
// which order.
func TestClassify(t *testing.T) {
	t.Parallel()
	o := cloud.Owner{Cluster: "c1", Environment: "staging", Application: "sovd", VPCID: "vpc-1"}
	ctrl := map[string]string{cloud.TagELBv2Cluster: "c1"}
	owned := map[string]string{"kubernetes.io/cluster/c1": "owned"}
	shared := map[string]string{"kubernetes.io/cluster/c1": "shared"}
	env := map[string]string{"Environment": "staging", "ManagedBy": "bootstrap", "Application": "sovd"}
	nat := map[string]string{cloud.TagEksctlCluster: "c1", "Environment": "staging", "ManagedBy": "bootstrap", "Application": "sovd"}
	lbARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/k8s-web/abc"
	keptLBARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/legacy/def"

	lbs := []cloud.TaggedLB{
		{Kind: cloud.KindLoadBalancer, Name: "k8s-web", ARN: lbARN, Tags: ctrl, SecurityGroups: []string{"sg-lb"}},
		{Kind: cloud.KindTargetGroup, Name: "k8s-web-80", ARN: "arn:tg/1", Tags: ctrl},
		{Kind: cloud.KindLoadBalancer, Name: "legacy", ARN: keptLBARN, Tags: owned, SecurityGroups: []string{"sg-legacy"}},
		{Kind: cloud.KindTargetGroup, Name: "shared-tg", ARN: "arn:tg/2", Tags: map[string]string{cloud.TagELBv2Cluster: "c1", "kubernetes.io/cluster/c1": "shared"}},
	}
	sgLBs := map[string][]cloud.TaggedLB{"sg-lb": {lbs[0]}, "sg-legacy": {lbs[2]}}
	enis := []cloud.ENIFacts{
		{ID: "eni-free", VPC: "vpc-1", Status: "available", Tags: owned, Groups: []string{"sg-node"}},
		{ID: "eni-busy", VPC: "vpc-1", Status: "in-use", Instance: "i-1", Tags: owned, Groups: []string{"sg-busy"}},
		{ID: "eni-svc", VPC: "vpc-1", Status: "in-use", RequesterManaged: true, Description: "ELB app/k8s-web/abc", Tags: owned},
	}
	eips := []cloud.EIPFacts{
		{Allocation: "eipalloc-free", PublicIP: "1.2.3.4", Tags: nat},
		{Allocation: "eipalloc-env", PublicIP: "9.9.9.9", Tags: env},
		{Allocation: "eipalloc-nat", PublicIP: "5.6.7.8", Association: "eipassoc-1", ENI: "eni-nat", Tags: nat},
	}
	sgs := []cloud.SGFacts{
		// Used by the free ENI only, which goes first.
		{ID: "sg-node", VPC: "vpc-1", Name: "node", Tags: owned, ENIs: enis[:1]},
		// Used by an attached ENI.
		{ID: "sg-busy", VPC: "vpc-1", Name: "busy", Tags: owned, ENIs: enis[1:2]},
		// The controller's group of a load balancer that goes, and the
		// load balancer's own interface.
		{ID: "sg-lb", VPC: "vpc-1", Name: "k8s-web", Tags: ctrl, ENIs: []cloud.ENIFacts{{ID: "eni-elb", VPC: "vpc-1", Status: "in-use", RequesterManaged: true, Description: "ELB app/k8s-web/abc"}}},
		// Used by a load balancer that stays.
		{ID: "sg-legacy", VPC: "vpc-1", Name: "legacy", Tags: owned},
		// Referred to by sg-busy, which stays.
		{ID: "sg-refd-by-kept", VPC: "vpc-1", Name: "refd", Tags: owned, ReferencedBy: []string{"sg-busy"}},
		// sg-a refers to sg-b: a goes first, then b (names in reverse).
		{ID: "sg-b", VPC: "vpc-1", Name: "b", Tags: ctrl, ReferencedBy: []string{"sg-a", "sg-b"}},
		{ID: "sg-a", VPC: "vpc-1", Name: "a", Tags: ctrl},
		// A cycle.
		{ID: "sg-x", VPC: "vpc-1", Name: "x", Tags: owned, ReferencedBy: []string{"sg-y"}},
		{ID: "sg-y", VPC: "vpc-1", Name: "y", Tags: owned, ReferencedBy: []string{"sg-x"}},
		{ID: "sg-shared", VPC: "vpc-1", Name: "shared", Tags: shared},
	}
	got := classify(cloud.Tagged{Owner: o, LBs: lbs, ENIs: enis, EIPs: eips, SGs: sgs, SGLBs: sgLBs})
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

// TestSweepOwnership: the rule that keeps the sweep to this environment's
// resources in the cluster's VPC.
func TestSweepOwnership(t *testing.T) {
	t.Parallel()
	o := cloud.Owner{Cluster: "c1", Environment: "staging", Application: "sovd", VPCID: "vpc-1"}
	env := map[string]string{"Environment": "staging", "Application": "sovd", "ManagedBy": "bootstrap"}
	otherApp := map[string]string{"Environment": "staging", "Application": "billing", "ManagedBy": "bootstrap"}
	noApp := map[string]string{"Environment": "staging", "ManagedBy": "bootstrap"}
	cni := map[string]string{cloud.TagCNICluster: "c1"}
	for _, c := range []struct {
		name string
		kind cloud.Kind
		tags map[string]string
		vpc  string
		o    cloud.Owner
		want string // "" sweeps; else the start of the reason kept
	}{
		{"env group in the VPC", cloud.KindSecurityGroup, env, "vpc-1", o, ""},
		{"env interface in the VPC", cloud.KindENI, env, "vpc-1", o, ""},
		{"cluster interface in the VPC", cloud.KindENI, cni, "vpc-1", o, ""},
		{"another application's group", cloud.KindSecurityGroup, otherApp, "vpc-1", o, "not this environment's (Application=billing, want sovd)"},
		{"another application's interface", cloud.KindENI, otherApp, "vpc-1", o, "not this environment's (Application=billing, want sovd)"},
		{"another application's address", cloud.KindEIP, otherApp, "", o, "not this environment's (Application=billing, want sovd)"},
		{"no Application", cloud.KindSecurityGroup, noApp, "vpc-1", o, "not this environment's (Application missing)"},
		{"env group in another VPC", cloud.KindSecurityGroup, env, "vpc-2", o, "in vpc-2, not the cluster's VPC vpc-1"},
		{"cluster interface in another VPC", cloud.KindENI, cni, "vpc-2", o, "in vpc-2, not the cluster's VPC vpc-1"},
		{"VPC unknown", cloud.KindENI, env, "vpc-1", cloud.Owner{Cluster: "c1", Environment: "staging", Application: "sovd"}, "the cluster's VPC is not known"},
		{"env address", cloud.KindEIP, env, "", o, "tagged for the environment but for no cluster"},
		{"eksctl's address", cloud.KindEIP, map[string]string{cloud.TagEksctlCluster: "c1"}, "", o, ""},
	} {
		got := sweepOwnership(c.o, c.kind, c.tags, c.vpc)
		if (c.want == "") != (got == "") || !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
