package addons

import "strings"

// TagELBv2Cluster is the tag the load balancer controller puts on every load
// balancer, target group and security group it makes, valued with its
// --cluster-name.
const TagELBv2Cluster = "elbv2.k8s.aws/cluster"

// ScopedLoadBalancerControllerPolicy is the pinned policy
// (LoadBalancerControllerPolicy) narrowed to one cluster, so that one
// environment's controller cannot change another's load balancers or
// security groups in the same account:
//
//   - every condition that upstream writes as "the resource (or request)
//     carries an elbv2.k8s.aws/cluster tag, whatever its value" (Null false)
//     becomes "carries it with this cluster's name" (StringEquals). The
//     controller tags what it makes with its own cluster name, so this
//     narrows nothing it does for its cluster.
//
//   - the one statement upstream grants on every security group
//     (ec2:Authorize/RevokeSecurityGroupIngress on *, for the rules it adds
//     to the nodes' group so the load balancer reaches the pods) is limited
//     to groups tagged kubernetes.io/cluster/<cluster>: EKS tags the
//     cluster security group so, and the controller itself picks the node
//     group it changes by that tag.
//
//   - target registration (elasticloadbalancing:Register/DeregisterTargets,
//     upstream on every target group) is limited to target groups tagged
//     elbv2.k8s.aws/cluster=<cluster>. The controller makes every target
//     group of an Ingress with that tag (CreateTargetGroup is allowed only
//     with it), and upstream already conditions ModifyTargetGroup and
//     DeleteTargetGroup on it. Upstream dropped the condition from
//     registration (kubernetes-sigs/aws-load-balancer-controller pull
//     request #1618) for TargetGroupBindings to target groups made outside
//     the controller, which bootstrap's app does not use: such a binding
//     needs the tag on its target group.
//
// Statements upstream leaves without a tag condition (listeners and rules,
// describes) are kept as they are: which listeners and rules carry the
// cluster tag cannot be confirmed here.
func ScopedLoadBalancerControllerPolicy(cluster string) (map[string]any, error) {
	doc, err := LoadBalancerControllerPolicy()
	if err != nil {
		return nil, err
	}
	stmts, _ := doc["Statement"].([]any)
	for _, s := range stmts {
		st, ok := s.(map[string]any)
		if !ok {
			continue
		}
		cond, _ := st["Condition"].(map[string]any)
		if cond == nil && isIngressRuleStatement(st) {
			st["Condition"] = map[string]any{
				"Null": map[string]any{"aws:ResourceTag/kubernetes.io/cluster/" + cluster: "false"},
			}
			continue
		}
		if cond == nil && isRegistrationStatement(st) {
			st["Condition"] = map[string]any{
				"StringEquals": map[string]any{"aws:ResourceTag/" + TagELBv2Cluster: cluster},
			}
			continue
		}
		null, _ := cond["Null"].(map[string]any)
		for _, key := range []string{"aws:ResourceTag/" + TagELBv2Cluster, "aws:RequestTag/" + TagELBv2Cluster} {
			if null[key] != "false" {
				continue
			}
			delete(null, key)
			eq, _ := cond["StringEquals"].(map[string]any)
			if eq == nil {
				eq = map[string]any{}
				cond["StringEquals"] = eq
			}
			eq[key] = cluster
		}
		if null != nil && len(null) == 0 {
			delete(cond, "Null")
		}
	}
	return doc, nil
}

// isIngressRuleStatement is upstream's unconditioned grant of security
// group ingress changes on every group.
func isIngressRuleStatement(st map[string]any) bool {
	acts, _ := st["Action"].([]any)
	if st["Resource"] != "*" || len(acts) != 2 {
		return false
	}
	for _, a := range acts {
		s, _ := a.(string)
		if !strings.HasPrefix(s, "ec2:") || !strings.HasSuffix(s, "SecurityGroupIngress") {
			return false
		}
	}
	return true
}

// isRegistrationStatement is upstream's unconditioned grant of target
// registration on every target group.
func isRegistrationStatement(st map[string]any) bool {
	acts, _ := st["Action"].([]any)
	if st["Resource"] != "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*" || len(acts) != 2 {
		return false
	}
	for _, a := range acts {
		if a != "elasticloadbalancing:RegisterTargets" && a != "elasticloadbalancing:DeregisterTargets" {
			return false
		}
	}
	return true
}
