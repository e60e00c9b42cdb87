package pipeline

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/cloud"
)

// TestSweepScriptAgreesWithClassify runs the runbook's jq programs (what the
// teardown script deletes of the cluster's VPC) and classify on the same
// network interfaces and security groups: each object is listed by both or
// neither, and deleted (a group: tried) by both or kept by both.
func TestSweepScriptAgreesWithClassify(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("no jq")
	}
	o := cloud.Owner{Cluster: "c1", Environment: "staging", Application: "sovd", VPCID: "vpc-1"}
	env := map[string]string{"Environment": "staging", "Application": "sovd", "ManagedBy": "bootstrap"}
	with := tagsWith
	type obj struct {
		tags      map[string]string
		vpc       string
		status    string
		requester bool
	}
	cases := map[string]obj{
		"env-tags":          {tags: env, vpc: "vpc-1", status: "available"},
		"env-other-app":     {tags: with(env, "Application", "other"), vpc: "vpc-1", status: "available"},
		"env-other-env":     {tags: with(env, "Environment", "production"), vpc: "vpc-1", status: "available"},
		"env-no-app":        {tags: with(env, "Application", "-"), vpc: "vpc-1", status: "available"},
		"env-not-bootstrap": {tags: with(env, "ManagedBy", "terraform"), vpc: "vpc-1", status: "available"},
		"untagged":          {tags: map[string]string{}, vpc: "vpc-1", status: "available"},
		"name-only":         {tags: map[string]string{"Name": "c1-something"}, vpc: "vpc-1", status: "available"},
		"k8s-owned":         {tags: map[string]string{"kubernetes.io/cluster/c1": "owned"}, vpc: "vpc-1", status: "available"},
		"k8s-shared":        {tags: map[string]string{"kubernetes.io/cluster/c1": "shared"}, vpc: "vpc-1", status: "available"},
		"k8s-other-cluster": {tags: map[string]string{"kubernetes.io/cluster/c2": "owned"}, vpc: "vpc-1", status: "available"},
		"elbv2":             {tags: map[string]string{cloud.TagELBv2Cluster: "c1"}, vpc: "vpc-1", status: "available"},
		"elbv2-other":       {tags: map[string]string{cloud.TagELBv2Cluster: "c2"}, vpc: "vpc-1", status: "available"},
		"eksctl":            {tags: map[string]string{cloud.TagEksctlCluster: "c1"}, vpc: "vpc-1", status: "available"},
		"cni":               {tags: map[string]string{cloud.TagCNICluster: "c1"}, vpc: "vpc-1", status: "available"},
		"cni-other-vpc":     {tags: map[string]string{cloud.TagCNICluster: "c1"}, vpc: "vpc-2", status: "available"},
		"env-other-vpc":     {tags: env, vpc: "vpc-2", status: "available"},
		"cni-in-use":        {tags: map[string]string{cloud.TagCNICluster: "c1"}, vpc: "vpc-1", status: "in-use"},
		"cni-aws-managed":   {tags: map[string]string{cloud.TagCNICluster: "c1"}, vpc: "vpc-1", status: "available", requester: true},
	}
	tagSet := func(tags map[string]string) []map[string]string {
		out := []map[string]string{}
		for k, v := range tags {
			out = append(out, map[string]string{"Key": k, "Value": v})
		}
		return out
	}
	var tagged cloud.Tagged
	tagged.Owner = o
	var enisJSON, sgsJSON []map[string]any
	for id, c := range cases {
		e := cloud.ENIFacts{ID: "eni-" + id, Status: c.status, RequesterManaged: c.requester, Description: "d", Tags: c.tags, VPC: c.vpc}
		g := cloud.SGFacts{ID: "sg-" + id, Name: id, VPC: c.vpc, Tags: c.tags}
		if o.Matched(c.tags) != nil { // what FindTagged lists
			tagged.ENIs = append(tagged.ENIs, e)
			tagged.SGs = append(tagged.SGs, g)
		}
		enisJSON = append(enisJSON, map[string]any{"NetworkInterfaceId": e.ID, "Status": e.Status, "RequesterManaged": e.RequesterManaged,
			"Description": e.Description, "VpcId": e.VPC, "TagSet": tagSet(c.tags)})
		sgsJSON = append(sgsJSON, map[string]any{"GroupId": g.ID, "GroupName": g.Name, "VpcId": g.VPC, "Tags": tagSet(c.tags)})
	}
	// A VPC's default group is never listed.
	sgsJSON = append(sgsJSON, map[string]any{"GroupId": "sg-default", "GroupName": "default", "VpcId": "vpc-1", "Tags": tagSet(env)})

	want := map[string]string{}
	for _, l := range classify(tagged) {
		want[l.ID] = map[bool]string{true: "delete", false: "keep"}[l.Safe]
	}
	got := map[string]string{}
	run := func(program string, doc any) {
		in, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("jq", append(sweepJQArgs(o), "--arg", "vpc", o.VPCID, program)...)
		cmd.Stdin = strings.NewReader(string(in))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("jq: %v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Split(line, "\t")
			if len(f) != 3 || f[2] == "" {
				t.Fatalf("jq printed %q, want verdict<TAB>id<TAB>why", line)
			}
			got[f[1]] = f[0]
		}
	}
	run(eniSweepJQ, map[string]any{"NetworkInterfaces": enisJSON})
	run(sgSweepJQ, map[string]any{"SecurityGroups": sgsJSON})
	// 12 of the cases carry tags FindTagged lists; each is an interface and a group.
	if len(want) != 24 {
		t.Fatalf("classify listed %d objects, want 24: the table is not what it says", len(want))
	}
	for id := range keysOf(want, got) {
		if want[id] != got[id] {
			t.Errorf("%s: classify %q, the script %q", id, orNotListed(want[id]), orNotListed(got[id]))
		}
	}
	if want["eni-env-tags"] != "delete" || want["sg-k8s-shared"] != "keep" {
		t.Errorf("the table's anchors moved: %v", want)
	}
}

func keysOf(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

func orNotListed(s string) string {
	if s == "" {
		return "not listed"
	}
	return s
}

// tagsWith is base with the key-value pairs kv set ("-" deletes the key).
func tagsWith(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "-" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}
