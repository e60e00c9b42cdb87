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
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
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
//  3. the PostgreSQL major (the profile at 16, the instance at 15): refused
//     without --allow-database-major, the refusal naming it; with it,
//     interrupted after the snapshot, then to the end: one snapshot, tagged,
//     the instance at 16 on the new family's parameter group, the old group
//     gone; a re-run takes no other snapshot;
//  4. the preflight refusals that need the live environment, each with
//     nothing changed: a PostgreSQL major, a pin whose kubeVersion excludes
//     1.35, nodes four minors behind, and a removed API (flowcontrol v1beta3,
//     which the local API server, v1.31, still serves) requested by a
//     client, read from the API server's own metric.
//
// Before the upgrade, `bootstrap plan` runs against the environment at 1.34
// and PostgreSQL 15 with a profile at 1.35 and 16 (LivePlan): its Upgrade
// section shows the differences, the command with --allow-database-major,
// and the upgrade's steps with the snapshot.
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
	version, database := "1.34", ""
	newState := func() (*State, *bytes.Buffer) {
		st, log := processState(t, "staging", fake)
		st.Profile.Cluster.KubernetesVersion = version
		if database != "" {
			st.Profile.Database.EngineVersion = database
		}
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
	var lastLog *bytes.Buffer
	run := func(what string, steps []Step) (*State, error) {
		t.Helper()
		st, log := newState()
		lastLog = log
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
	// upgrade moves each release as well: the bump's first real use. An
	// add-on added since (no previous pin: external-dns) is not there
	// before, as on an environment made by an older bootstrap; the upgrade
	// installs it.
	current := slices.Clone(addons.All)
	var older []addons.Addon
	for _, a := range current {
		if v, ok := previousPins[a.Release]; ok {
			a.Version = v
			older = append(older, a)
		}
	}
	addons.All = older
	before, err := charts.Build(filepath.Join(t.TempDir(), "charts-before"), charts.Options{WebhookURL: hook.URL, WebhookCA: hook.CA})
	if err != nil {
		t.Fatal(err)
	}
	upOpts := opts
	upOpts.Charts = before
	mustRun("up at 1.34 with the previous pins", UpStepsWith(upOpts))
	addons.All = current
	if cp, ng := facts(); cp != "1.34" || ng.Version != "1.34" {
		t.Fatalf("up at 1.34 made control plane %s, nodes %s", cp, ng.Version)
	}
	t.Logf("environment made at 1.34 after %s", time.Since(began).Round(time.Second))

	// plan against it, the profile at 1.35 and PostgreSQL 16.
	if LivePlan == nil {
		t.Fatal("LivePlan is not set: plan_process_test.go (package pipeline_test) sets it")
	}
	planStart := time.Now()
	planned := LivePlan(t, map[string]string{"eksctl": fake, "helm": helm, "kubectl": kubectl}, "1.35", "16")
	for _, want := range []string{
		"Upgrade: the live environment differs from the profile (control plane at 1.34, profile 1.35; node group " + mustNodeGroup(t, newState) + " at 1.34, profile 1.35; PostgreSQL at 15, profile 16: a major upgrade, made only with --allow-database-major); `bootstrap upgrade --env staging --allow-database-major` would run:",
		"eksctl upgrade cluster --name sovd-staging-cluster --region us-east-1 --version 1.35 --approve",
		"Taking a manual snapshot before the PostgreSQL major upgrade",
		"aws rds create-db-snapshot --db-instance-identifier sovd-staging --db-snapshot-identifier sovd-staging-before-postgres16",
		"a PostgreSQL major up to 16 allowed (--allow-database-major)",
	} {
		if !strings.Contains(planned, want) {
			t.Errorf("the live plan lacks %q:\n%s", want, planned)
		}
	}
	t.Logf("live plan took %s", time.Since(planStart).Round(time.Second))

	// 1. Interrupted after each step, then to the end.
	version = "1.35"
	up := UpgradeStepsWith(opts, false)
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
		if err != nil || !strings.Contains(string(out), `"chart":"`+c.NameVersion()+`"`) || previousPins[c.Release] == c.Version { // "" for an add-on the upgrade installs
			t.Errorf("release %s after the upgrade: %s, %v; want %s, moved from %s", c.Release, out, err, c.NameVersion(), previousPins[c.Release])
		}
	}
	// The role of the add-on the upgrade installed exists now too.
	stNow, _ := newState()
	for _, role := range addons.IRSARoleNames(stNow.Profile) {
		if arn, err := c.RoleARN(ctx, role); err != nil || arn == "" {
			t.Errorf("IRSA role %s after the upgrade: %q, %v", role, arn, err)
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

	// 3. The PostgreSQL major, 15 to 16.
	database = "16"
	refuse("a PostgreSQL major without the flag", "run bootstrap upgrade --env staging --allow-database-major", func(*State) {})
	majorStart := time.Now()
	withMajor := UpgradeStepsWith(opts, true)
	majorSteps := append([]Step{PreflightUpgrade{Options: opts, AllowDatabaseMajor: true}},
		withMajor[slices.IndexFunc(withMajor, func(s Step) bool { return s.Name() == (SnapshotBeforeMajor{}).Name() }):]...)
	_, err = run("major upgrade, failing after the snapshot", Map(majorSteps, func(s Step) Step {
		if _, ok := s.(SnapshotBeforeMajor); ok {
			return failAfter{s}
		}
		return s
	}))
	if !errors.Is(err, errInjected) {
		t.Fatalf("major upgrade failing after the snapshot: %v", err)
	}
	snap, err := c.DBSnapshot(ctx, "sovd-staging-before-postgres16")
	if err != nil || !snap.Exists || snap.Status != "available" || snap.Instance != "sovd-staging" || !envOwnership(mustProfile(t, newState)).Owns(snap.Tags) {
		t.Fatalf("snapshot after the interrupted major: %+v, %v; want available, of sovd-staging, tagged as staging's", snap, err)
	}
	if db, err := c.DBFacts(ctx, "sovd-staging"); err != nil || PostgresMajor(db.EngineVersion) != "15" {
		t.Fatalf("the interrupted major changed the database before its apply: %+v, %v", db, err)
	}
	mustRun("major upgrade", majorSteps)
	if !strings.Contains(lastLog.String(), "snapshot sovd-staging-before-postgres16 of PostgreSQL 15 exists (an earlier run took it): not taken again") {
		t.Errorf("the resumed major upgrade did not find the snapshot:\n%s", lastLines(lastLog.String(), 40))
	}
	rdsc := rds.NewFromConfig(c.Config)
	dbs, err := rdsc.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("sovd-staging")})
	if err != nil || len(dbs.DBInstances) != 1 {
		t.Fatalf("describing sovd-staging: %v", err)
	}
	db := dbs.DBInstances[0]
	if PostgresMajor(aws.ToString(db.EngineVersion)) != "16" || len(db.DBParameterGroups) != 1 || aws.ToString(db.DBParameterGroups[0].DBParameterGroupName) != "sovd-staging-postgres16" {
		t.Errorf("after the major: engine %s, parameter groups %+v; want 16 on sovd-staging-postgres16", aws.ToString(db.EngineVersion), db.DBParameterGroups)
	}
	if old, err := c.DBParameterGroupExists(ctx, "sovd-staging-postgres15"); err != nil || old {
		t.Errorf("the postgres15 parameter group after the major: exists %v, %v; want gone", old, err)
	}
	snaps, err := rdsc.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("sovd-staging"), SnapshotType: aws.String("manual")})
	if err != nil || len(snaps.DBSnapshots) != 1 {
		t.Errorf("manual snapshots of sovd-staging after two runs: %d, %v; want 1", len(snaps.DBSnapshots), err)
	}
	mustRun("major upgrade again", []Step{SnapshotBeforeMajor{}})
	if !strings.Contains(lastLog.String(), "PostgreSQL 16 on sovd-staging: no major upgrade to make") {
		t.Errorf("a re-run after the major:\n%s", lastLines(lastLog.String(), 20))
	}
	t.Logf("PostgreSQL major checks took %s", time.Since(majorStart).Round(time.Second))

	// 4. Preflight refusals against the live environment: nothing changes.
	refuse("a PostgreSQL major", "from major 16 to 17", func(st *State) { st.Profile.Database.EngineVersion = "17" })
	// A pin whose chart excludes 1.35: metrics-server's facts, swapped on a
	// copy of All (restored after).
	saved := addons.All
	addons.All = slices.Clone(saved)
	for i := range addons.All {
		if addons.All[i].Release == addons.MetricsServer.Release {
			addons.All[i].Compat = addons.Compat{Version: addons.All[i].Version, KubeVersion: ">= 1.25.0-0, < 1.35.0-0", Checked: "TestUpgrade"}
		}
	}
	ms := addons.MetricsServer.NameVersion()
	refuse("a pin that excludes 1.35", "the pinned chart "+ms+" does not support Kubernetes 1.35", func(*State) {})
	addons.All = saved
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

// LivePlan runs `bootstrap plan --env staging` against the live environment
// with the profile's Kubernetes and PostgreSQL versions set, and returns its
// output. plan_process_test.go sets it: package pipeline_test can import
// the plan command, which imports this package.
var LivePlan func(t *testing.T, tools map[string]string, kubernetesVersion, engineVersion string) string

// mustProfile is the profile newState gives.
func mustProfile(t *testing.T, newState func() (*State, *bytes.Buffer)) *config.Profile {
	t.Helper()
	st, _ := newState()
	return st.Profile
}

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
