package pipeline

import (
	"cmp"
	"sort"
	"strings"

	"github.com/sovd/bootstrap/internal/cloud"
)

// The teardown sweep's policy: of what is still tagged for the cluster or
// the environment once eksctl has deleted the cluster (cloud.FindTagged
// reads it), what bootstrap may delete, what it keeps and why, and in which
// order (SweepLeftovers deletes it). The load balancer controller, the VPC
// CNI and eksctl each tag what they make for a cluster; bootstrap's own
// tags mark what it (or Terraform) made for an environment. What is tagged
// but may still be in use, or may be another's, is reported, never deleted.

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
func sweepOwnership(o cloud.Owner, kind cloud.Kind, tags map[string]string, vpc string) string {
	if !o.ByCluster(tags) {
		want := cloud.EnvironmentOwnership(o.Application, o.Environment)
		if m := want.Mismatches(tags); len(m) > 0 {
			return "not this environment's (" + strings.Join(m, "; ") + ")"
		}
		if kind == cloud.KindEIP {
			return "tagged for the environment but for no cluster: its tags cannot tie an address to the cluster's VPC; release it by hand if it is this environment's"
		}
	}
	if kind == cloud.KindENI || kind == cloud.KindSecurityGroup {
		switch {
		case o.VPCID == "":
			return "the cluster's VPC is not known: only what is in it is swept"
		case vpc != o.VPCID:
			return "in " + cmp.Or(vpc, "no VPC") + ", not the cluster's VPC " + o.VPCID
		}
	}
	return ""
}

// ClassifyLeftovers is the sweep's verdict on what FindTagged read (the
// cloud package's tests judge moto's answers with it).
func ClassifyLeftovers(t cloud.Tagged) []cloud.Leftover { return classify(t) }

// classify decides, from what cloud.FindTagged read, what the sweep may
// delete and in which order. Pure: the rules are tested without AWS.
func classify(t cloud.Tagged) []cloud.Leftover {
	o, lbs, enis, eips, sgs, sgLBs := t.Owner, t.LBs, t.ENIs, t.EIPs, t.SGs, t.SGLBs
	var out []cloud.Leftover
	goingLB := map[string]bool{} // "app/name/id" of load balancers to delete
	for _, r := range lbs {
		l := cloud.Leftover{Kind: r.Kind, ID: r.Name, ARN: r.ARN, Tags: o.Matched(r.Tags)}
		switch {
		case o.Shared(r.Tags):
			l.Why = "tagged " + o.KubernetesTag() + "=shared: other clusters may use it"
		case r.Tags[cloud.TagELBv2Cluster] == o.Cluster:
			l.Safe, l.Why = true, "made by the load balancer controller for this cluster"
			if r.Kind == cloud.KindLoadBalancer {
				goingLB[lbSuffix(r.ARN)] = true
			}
		default:
			l.Why = "not made by the load balancer controller for this cluster: check what made it, then delete it by hand"
		}
		out = append(out, l)
	}
	goingENI := map[string]bool{}
	for _, e := range enis {
		l := cloud.Leftover{Kind: cloud.KindENI, ID: e.ID, Tags: o.Matched(e.Tags)}
		why := sweepOwnership(o, cloud.KindENI, e.Tags, e.VPC)
		switch {
		case why != "":
			l.Why = why
		case o.Shared(e.Tags):
			l.Why = "tagged " + o.KubernetesTag() + "=shared: other clusters may use it"
		case e.RequesterManaged:
			l.Why = "managed by an AWS service (" + e.Description + "): it goes with what made it"
		case e.Status != "available":
			l.Why = "in use (" + e.Status + attachedTo(e) + ")"
		default:
			l.Safe, l.Why = true, "unattached"
			goingENI[e.ID] = true
		}
		out = append(out, l)
	}
	for _, a := range eips {
		l := cloud.Leftover{Kind: cloud.KindEIP, ID: a.Allocation, Tags: o.Matched(a.Tags)}
		why := sweepOwnership(o, cloud.KindEIP, a.Tags, "")
		switch {
		case why != "":
			l.Why = why
		case o.Shared(a.Tags):
			l.Why = "tagged " + o.KubernetesTag() + "=shared: other clusters may use it"
		case a.Association != "" || a.ENI != "" || a.Instance != "":
			l.Why = "associated with " + cmp.Or(a.Instance, a.ENI, a.Association) + " (" + a.PublicIP + ")"
		default:
			l.Safe, l.Why = true, "unassociated ("+a.PublicIP+")"
		}
		out = append(out, l)
	}
	out = append(out, classifySGs(o, sgs, sgLBs, goingLB, goingENI)...)
	cloud.SortLeftovers(out)
	return out
}

// classifySGs keeps a security group that anything staying behind uses or
// refers to, and orders the others so that a group is deleted after every
// group whose rules refer to it (AWS refuses otherwise).
func classifySGs(o cloud.Owner, sgs []cloud.SGFacts, sgLBs map[string][]cloud.TaggedLB, goingLB, goingENI map[string]bool) []cloud.Leftover {
	why := map[string]string{}
	safe := map[string]bool{}
	for _, g := range sgs {
		if w := sgNotOurs(o, g); w != "" {
			why[g.ID] = w
			continue
		}
		if reason := sgHeld(g, sgLBs[g.ID], goingLB, goingENI); reason != "" {
			why[g.ID] = reason
			continue
		}
		safe[g.ID] = true
	}
	// A group referred to by a group that stays, stays.
	for changed := true; changed; {
		changed = false
		for _, g := range sgs {
			if !safe[g.ID] {
				continue
			}
			for _, r := range g.ReferencedBy {
				if r != g.ID && !safe[r] {
					safe[g.ID] = false
					why[g.ID] = "referred to by the rules of " + r
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
			if !safe[g.ID] || done[g.ID] {
				continue
			}
			ready := true
			for _, r := range g.ReferencedBy {
				if r != g.ID && safe[r] && !done[r] {
					ready = false
					break
				}
			}
			if ready {
				next = append(next, g.ID)
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
		if safe[g.ID] && !done[g.ID] {
			safe[g.ID] = false
			why[g.ID] = "in a cycle of rules referring to each other (" + strings.Join(g.ReferencedBy, ", ") + "): remove the rules, then delete it by hand"
		}
	}
	rank := map[string]int{}
	for i, id := range ordered {
		rank[id] = i
	}
	var out []cloud.Leftover
	for _, g := range sgs {
		l := cloud.Leftover{Kind: cloud.KindSecurityGroup, ID: g.ID, Tags: o.Matched(g.Tags), Safe: safe[g.ID], Why: why[g.ID]}
		if l.Safe {
			l.Why = "not used by anything that stays (" + g.Name + ")"
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
func sgNotOurs(o cloud.Owner, g cloud.SGFacts) string {
	if w := sweepOwnership(o, cloud.KindSecurityGroup, g.Tags, g.VPC); w != "" {
		return w
	}
	if o.Shared(g.Tags) {
		return "tagged " + o.KubernetesTag() + "=shared: other clusters may use it"
	}
	return ""
}

// sgHeld says what keeps a group in use, or "" when nothing that stays does.
func sgHeld(g cloud.SGFacts, lbs []cloud.TaggedLB, goingLB, goingENI map[string]bool) string {
	for _, lb := range lbs {
		if !goingLB[lbSuffix(lb.ARN)] {
			return "used by load balancer " + lb.Name
		}
	}
	for _, e := range g.ENIs {
		if goingENI[e.ID] {
			continue
		}
		// A load balancer's own interfaces go with it.
		if d, ok := strings.CutPrefix(e.Description, "ELB "); ok && e.RequesterManaged && goingLB[d] {
			continue
		}
		return "used by " + e.ID + " (" + e.Status + attachedTo(e) + ")"
	}
	return ""
}

// lbSuffix is app/<name>/<id> (or net/...) of a load balancer's ARN, which
// is how its network interfaces' descriptions name it ("ELB app/...").
func lbSuffix(arn string) string {
	_, s, _ := strings.Cut(arn, ":loadbalancer/")
	return s
}

func attachedTo(e cloud.ENIFacts) string {
	if e.Instance != "" {
		return ", attached to " + e.Instance
	}
	if e.Description != "" {
		return ", " + e.Description
	}
	return ""
}
