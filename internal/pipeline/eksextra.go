package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/cloud"
)

// What eksctl 0.230.0 and EKS make beside what bootstrap asks for, and what
// bootstrap does about it: an EKS add-on that a Helm release replaces (made
// by eksctl's defaults on a cluster created before bootstrap turned them
// off) is deleted before the release is installed; the control-plane log
// group EKS makes is claimed with the environment's tags while the cluster
// proves it is ours, and deleted after the cluster, which eksctl never
// does; an IRSA role whose policy differs from the file is updated, which
// `eksctl create iamserviceaccount` never does.

// EKSExtraAPI is what these steps read and change in AWS; *cloud.Clients is
// the real one.
type EKSExtraAPI interface {
	AddonFacts(ctx context.Context, cluster, name string) (cloud.AddonFacts, error)
	ClusterTags(ctx context.Context, name string) (map[string]string, bool, error)
	LogGroupFacts(ctx context.Context, name string) (cloud.LogGroupFacts, error)
	TagLogGroup(ctx context.Context, arn string, tags map[string]string) error
	DeleteLogGroup(ctx context.Context, name string) error
}

// RemoveReplacedAddons deletes, with `eksctl delete addon`, each EKS add-on
// of the cluster whose software a Helm release of bootstrap installs
// (addons.Chart.EKSAddon: metrics-server), and waits until EKS has removed
// it with its Kubernetes objects, so that Helm can install the release.
// Such an add-on exists when eksctl made the cluster from a ClusterConfig
// without addonsConfig.disableDefaultAddons (bootstrap's before it said
// so). Deleting rather than adopting it: the user's design installs
// metrics-server with Helm at a pinned chart, and Helm cannot adopt objects
// whose managed-by is EKS. No add-on: nothing to do.
type RemoveReplacedAddons struct {
	AWS EKSExtraAPI
}

// Name implements Step.
func (RemoveReplacedAddons) Name() string { return "Removing EKS add-ons that Helm releases replace" }

// Run implements Step.
func (s RemoveReplacedAddons) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	for _, name := range addons.EKSAddonsReplaced() {
		a, err := api.AddonFacts(ctx, p.Cluster.Name, name)
		if err != nil {
			return err
		}
		if !a.Exists {
			continue
		}
		if a.Status != "DELETING" {
			st.Progress.Info("cluster %s has the EKS add-on %s (%s, %s), which the Helm release replaces: deleting it", p.Cluster.Name, name, a.Version, a.Status)
			if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.DeleteAddon(p.Cluster.Name, name, p.Region))); err != nil {
				return fmt.Errorf("deleting EKS add-on %s: %w", name, err)
			}
		}
		err = poll(ctx, st.Poll, "EKS to delete add-on "+name, func(ctx context.Context) (bool, error) {
			a, err := api.AddonFacts(ctx, p.Cluster.Name, name)
			return !a.Exists, err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Describe implements Describer.
func (RemoveReplacedAddons) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	var actions []Action
	for _, name := range addons.EKSAddonsReplaced() {
		a := eksctlAction(eksctl.DeleteAddon(p.Cluster.Name, name, p.Region),
			"only when `aws eks describe-addon --cluster-name "+p.Cluster.Name+" --addon-name "+name+"` finds it (eksctl's default add-on, on a cluster made before bootstrap disabled them); then wait until it is gone")
		a.If = []string{"aws", "eks", "describe-addon", "--region", p.Region, "--cluster-name", p.Cluster.Name, "--addon-name", name, "--query", "addon.addonName", "--output", "text"}
		actions = append(actions, a)
	}
	return Description{Actions: actions}, nil
}

// logGroupTags are the tags bootstrap puts on the control-plane log group:
// the environment's, and the cluster's name under eksctl's cluster tag.
func logGroupTags(st *State) map[string]string {
	t := envOwnership(st.Profile)
	t[eksctl.ClusterNameTag] = st.Profile.Cluster.Name
	return t
}

// ClaimLogGroup tags the cluster's control-plane log group
// (/aws/eks/<cluster>/cluster) with the environment's tags and the cluster's
// name, so that teardown can prove it is this environment's after the
// cluster is gone. EKS makes the group untagged and eksctl never tags it;
// its name alone proves nothing. The claim is made only while the EKS
// cluster exists and carries the environment's tags (eksctl puts
// metadata.tags on it): the group of that cluster is then ours. A group
// tagged for another environment is an error; no cluster or no group (logging
// off) is nothing to do.
type ClaimLogGroup struct {
	AWS EKSExtraAPI
}

// Name implements Step.
func (ClaimLogGroup) Name() string { return "Tagging the control-plane log group" }

// Run implements Step.
func (s ClaimLogGroup) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	tags, exists, err := api.ClusterTags(ctx, p.Cluster.Name)
	if err != nil || !exists {
		return err
	}
	want := envOwnership(st.Profile)
	name := cloud.ControlPlaneLogGroup(p.Cluster.Name)
	if !cloud.Ownership(want).Owns(tags) {
		return fmt.Errorf("EKS cluster %s is not tagged for environment %s (it has %s; want %s): its log group %s is left alone",
			p.Cluster.Name, p.Name, cloud.TagsString(tags), cloud.TagsString(want), name)
	}
	lg, err := api.LogGroupFacts(ctx, name)
	if err != nil || !lg.Exists {
		return err
	}
	claim := logGroupTags(st)
	if cloud.Ownership(claim).Owns(lg.Tags) {
		return nil
	}
	for k, v := range claim {
		if have, ok := lg.Tags[k]; ok && have != v {
			return fmt.Errorf("log group %s of cluster %s is tagged %s=%s, not %s: another environment claimed it; fix its tags by hand",
				name, p.Cluster.Name, k, have, v)
		}
	}
	if err := api.TagLogGroup(ctx, lg.ARN, claim); err != nil {
		return err
	}
	st.Progress.Info("log group %s (retention %d days) tagged %s", name, lg.RetentionDays, cloud.TagsString(claim))
	return nil
}

// Describe implements Describer.
func (ClaimLogGroup) Describe(_ context.Context, st *State) (Description, error) {
	name := cloud.ControlPlaneLogGroup(st.Profile.Cluster.Name)
	return Description{Actions: []Action{{
		Tool: "aws",
		Args: []string{"logs", "tag-resource", "--region", st.Profile.Region, "--resource-arn", "arn:aws:logs:" + st.Profile.Region + ":<account-id>:log-group:" + name, "--tags", cloud.TagsString(logGroupTags(st))},
		Note: "when the log group exists and the EKS cluster carries the environment's tags: EKS makes the group untagged, and teardown deletes it only when its tags say it is this environment's",
		If:   []string{"aws", "logs", "describe-log-groups", "--region", st.Profile.Region, "--log-group-name-prefix", name, "--query", "logGroups[?logGroupName=='" + name + "'].logGroupName", "--output", "text"},
	}}}, nil
}

// DeleteLogGroup deletes the cluster's control-plane log group after eksctl
// has deleted the cluster (`eksctl delete cluster` never does, and the group
// goes on billing for what it stores), when its tags prove it is this
// environment's (ClaimLogGroup put them). A group without them is reported
// and left. Already gone is success.
type DeleteLogGroup struct {
	AWS EKSExtraAPI
}

// Name implements Step.
func (DeleteLogGroup) Name() string { return "Deleting the control-plane log group" }

// Run implements Step.
func (s DeleteLogGroup) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	name := cloud.ControlPlaneLogGroup(p.Cluster.Name)
	lg, err := api.LogGroupFacts(ctx, name)
	if err != nil {
		return err
	}
	if !lg.Exists {
		st.Progress.Info("log group %s is already gone", name)
		return nil
	}
	if !cloud.Ownership(logGroupTags(st)).Owns(lg.Tags) {
		st.Progress.Info("log group %s is not tagged for this environment (%s): left in place; if it is this cluster's, delete it with `aws logs delete-log-group --log-group-name %s`",
			name, cloud.TagsString(lg.Tags), name)
		return nil
	}
	return api.DeleteLogGroup(ctx, name)
}

// Describe implements Describer.
func (DeleteLogGroup) Describe(_ context.Context, st *State) (Description, error) {
	name := cloud.ControlPlaneLogGroup(st.Profile.Cluster.Name)
	return Description{Actions: []Action{{
		Tool: "aws",
		Args: []string{"logs", "delete-log-group", "--region", st.Profile.Region, "--log-group-name", name},
		Note: "after the cluster is gone, when the group carries " + cloud.TagsString(logGroupTags(st)) + " (eksctl delete cluster leaves it)",
		If:   []string{"aws", "logs", "list-tags-log-group", "--region", st.Profile.Region, "--log-group-name", name, "--query", tagsQuery(logGroupTags(st)), "--output", "text"},
	}}}, nil
}

// tagsQuery is a JMESPath expression, on an object of tags, that is true
// when it carries every tag given; the runbook's conditions use it.
func tagsQuery(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	terms := make([]string, len(keys))
	for i, k := range keys {
		terms[i] = "tags.\"" + k + "\" == '" + tags[k] + "'"
	}
	return strings.Join(terms, " && ")
}

// irsaPoliciesDiffer reports the IRSA roles whose inline policy differs from
// the rendered ClusterConfig's (eksctl names it <stack>-Policy1). A role that
// does not exist yet is not reported: create iamserviceaccount makes it.
func irsaPoliciesDiffer(ctx context.Context, api ClusterAPI, st *State) ([]string, error) {
	if err := zoneKnown(st); err != nil {
		return nil, err
	}
	cfg, err := RenderCluster(st.Profile, clusterLive(st))
	if err != nil {
		return nil, err
	}
	var differ []string
	for _, sa := range cfg.IAM.ServiceAccounts {
		docs, exists, err := api.RoleInlinePolicies(ctx, sa.RoleName)
		if err != nil {
			return nil, err
		}
		if !exists {
			continue
		}
		want, err := canonicalJSON(sa.AttachPolicy)
		if err != nil {
			return nil, err
		}
		name := eksctl.IAMServiceAccountStack(cfg.Metadata.Name, sa.Namespace, sa.Name) + "-Policy1"
		have, err := canonicalJSON(docs[name])
		if err != nil || have != want {
			differ = append(differ, sa.RoleName)
		}
	}
	return differ, nil
}

// canonicalJSON is a JSON value re-encoded with sorted keys; a string is
// parsed first.
func canonicalJSON(v any) (string, error) {
	if s, ok := v.(string); ok {
		if s == "" {
			return "", nil
		}
		var parsed any
		if err := json.Unmarshal([]byte(s), &parsed); err != nil {
			return "", err
		}
		v = parsed
	} else {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		var parsed any
		if err := json.Unmarshal(b, &parsed); err != nil {
			return "", err
		}
		v = parsed
	}
	b, err := json.Marshal(v)
	return string(b), err
}
