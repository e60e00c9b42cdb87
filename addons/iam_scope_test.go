package addons

import (
	"path"
	"testing"
)

// request is one API call as IAM evaluates it: the action, the resource's
// ARN and the condition keys of the request (resource and request tags,
// service keys).
type request struct {
	action, resource string
	keys             map[string]string
}

// allowed evaluates an identity policy the way IAM does for the condition
// operators the controller's policy uses (StringEquals, Null): some Allow
// statement whose action and resource match and whose every condition
// holds. No statement of the policy denies.
func allowed(t *testing.T, doc map[string]any, r request) bool {
	t.Helper()
	for _, s := range doc["Statement"].([]any) {
		st := s.(map[string]any)
		if st["Effect"] != "Allow" || !matchAny(st["Action"], r.action) || !matchAny(st["Resource"], r.resource) {
			continue
		}
		if conditionsHold(t, st["Condition"], r.keys) {
			return true
		}
	}
	return false
}

func matchAny(v any, s string) bool {
	var pats []string
	switch x := v.(type) {
	case string:
		pats = []string{x}
	case []any:
		for _, p := range x {
			pats = append(pats, p.(string))
		}
	}
	for _, p := range pats {
		if ok, _ := path.Match(p, s); ok || p == "*" || p == s {
			return true
		}
	}
	return false
}

func conditionsHold(t *testing.T, c any, keys map[string]string) bool {
	t.Helper()
	cond, _ := c.(map[string]any)
	for op, kv := range cond {
		for k, want := range kv.(map[string]any) {
			got, present := keys[k]
			switch op {
			case "StringEquals":
				if !present || !matchAny(anyList(want), got) {
					return false
				}
			case "Null":
				if (want == "true") == present {
					return false
				}
			default:
				t.Fatalf("condition operator %s not evaluated by this test", op)
			}
		}
	}
	return true
}

func anyList(v any) any {
	if s, ok := v.(string); ok {
		return []any{s}
	}
	return v
}

// Every mutating call the controller makes for an Ingress (the actions of
// the pinned policy, upstream's docs/install/iam_policy.json, that change a
// security group, load balancer or target group) is allowed on this
// cluster's resources and, where upstream conditions it on the cluster tag
// at all, denied on another cluster's.
func TestScopedLoadBalancerControllerPolicy(t *testing.T) {
	t.Parallel()
	const mine, theirs = "sovd-staging-cluster", "sovd-production-cluster"
	doc, err := ScopedLoadBalancerControllerPolicy(mine)
	if err != nil {
		t.Fatal(err)
	}
	const (
		sg   = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123456789abcdef0"
		lb   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/k8s-app/0123456789abcdef"
		tg   = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-app/0123456789abcdef"
		star = "*"
	)
	res := func(cluster string) map[string]string {
		return map[string]string{"aws:ResourceTag/" + TagELBv2Cluster: cluster}
	}
	req := func(cluster string, extra ...string) map[string]string {
		m := map[string]string{"aws:RequestTag/" + TagELBv2Cluster: cluster}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	nodeSG := func(cluster string) map[string]string {
		return map[string]string{"aws:ResourceTag/kubernetes.io/cluster/" + cluster: "owned"}
	}
	tests := []struct {
		name        string
		action, arn string
		mineKeys    map[string]string
		theirKeys   map[string]string // nil: upstream does not scope this call by cluster
	}{
		{"create the LB security group", "ec2:CreateSecurityGroup", star, req(mine), nil},
		{"tag it at creation", "ec2:CreateTags", sg, req(mine, "ec2:CreateAction", "CreateSecurityGroup"), req(theirs, "ec2:CreateAction", "CreateSecurityGroup")},
		{"open the LB security group", "ec2:AuthorizeSecurityGroupIngress", sg, res(mine), res(theirs)},
		{"let the LB reach the nodes", "ec2:AuthorizeSecurityGroupIngress", sg, nodeSG(mine), nodeSG(theirs)},
		{"close the nodes' rule", "ec2:RevokeSecurityGroupIngress", sg, nodeSG(mine), nodeSG(theirs)},
		{"delete the LB security group", "ec2:DeleteSecurityGroup", sg, res(mine), res(theirs)},
		{"create the load balancer", "elasticloadbalancing:CreateLoadBalancer", star, req(mine), req(theirs)},
		{"create the target group", "elasticloadbalancing:CreateTargetGroup", star, req(mine), req(theirs)},
		{"tag at creation", "elasticloadbalancing:AddTags", lb, req(mine, "elasticloadbalancing:CreateAction", "CreateLoadBalancer"), req(theirs, "elasticloadbalancing:CreateAction", "CreateLoadBalancer")},
		{"retag (not the cluster tag)", "elasticloadbalancing:AddTags", tg, res(mine), res(theirs)},
		{"listeners", "elasticloadbalancing:CreateListener", lb, res(mine), nil},
		{"rules", "elasticloadbalancing:CreateRule", star, res(mine), nil},
		{"attributes", "elasticloadbalancing:ModifyLoadBalancerAttributes", lb, res(mine), res(theirs)},
		{"security groups of the LB", "elasticloadbalancing:SetSecurityGroups", lb, res(mine), res(theirs)},
		{"target group settings", "elasticloadbalancing:ModifyTargetGroup", tg, res(mine), res(theirs)},
		{"target group attributes", "elasticloadbalancing:ModifyTargetGroupAttributes", tg, res(mine), res(theirs)},
		{"register pods", "elasticloadbalancing:RegisterTargets", tg, res(mine), res(theirs)},
		{"deregister pods", "elasticloadbalancing:DeregisterTargets", tg, res(mine), res(theirs)},
		{"modify listener", "elasticloadbalancing:ModifyListener", star, res(mine), nil},
		{"delete the load balancer", "elasticloadbalancing:DeleteLoadBalancer", lb, res(mine), res(theirs)},
		{"delete the target group", "elasticloadbalancing:DeleteTargetGroup", tg, res(mine), res(theirs)},
	}
	for _, tt := range tests {
		if !allowed(t, doc, request{tt.action, tt.arn, tt.mineKeys}) {
			t.Errorf("%s: %s on this cluster's resource is denied", tt.name, tt.action)
		}
		if tt.theirKeys != nil && allowed(t, doc, request{tt.action, tt.arn, tt.theirKeys}) {
			t.Errorf("%s: %s on another cluster's resource is allowed", tt.name, tt.action)
		}
	}
	// Untagged security groups (another VPC's, the databases') are out of reach.
	if allowed(t, doc, request{"ec2:AuthorizeSecurityGroupIngress", sg, map[string]string{}}) {
		t.Error("ingress rules on an untagged security group are allowed")
	}
	// Nor are target groups the controller did not make (untagged).
	if allowed(t, doc, request{"elasticloadbalancing:DeregisterTargets", tg, map[string]string{}}) {
		t.Error("deregistering targets of an untagged target group is allowed")
	}
	// The unscoped upstream policy would have allowed it: the test can fail.
	up, _ := LoadBalancerControllerPolicy()
	if !allowed(t, up, request{"ec2:AuthorizeSecurityGroupIngress", sg, nodeSG(theirs)}) ||
		!allowed(t, up, request{"elasticloadbalancing:DeleteLoadBalancer", lb, res(theirs)}) ||
		!allowed(t, up, request{"elasticloadbalancing:DeregisterTargets", tg, res(theirs)}) {
		t.Error("the evaluator does not see what the upstream policy allows")
	}
}
