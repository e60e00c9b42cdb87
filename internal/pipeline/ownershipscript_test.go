package pipeline

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
)

// TestOwnershipScriptAgreesWithGo runs the runbook's ownership jq and
// mismatches (findForeign's rule) on the same tags of a cluster and of an
// IRSA role: both find the same number of problems, none for the
// environment's own objects.
func TestOwnershipScriptAgreesWithGo(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("no jq")
	}
	p := config.Builtin("staging")
	own := envOwnership(p)
	cluster := p.Cluster.Name
	with := func(kv ...string) map[string]string { return tagsWith(own, kv...) }
	cases := map[string]map[string]string{
		"ours":                   with(),
		"ours, eksctl's tag":     with(cloud.TagEksctlCluster, cluster),
		"another cluster's":      with(cloud.TagEksctlCluster, "sovd-production-cluster"),
		"other environment":      with("Environment", "production"),
		"other application":      with("Application", "other"),
		"not bootstrap's":        with("ManagedBy", "terraform"),
		"no environment":         with("Environment", "-"),
		"untagged":               {},
		"nothing but eksctl's":   {cloud.TagEksctlCluster: cluster},
		"case differs":           with("Environment", "Staging"),
		"everything wrong":       {"Environment": "production", "Application": "x", "ManagedBy": "y", cloud.TagEksctlCluster: "z"},
		"extra tags are no harm": with("Team", "platform", "Name", cluster),
	}
	args := append(ownershipJQArgs(own, cluster), "--arg", "eks", "yes", ownershipJQ)
	for name, tags := range cases {
		for _, kind := range []cloud.Kind{cloud.KindCluster, cloud.KindRole} {
			in, _ := json.Marshal(tags)
			cmd := exec.Command("jq", args...)
			cmd.Stdin = strings.NewReader(string(in))
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: jq: %v", name, err)
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if l != "" {
					got = append(got, l)
				}
			}
			want := mismatches(cloud.Found{Kind: kind, Name: cluster, Tags: tags}, own, cluster)
			if len(got) != len(want) {
				t.Errorf("%s (%s): the script finds %d problems %q, bootstrap %d %q", name, kind, len(got), got, len(want), want)
			}
		}
	}
	// A cluster without tags at all prints "null".
	cmd := exec.Command("jq", args...)
	cmd.Stdin = strings.NewReader("null")
	if out, err := cmd.Output(); err != nil || strings.Count(strings.TrimSpace(string(out)), "\n")+1 != len(own) {
		t.Errorf("no tags: %q, %v; want a problem per wanted tag", out, err)
	}
}
