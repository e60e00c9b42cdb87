package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// Teardown's first and last steps (docs/layout.md, "Teardown order"). First,
// while the load balancer controller still runs, every Ingress and every
// Service of type LoadBalancer is deleted, so that the controller deletes
// the load balancers and target groups it made for them; nothing else would,
// and a load balancer left in the VPC's subnets stops eksctl from deleting
// the VPC. Last, after eksctl has deleted the cluster, whatever is still
// tagged for the cluster or the environment is swept: what is safe to delete
// is deleted, the rest is reported.

// TeardownAPI is what those steps read and delete in AWS; *cloud.Clients is
// the real one.
type TeardownAPI interface {
	ClusterExists(ctx context.Context, name string) (bool, error)
	ClusterLoadBalancers(ctx context.Context, cluster string) ([]cloud.Leftover, error)
	FindTagged(ctx context.Context, o cloud.Owner) (cloud.Tagged, error)
	DeleteLeftover(ctx context.Context, l cloud.Leftover) error
}

// Defaults of the waits.
const (
	// DefaultLoadBalancerWait bounds the wait for the controller to delete
	// the load balancers.
	DefaultLoadBalancerWait = 10 * time.Minute
	// DefaultSettle bounds the retries of a delete refused because what held
	// the resource is still going (a deleted load balancer's network
	// interfaces hold its security groups for a few minutes).
	DefaultSettle = 5 * time.Minute
	defaultPoll   = 5 * time.Second
	progressEvery = 15 * time.Second
)

// DeleteLoadBalancers deletes every Ingress (all namespaces) and every
// Service of type LoadBalancer with kubectl while the load balancer
// controller still runs, then waits, bounded, until no load balancer or
// target group tagged elbv2.k8s.aws/cluster=<cluster> is left in AWS and the
// deleted objects are gone from the cluster (their finalizers are the
// controller's, or the cloud provider's for a Service it handles).
//
// Already gone is success. A cluster EKS no longer has (or whose API stops
// answering because EKS is deleting it) has no objects left to delete and no
// controller to delete load balancers: the step deletes what the controller
// left tagged for the cluster itself, then waits for it to go. A re-run
// finds nothing and returns at once.
type DeleteLoadBalancers struct {
	AWS TeardownAPI
	// Kubeconfig is the cluster's kubeconfig. "" means the run directory's
	// (.bootstrap/<env>/kubeconfig), written with eksctl when the cluster
	// exists; the tests give the local control plane's.
	Kubeconfig string
	// Wait bounds the wait; 0 means DefaultLoadBalancerWait.
	Wait time.Duration
	// Poll is how often AWS and the cluster are asked; 0 means 5 seconds.
	Poll time.Duration
	// Every is how often progress is reported while waiting; 0 means 15 s.
	Every time.Duration
}

// Name implements Step.
func (DeleteLoadBalancers) Name() string { return "Deleting Ingresses and LoadBalancer Services" }

func (s DeleteLoadBalancers) kubeconfig(st *State) string {
	if s.Kubeconfig != "" {
		return s.Kubeconfig
	}
	return st.Path(KubeconfigFile)
}

// Run implements Step.
func (s DeleteLoadBalancers) Run(ctx context.Context, st *State) error {
	name := st.Profile.Cluster.Name
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	exists, err := api.ClusterExists(ctx, name)
	if err != nil {
		return err
	}
	kc := ""
	if exists {
		kc = s.kubeconfig(st)
		if s.Kubeconfig == "" {
			if err := (WriteKubeconfig{}).Run(ctx, st); err != nil {
				return fmt.Errorf("writing the kubeconfig of cluster %s: %w", name, err)
			}
		}
		reachable, err := deleteLBObjects(ctx, st, api, kc)
		if err != nil {
			return err
		}
		if !reachable {
			kc = ""
		}
	}
	if kc == "" {
		st.Progress.Info("cluster %s is gone: no Ingress or Service to delete; deleting what its load balancer controller left, if anything", name)
	}
	return s.wait(ctx, st, api, kc)
}

// lbObject is an Ingress or a Service of type LoadBalancer.
type lbObject struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		Namespace         string   `json:"namespace"`
		Name              string   `json:"name"`
		DeletionTimestamp string   `json:"deletionTimestamp,omitempty"`
		Finalizers        []string `json:"finalizers,omitempty"`
	} `json:"metadata"`
	Spec struct {
		Type string `json:"type,omitempty"`
	} `json:"spec"`
}

func (o lbObject) String() string {
	s := o.Kind + " " + o.Metadata.Namespace + "/" + o.Metadata.Name
	if len(o.Metadata.Finalizers) > 0 {
		s += " (finalizers: " + strings.Join(o.Metadata.Finalizers, ", ") + ")"
	}
	return s
}

// parseLBObjects keeps the Ingresses and the Services of type LoadBalancer
// of a `kubectl get ingresses,services -o json` list, sorted.
func parseLBObjects(data []byte) ([]lbObject, error) {
	var list struct {
		Items []lbObject `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("reading kubectl's list of Ingresses and Services: %w", err)
	}
	var out []lbObject
	for _, o := range list.Items {
		if o.Kind == "Ingress" || (o.Kind == "Service" && o.Spec.Type == "LoadBalancer") {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Metadata.Namespace != b.Metadata.Namespace {
			return a.Metadata.Namespace < b.Metadata.Namespace
		}
		return a.Metadata.Name < b.Metadata.Name
	})
	return out, nil
}

// KubectlListLBObjects lists every Ingress and Service as JSON.
func KubectlListLBObjects(kubeconfig string) []string {
	return []string{"get", "ingresses,services", "--all-namespaces", "--output", "json", "--kubeconfig", kubeconfig}
}

// KubectlListLBServices lists the Services of type LoadBalancer as
// "<namespace> <name>" lines, for the runbook's loop (the field selector
// spec.type needs Kubernetes 1.31).
func KubectlListLBServices(kubeconfig string) []string {
	return []string{"get", "services", "--all-namespaces", "--output",
		`jsonpath={range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.namespace} {.metadata.name}{"\n"}{end}`,
		"--kubeconfig", kubeconfig}
}

// KubectlDeleteIngresses deletes every Ingress without waiting for the
// controller's finalizers: the step waits for them itself, reporting
// progress.
func KubectlDeleteIngresses(kubeconfig string) []string {
	return []string{"delete", "ingresses", "--all", "--all-namespaces", "--ignore-not-found", "--wait=false", "--kubeconfig", kubeconfig}
}

// KubectlDeleteServices deletes the named Services of one namespace.
func KubectlDeleteServices(namespace string, names []string, kubeconfig string) []string {
	args := []string{"delete", "services", "--namespace", namespace}
	args = append(args, names...)
	return append(args, "--ignore-not-found", "--wait=false", "--kubeconfig", kubeconfig)
}

func listLBObjects(ctx context.Context, st *State, kc string) ([]lbObject, error) {
	var out strings.Builder
	c := kubectlCmd(st, KubectlListLBObjects(kc))
	c.Stdout = &out
	if err := st.Runner.Run(ctx, c); err != nil {
		return nil, err
	}
	return parseLBObjects([]byte(out.String()))
}

// deleteLBObjects deletes the Ingresses and LoadBalancer Services. It
// reports the cluster unreachable (false, nil) when kubectl fails and EKS
// says the cluster has gone meanwhile.
func deleteLBObjects(ctx context.Context, st *State, api TeardownAPI, kc string) (reachable bool, err error) {
	name := st.Profile.Cluster.Name
	objs, err := listLBObjects(ctx, st, kc)
	if err != nil {
		if exists, cerr := api.ClusterExists(ctx, name); cerr == nil && !exists {
			return false, nil
		}
		return false, fmt.Errorf("listing the Ingresses and Services of cluster %s (check access with: kubectl --kubeconfig %s get namespaces): %w", name, kc, err)
	}
	services := map[string][]string{}
	ingresses := 0
	for _, o := range objs {
		if o.Kind == "Service" {
			services[o.Metadata.Namespace] = append(services[o.Metadata.Namespace], o.Metadata.Name)
		} else {
			ingresses++
		}
	}
	st.Progress.Info("deleting %s and %s", countNoun(ingresses, "Ingress"), countNoun(len(objs)-ingresses, "LoadBalancer Service"))
	if err := st.Runner.Run(ctx, kubectlCmd(st, KubectlDeleteIngresses(kc))); err != nil {
		return false, fmt.Errorf("deleting the Ingresses of cluster %s: %w", name, err)
	}
	namespaces := make([]string, 0, len(services))
	for ns := range services {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		if err := st.Runner.Run(ctx, kubectlCmd(st, KubectlDeleteServices(ns, services[ns], kc))); err != nil {
			return false, fmt.Errorf("deleting the LoadBalancer Services of namespace %s: %w", ns, err)
		}
	}
	return true, nil
}

// wait polls until nothing tagged for the cluster is left in AWS and, when
// the cluster is reachable (kc set), no deleted object is left in it. With
// the cluster gone it deletes what is left in AWS itself on every poll.
func (s DeleteLoadBalancers) wait(ctx context.Context, st *State, api TeardownAPI, kc string) error {
	name := st.Profile.Cluster.Name
	limit, poll, every := orDefault(s.Wait, DefaultLoadBalancerWait), orDefault(s.Poll, defaultPoll), orDefault(s.Every, progressEvery)
	start := time.Now()
	lastInfo := start
	var lastErr error
	for {
		lbs, err := api.ClusterLoadBalancers(ctx, name)
		if err != nil {
			return err
		}
		if kc == "" {
			lastErr = nil
			for _, l := range lbs {
				if err := api.DeleteLeftover(ctx, l); err != nil {
					if !errors.Is(err, cloud.ErrInUse) {
						return err
					}
					lastErr = err // a target group waits for its load balancer's listeners to go
				}
			}
		}
		var objs []lbObject
		if len(lbs) == 0 && kc != "" {
			if objs, err = listLBObjects(ctx, st, kc); err != nil {
				if exists, cerr := api.ClusterExists(ctx, name); cerr != nil || exists {
					return fmt.Errorf("listing what is left of the deleted Ingresses and Services: %w", err)
				}
				kc, objs = "", nil
			}
		}
		if len(lbs) == 0 && len(objs) == 0 {
			return nil
		}
		elapsed := time.Since(start)
		if elapsed >= limit {
			return s.timeoutError(st, limit, lbs, objs, kc, lastErr)
		}
		if time.Since(lastInfo) >= every {
			lastInfo = time.Now()
			st.Progress.Info("waiting for %s to go (%s of %s)", leftSummary(lbs, objs), elapsed.Round(time.Second), limit)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(min(poll, limit-elapsed)):
		}
	}
}

func (s DeleteLoadBalancers) timeoutError(st *State, limit time.Duration, lbs []cloud.Leftover, objs []lbObject, kc string, lastErr error) error {
	var left []string
	for _, l := range lbs {
		left = append(left, string(l.Kind)+" "+l.ID)
	}
	for _, o := range objs {
		left = append(left, o.String())
	}
	msg := fmt.Sprintf("after %s, still there: %s", limit, strings.Join(left, "; "))
	c := addons.LoadBalancerController
	if kc != "" {
		msg += fmt.Sprintf("; is the load balancer controller running? kubectl --kubeconfig %s --namespace %s logs deployment/%s", kc, c.Namespace, c.Release)
	} else if lastErr != nil {
		msg += fmt.Sprintf("; the cluster is gone and deleting them fails: %v", lastErr)
	}
	return errors.New(msg)
}

// leftSummary is "1 load balancer, 2 target groups, 1 Ingress".
func leftSummary(lbs []cloud.Leftover, objs []lbObject) string {
	counts := map[string]int{}
	var order []string
	add := func(k string) {
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	for _, l := range lbs {
		add(string(l.Kind))
	}
	for _, o := range objs {
		add(o.Kind)
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = countNoun(counts[k], k)
	}
	return strings.Join(parts, ", ")
}

// countNoun is "1 Ingress", "2 Ingresses".
func countNoun(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %s", n, plural(noun))
}

func plural(s string) string {
	switch s {
	case "Ingress":
		return "Ingresses"
	case "elastic IP":
		return "elastic IPs"
	}
	return s + "s"
}

// Describe implements Describer.
func (s DeleteLoadBalancers) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	kc := s.kubeconfig(st)
	var actions []Action
	if s.Kubeconfig == "" {
		actions = append(actions, eksctlAction(eksctl.WriteKubeconfig(p.Cluster.Name, p.Region, kc),
			"only while the cluster exists; once it is gone, nothing in it is left to delete: go to the check below"))
	}

	actions = append(actions,
		Action{Tool: "kubectl", Args: KubectlDeleteIngresses(kc),
			Note: "while the load balancer controller runs: it deletes each Ingress's load balancer and target groups"},
		Action{Tool: "kubectl", Args: KubectlDeleteServices("<namespace>", []string{"<name>"}, kc), Note: "for each Service of type LoadBalancer",
			Each:   append([]string{"kubectl"}, KubectlListLBServices(kc)...),
			EachOf: []string{"<namespace>", "<name>"}},
		Action{Tool: "aws", Args: TaggedLoadBalancersCheck(p.Cluster.Name, p.Region),
			Note: fmt.Sprintf("repeat until it prints [] (bootstrap waits up to %s); with the cluster gone nothing deletes them: aws elbv2 delete-load-balancer, then delete-target-group, for each ARN", addons.Timeout(orDefault(s.Wait, DefaultLoadBalancerWait)))},
	)
	skipped := false
	for i := range actions {
		if actions[i].Tool != "aws" { // what works in the cluster, while it exists
			actions[i].While = describeCluster(st)
			if !skipped {
				actions[i].Skipped = fmt.Sprintf("cluster %s does not exist: no Ingress or Service is left in it", p.Cluster.Name)
				skipped = true
			}
		}
	}
	return Description{Actions: actions}, nil
}

// TaggedLoadBalancersCheck lists the ARNs of the load balancers and target
// groups the controller made for a cluster.
func TaggedLoadBalancersCheck(cluster, region string) []string {
	return []string{"resourcegroupstaggingapi", "get-resources", "--region", region,
		"--tag-filters", "Key=" + cloud.TagELBv2Cluster + ",Values=" + cluster,
		"--resource-type-filters", "elasticloadbalancing:loadbalancer", "elasticloadbalancing:targetgroup",
		"--query", "ResourceTagMappingList[].ResourceARN"}
}

// SweepLeftovers finds what is still tagged for the cluster or the
// environment after the cluster is deleted (cloud.FindTagged, judged by classify in sweep.go), deletes
// what is safe to delete — load balancers and target groups the controller
// made for this cluster, unattached network interfaces, unassociated
// elastic IPs, security groups nothing that stays uses — and reports the
// rest: a table on st.Out of type, id, tags and what was done or why not.
// Nothing found is success; so is a re-run, which finds only what was kept.
// Deletes that fail make the step fail (re-running it retries them); kept
// resources do not.
type SweepLeftovers struct {
	AWS TeardownAPI
	// Settle bounds the retries of a delete refused because something going
	// still holds the resource; 0 means DefaultSettle.
	Settle time.Duration
	// Poll is the pause between those retries; 0 means 5 seconds.
	Poll time.Duration
}

// Name implements Step.
func (SweepLeftovers) Name() string { return "Sweeping leftovers tagged for the cluster" }

// Run implements Step.
func (s SweepLeftovers) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	owner := cloud.Owner{Cluster: p.Cluster.Name, Environment: p.Name, Application: tfdriver.Application}
	if st.Network != nil {
		owner.VPCID = st.Network.VPCID
	}
	tagged, err := api.FindTagged(ctx, owner)
	if err != nil {
		return err
	}
	return s.sweep(ctx, st, api, classify(tagged))
}

// sweep deletes what the policy found safe (retrying while something going
// still holds it), reports the rest, and fails when a delete failed.
func (s SweepLeftovers) sweep(ctx context.Context, st *State, api TeardownAPI, found []cloud.Leftover) error {
	p := st.Profile
	if len(found) == 0 {
		st.Progress.Info("nothing tagged for cluster %s or environment %s is left", p.Cluster.Name, p.Name)
		return nil
	}
	deadline := time.Now().Add(orDefault(s.Settle, DefaultSettle))
	poll := orDefault(s.Poll, defaultPoll)
	results := make([]string, len(found))
	var failed []error
	kept := 0
	for i, l := range found {
		if !l.Safe {
			results[i] = "kept: " + l.Why
			kept++
			continue
		}
		if err := deleteSettled(ctx, st, api, l, deadline, poll); err != nil {
			results[i] = "delete failed: " + err.Error()
			failed = append(failed, err)
			continue
		}
		results[i] = "deleted: " + l.Why
	}
	out := st.Out
	if out == nil {
		out = io.Discard
	}
	writeLeftovers(out, found, results)
	if kept > 0 {
		st.Progress.Info("%s kept (table above): check each, then delete it by hand, e.g. %s", countNoun(kept, "leftover"), firstKept(found).DeleteCommand(p.Region))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d leftovers could not be deleted: %w", len(failed), len(found), errors.Join(failed...))
	}
	return nil
}

func firstKept(ls []cloud.Leftover) cloud.Leftover {
	for _, l := range ls {
		if !l.Safe {
			return l
		}
	}
	return cloud.Leftover{}
}

// deleteSettled deletes l, retrying while AWS says something still holds it
// and the deadline allows.
func deleteSettled(ctx context.Context, st *State, api TeardownAPI, l cloud.Leftover, deadline time.Time, poll time.Duration) error {
	lastInfo := time.Now()
	for {
		err := api.DeleteLeftover(ctx, l)
		if err == nil || !errors.Is(err, cloud.ErrInUse) || time.Now().After(deadline) {
			return err
		}
		if time.Since(lastInfo) >= progressEvery {
			lastInfo = time.Now()
			st.Progress.Info("%s %s is still in use; retrying until %s", l.Kind, l.ID, deadline.Format("15:04:05"))
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(poll):
		}
	}
}

// writeLeftovers prints the sweep's table.
func writeLeftovers(w io.Writer, ls []cloud.Leftover, results []string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tID\tTAGS\tRESULT")
	for i, l := range ls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Kind, l.ID, l.TagString(), results[i])
	}
	tw.Flush()
}

// Describe implements Describer.
func (SweepLeftovers) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	o := cloud.Owner{Cluster: p.Cluster.Name, Environment: p.Name, Application: tfdriver.Application}
	eniScript, sgScript := sweepScripts(o, p.Region)
	tagged := func(kind string) []string {
		return []string{"aws", "resourcegroupstaggingapi", "get-resources", "--region", p.Region, "--tag-filters", "Key=" + cloud.TagELBv2Cluster + ",Values=" + p.Cluster.Name,
			"--resource-type-filters", kind, "--query", "ResourceTagMappingList[].[ResourceARN]", "--output", "text"}
	}
	find := func(filters ...string) []string {
		return append([]string{"resourcegroupstaggingapi", "get-resources", "--region", p.Region, "--tag-filters"}, filters...)
	}
	actions := []Action{
		{Tool: "aws", Args: find("Key=" + o.KubernetesTag()), Note: "tagged by Kubernetes for the cluster (value owned; keep what is shared)"},
		{Tool: "aws", Args: find("Key=" + cloud.TagELBv2Cluster + ",Values=" + p.Cluster.Name), Note: "tagged by the load balancer controller"},
		{Tool: "aws", Args: find("Key=" + cloud.TagEksctlCluster + ",Values=" + p.Cluster.Name), Note: "tagged by eksctl"},
		{Tool: "aws", Args: find("Key=" + cloud.TagCNICluster + ",Values=" + p.Cluster.Name), Note: "tagged by the VPC CNI (its pods' network interfaces)"},
		{Tool: "aws", Args: find("Key=Environment,Values="+p.Name, "Key=Application,Values="+tfdriver.Application, "Key=ManagedBy,Values=bootstrap"), Note: "tagged by bootstrap for the environment: all three tags, or it is another's"},
		{Tool: "aws", Args: []string{"elbv2", "delete-load-balancer", "--region", p.Region, "--load-balancer-arn", "<arn>"},
			Note: "load balancers tagged " + cloud.TagELBv2Cluster + "=" + p.Cluster.Name + " (others: check what made them)",
			Each: tagged("elasticloadbalancing:loadbalancer"), EachOf: []string{"<arn>"}},
		{Tool: "aws", Args: []string{"elbv2", "delete-target-group", "--region", p.Region, "--target-group-arn", "<arn>"},
			Note: "target groups tagged " + cloud.TagELBv2Cluster + "=" + p.Cluster.Name + ", once their load balancer is gone",
			Each: tagged("elasticloadbalancing:targetgroup"), EachOf: []string{"<arn>"}},
		{Tool: "aws", Args: []string{"ec2", "release-address", "--region", p.Region, "--allocation-id", "<eipalloc-id>"},
			Note: "elastic IPs with no association that carry the cluster's tag (eksctl's " + cloud.TagEksctlCluster + "): one tagged by bootstrap alone cannot be tied to the cluster, release it only when you know it is this environment's",
			Each: []string{"aws", "ec2", "describe-addresses", "--region", p.Region, "--filters", "Name=tag:" + cloud.TagEksctlCluster + ",Values=" + p.Cluster.Name,
				"--query", "Addresses[?AssociationId==null].[AllocationId]", "--output", "text"}, EachOf: []string{"<eipalloc-id>"}},
		{Tool: "bash", Script: eniScript,
			Note: "network interfaces in the cluster's VPC (the VPC eksctl tagged, while it is left) that carry a cluster tag or all three of the environment's tags, are not shared, not managed by an AWS service, and are available; the others tagged for it are listed as kept, with why. Needs jq"},
		{Tool: "bash", Script: sgScript,
			Note: "security groups in the cluster's VPC (not its default) with the same tags that no network interface uses and no other group's rules refer to; a group still in use is listed as kept, with why, and the script goes on"},
	}
	return Description{Actions: actions}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
