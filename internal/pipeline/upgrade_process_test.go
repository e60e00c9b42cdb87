package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/test/charts"
)

// TestUpgrade makes a staging environment at Kubernetes 1.34 with `up`, at
// the chart pins before their last bump, and upgrades it to 1.35 and the
// current pins, with every real part this machine has: the fake
// eksctl (upgrade cluster, update addon, upgrade nodegroup as eksctl
// 0.230.0 runs them) against moto, the real helm and kubectl against a
// local control plane of the test's own, the real terraform. One made
// environment serves every check, each starting from what the last left:
//
//  1. the upgrade interrupted after each of its own steps and after the
//     first Helm release (the add-on and data steps are up's, whose
//     interruption TestUpThenTeardown covers), each run going on from
//     where the last stopped; then a full run converges: 1.35 everywhere,
//     the control plane and node group moved by exactly one eksctl call
//     each;
//  2. a node group left behind with a PodDisruptionBudget allowing no
//     disruption: the upgrade stops at the node group and names the
//     budget; without the budget it finishes;
//  3. the preflight refusals that need the live environment, each with
//     nothing changed: a PostgreSQL major, a pin whose kubeVersion excludes
//     1.35, nodes four minors behind, and a removed API (flowcontrol v1beta3,
//     which the local API server, v1.31, still serves) requested by a
//     client, read from the API server's own metric.
func TestUpgrade(t *testing.T) {
	if testenv.OwnProcess(t) {
		return
	}
	helm := testenv.Helm(t)
	// A control plane of its own: the upgrade installs the add-on releases
	// with their fixed names, and the removed-API check reads a metric of
	// the whole API server, which another test's requests would change.
	kubeconfig := testenv.OwnKube(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Missing(t, "kubectl", "not on PATH")
	}
	testenv.Moto(t).Use(t)
	testenv.UseTerraform(t)
	record := t.TempDir()
	t.Setenv("FAKE_EKSCTL_RECORD", record)
	t.Setenv("FAKE_EKSCTL_KUBECONFIG", kubeconfig)
	t.Setenv("FAKE_EKSCTL_KUBECTL", kubectl)

	hook := charts.StartWebhook(t)
	src, err := charts.Build(filepath.Join(t.TempDir(), "charts"), charts.Options{WebhookURL: hook.URL, WebhookCA: hook.CA})
	if err != nil {
		t.Fatal(err)
	}
	opts := AddonOptions{Kubeconfig: kubeconfig, Charts: src, Timeout: 30 * time.Second}
	ctx := context.Background()
	fake := buildFakeEksctl(t)
	began := time.Now()
	version := "1.34"
	newState := func() (*State, *bytes.Buffer) {
		st, log := processState(t, "staging", fake)
		st.Profile.Cluster.KubernetesVersion = version
		st.Tools["helm"], st.Tools["kubectl"] = helm, kubectl
		st.Redact = &proc.Redactor{}
		st.Log = st.Redact.Writer(log)
		st.Runner = &proc.Exec{Log: st.Log, Redact: st.Redact}
		st.Progress = NewProgress(st.Log, false, false)
		st.Out = &bytes.Buffer{}
		st.Now = time.Now
		st.Poll = Backoff{Initial: 200 * time.Millisecond, Max: time.Second}
		return st, log
	}
	run := func(what string, steps []Step) (*State, error) {
		t.Helper()
		st, log := newState()
		start := time.Now()
		err := Run(ctx, st, "bootstrap "+what+" --env staging", steps)
		if err != nil && !errors.Is(err, errInjected) {
			os.WriteFile(filepath.Join(os.TempDir(), "bootstrap-TestUpgrade.log"), log.Bytes(), 0o644)
			t.Logf("%s: %v\n%s", what, err, lastLines(log.String(), 30))
		}
		t.Logf("%s took %s", what, time.Since(start).Round(time.Second))
		return st, err
	}
	mustRun := func(what string, steps []Step) *State {
		t.Helper()
		st, err := run(what, steps)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return st
	}
	c, err := cloud.New(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	const cluster = "sovd-staging-cluster"
	facts := func() (string, cloud.NodeGroupFacts) {
		t.Helper()
		cl, err := c.ClusterFacts(ctx, cluster)
		if err != nil {
			t.Fatal(err)
		}
		ng, err := c.NodeGroupFacts(ctx, cluster, mustNodeGroup(t, newState))
		if err != nil {
			t.Fatal(err)
		}
		return cl.Version, ng
	}
	calls := func(verb ...string) int {
		n := 0
		for _, call := range recordedCalls(t, record) {
			if len(call.Argv) >= len(verb) && slices.Equal(call.Argv[:len(verb)], verb) {
				n++
			}
		}
		return n
	}

	// The environment is made with the pins before their last bump, so the
	// upgrade moves each release as well: the bump's first real use.
	current := slices.Clone(addons.All)
	for i := range addons.All {
		if v, ok := previousPins[addons.All[i].Release]; ok { // an add-on pinned since (reloader) stays at its pin
			addons.All[i].Version = v
		}
	}
	before, err := charts.Build(filepath.Join(t.TempDir(), "charts-before"), charts.Options{WebhookURL: hook.URL, WebhookCA: hook.CA})
	if err != nil {
		t.Fatal(err)
	}
	upOpts := opts
	upOpts.Charts = before
	mustRun("up at 1.34 with the previous pins", UpStepsWith(upOpts))
	copy(addons.All, current)
	if cp, ng := facts(); cp != "1.34" || ng.Version != "1.34" {
		t.Fatalf("up at 1.34 made control plane %s, nodes %s", cp, ng.Version)
	}
	t.Logf("environment made at 1.34 after %s", time.Since(began).Round(time.Second))

	// 1. Interrupted after each step, then to the end.
	version = "1.35"
	up := UpgradeStepsWith(opts)
	// The upgrade's own steps, then the first Helm release (a pin at a new
	// version is a helm upgrade). Not after the data steps: they are up's,
	// TestUpThenTeardown interrupts them, and each such run would cost a
	// Terraform apply.
	extra := map[string]bool{InstallRelease{Options: opts, Chart: addons.All[0]}.Name(): true}
	own := true
	for _, s := range Flatten(up) {
		name := s.Name()
		if name == (ReadAddonInputs{}).Name() {
			own = false
		}
		if !own && !extra[name] {
			continue
		}
		steps := Map(up, func(s Step) Step {
			if s.Name() == name {
				return failAfter{s}
			}
			return s
		})
		_, err := run("upgrade, failing after "+name, steps)
		var se *StepError
		if !errors.As(err, &se) || se.Step != name || !errors.Is(err, errInjected) {
			t.Fatalf("failure injected after %q: run ended with %v", name, err)
		}
	}
	mustRun("upgrade", up)
	cp, ng := facts()
	if cp != "1.35" || ng.Version != "1.35" || ng.ReleaseVersion != "1.35.0-20261115" {
		t.Errorf("after the upgrade: control plane %s, nodes %s (AMI release %s), want 1.35 and 1.35 on 1.35.0-20261115", cp, ng.Version, ng.ReleaseVersion)
	}
	want := map[string]string{"vpc-cni": "v1.20.4-eksbuild.1", "kube-proxy": "v1.35.0-eksbuild.1", "coredns": "v1.13.1-eksbuild.1"}
	for name, v := range want {
		a, err := c.AddonFacts(ctx, cluster, name)
		if err != nil || a.Version != v {
			t.Errorf("EKS add-on %s after the upgrade: %q, %v; want %s", name, a.Version, err, v)
		}
	}
	if n := calls("upgrade", "cluster"); n != 1 {
		t.Errorf("eksctl upgrade cluster ran %d times over the interrupted runs, want once: a re-run must read where the control plane is", n)
	}
	if n := calls("upgrade", "nodegroup"); n != 1 {
		t.Errorf("eksctl upgrade nodegroup ran %d times, want once", n)
	}
	if n := calls("update", "addon"); n != 2 {
		t.Errorf("eksctl update addon ran %d times, want 2 (kube-proxy and coredns; vpc-cni is current for 1.35)", n)
	}
	for _, c := range addons.Charts() {
		out, err := exec.Command(helm, "list", "-n", c.Namespace, "--kubeconfig", kubeconfig, "-o", "json").Output()
		if err != nil || !strings.Contains(string(out), `"chart":"`+c.NameVersion()+`"`) || previousPins[c.Release] == c.Version {
			// previousPins[c.Release] is "" for an add-on with no earlier pin: it must be at its pin.
			t.Errorf("release %s after the upgrade: %s, %v; want %s, moved from %s", c.Release, out, err, c.NameVersion(), previousPins[c.Release])
		}
	}
	t.Logf("upgrade checks done after %s", time.Since(began).Round(time.Second))

	// 2. A node group behind its control plane, and a budget that blocks its drain.
	if _, err := eks.NewFromConfig(c.Config).UpdateNodegroupVersion(ctx, &eks.UpdateNodegroupVersionInput{
		ClusterName: aws.String(cluster), NodegroupName: aws.String(mustNodeGroup(t, newState)), Version: aws.String("1.34"),
	}); err != nil {
		t.Fatal(err)
	}
	kube := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(kubectl, append(args, "--kubeconfig", kubeconfig)...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	kube(blockingWorkload, "apply", "-f", "-")
	kube("", "wait", "--for=jsonpath={.status.expectedPods}=1", "pdb/keep-one", "-n", "upgrade-drain", "--timeout=60s")
	_, err = run("upgrade with a blocking budget", up)
	var blocked *DrainBlockedError
	if !errors.As(err, &blocked) || len(blocked.Budgets) != 1 || blocked.Budgets[0].String() != "upgrade-drain/keep-one" ||
		!strings.Contains(err.Error(), "PodDisruptionBudget upgrade-drain/keep-one") {
		t.Fatalf("upgrade with a blocking budget ended with %v, want the budget upgrade-drain/keep-one named", err)
	}
	if _, ng := facts(); ng.Version != "1.34" {
		t.Errorf("a blocked drain moved the node group to %s", ng.Version)
	}
	kube("", "delete", "pdb", "keep-one", "-n", "upgrade-drain")
	// The releases and the data tier converged above: the upgrade's own
	// steps are what this run is about.
	ownSteps := up[:slices.IndexFunc(up, func(s Step) bool { return s.Name() == (ReadAddonInputs{}).Name() })]
	mustRun("upgrade without the budget", ownSteps)
	if _, ng := facts(); ng.Version != "1.35" {
		t.Errorf("after the budget went, the node group is at %s", ng.Version)
	}

	// 3. Preflight refusals against the live environment: nothing changes.
	preflight := []Step{PreflightUpgrade{Options: opts}}
	refuse := func(what, want string, edit func(st *State)) {
		t.Helper()
		st, log := newState()
		edit(st)
		err := Run(ctx, st, "bootstrap upgrade --env staging", preflight)
		var pe *PreflightError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
			t.Errorf("preflight with %s: %v, want a refusal containing %q\n%s", what, err, want, lastLines(log.String(), 10))
		}
	}
	refuse("a PostgreSQL major", "from major 15 to 16", func(st *State) { st.Profile.Database.EngineVersion = "16" })
	saved := addons.Compats
	addons.Compats = map[string]addons.Compat{}
	for k, v := range saved {
		addons.Compats[k] = v
	}
	ms := addons.MetricsServer.NameVersion()
	addons.Compats[ms] = addons.Compat{KubeVersion: ">= 1.25.0-0, < 1.35.0-0", Checked: "TestUpgrade"}
	refuse("a pin that excludes 1.35", "the pinned chart "+ms+" does not support Kubernetes 1.35", func(*State) {})
	addons.Compats = saved
	if _, err := eks.NewFromConfig(c.Config).UpdateNodegroupVersion(ctx, &eks.UpdateNodegroupVersionInput{
		ClusterName: aws.String(cluster), NodegroupName: aws.String(mustNodeGroup(t, newState)), Version: aws.String("1.31"),
	}); err != nil {
		t.Fatal(err)
	}
	refuse("nodes four minors behind", "kubelets would be 4 minors behind", func(*State) {})
	// A client of a removed API: the local API server (v1.31) still serves
	// flowcontrol v1beta3, which 1.32 removed; one request is enough for
	// the metric. Last: the metric stays until the API server restarts.
	kube("", "get", "flowschemas.v1beta3.flowcontrol.apiserver.k8s.io")
	refuse("a removed API in use", "flowschemas flowcontrol.apiserver.k8s.io/v1beta3, which Kubernetes 1.35 no longer serves", func(*State) {})
	if cp, _ := facts(); cp != "1.35" {
		t.Errorf("a refused preflight changed the control plane to %s", cp)
	}
	t.Logf("TestUpgrade wall time %s", time.Since(began).Round(time.Second))
}

// previousPins are the chart versions before the pins' last bump; an add-on
// added since (reloader) has none and is installed at its pin throughout.
var previousPins = map[string]string{"metrics-server": "3.13.0", "aws-load-balancer-controller": "3.4.2", "external-secrets": "1.1.0"}

// mustNodeGroup is the staging profile's node group name.
func mustNodeGroup(t *testing.T, newState func() (*State, *bytes.Buffer)) string {
	t.Helper()
	st, _ := newState()
	return st.Profile.Cluster.NodeGroup.Name
}

// blockingWorkload is one pod and a budget that keeps it: the eviction API
// refuses to evict it, so a drain of its node cannot finish.
const blockingWorkload = `apiVersion: v1
kind: Namespace
metadata:
  name: upgrade-drain
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: keep-one
  namespace: upgrade-drain
spec:
  replicas: 1
  selector:
    matchLabels: {app: keep-one}
  template:
    metadata:
      labels: {app: keep-one}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: keep-one
  namespace: upgrade-drain
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: keep-one}
`
