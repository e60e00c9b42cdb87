package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/test/charts"
)

// TestUpThenTeardown runs, for staging, `up` once per step of it with a
// failure injected after that step, then `up` twice and `teardown` twice,
// with every real part this machine has: the fake eksctl making the
// cluster's resources in moto (on a shortened eksctl timeline), the real
// terraform and AWS provider against moto, the real helm against a local
// Kubernetes control plane. The step lists are UpStepsWith and
// TeardownStepsWith given only a local chart source and kubeconfig. After
// the failures, up converges to what a clean run makes; after the second up
// nothing was made twice; after teardown nothing tagged for the environment
// is left, in AWS or in the cluster.
func TestUpThenTeardown(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: moto, terraform, helm and the local control plane")
	}
	if testenv.OwnProcess(t) {
		return
	}
	helm := testenv.Helm(t)
	// A control plane of its own: up installs the add-on releases with their
	// fixed names in kube-system and the test asserts the cluster's whole
	// release list, which other tests installing them at the same time
	// would change.
	kubeconfig := testenv.OwnKube(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Missing(t, "kubectl", "not on PATH")
	}
	testenv.Moto(t).Use(t)
	testenv.UseTerraform(t)
	t.Setenv("FAKE_EKSCTL_RECORD", t.TempDir())
	// The local control plane plays the EKS cluster's API server: EKS
	// add-ons the fake makes get their objects there, as on EKS.
	t.Setenv("FAKE_EKSCTL_KUBECONFIG", kubeconfig)
	t.Setenv("FAKE_EKSCTL_KUBECTL", kubectl)

	hook := charts.StartWebhook(t)
	src, err := charts.Build(filepath.Join(t.TempDir(), "charts"), charts.Options{WebhookURL: hook.URL, WebhookCA: hook.CA})
	if err != nil {
		t.Fatal(err)
	}
	opts := AddonOptions{Kubeconfig: kubeconfig, Charts: src, Timeout: 30 * time.Second}

	up := UpStepsWith(opts)
	down := TeardownStepsWith(opts)
	// eksctl's timeline, shortened: the VPC at once, the control plane (and
	// its security group) a little later, so the data lane really starts
	// before EKS has the cluster and grants the rules in its second apply.
	t.Setenv("FAKE_EKSCTL_DELAYS", "network=0s,controlplane=15s,nodegroup=2s")

	ctx := context.Background()
	fake := buildFakeEksctl(t)
	newState := func() (*State, *bytes.Buffer) {
		st, log := processState(t, "staging", fake)
		st.Tools["helm"], st.Tools["kubectl"] = helm, kubectl
		st.Redact = &proc.Redactor{}
		st.Log = st.Redact.Writer(log)
		st.Runner = &proc.Exec{Log: st.Log, Redact: st.Redact}
		st.Progress = NewProgress(st.Log, false, false)
		st.Out = &bytes.Buffer{}
		st.Now = time.Now
		st.Poll = Backoff{Initial: 200 * time.Millisecond, Max: time.Second}
		st.Trace = &Trace{}
		return st, log
	}
	// The AWS calls of whole runs, counted (testenv.AWSCalls): what each
	// fact costs.
	calls := testenv.NewAWSCalls()
	run := func(what string, steps []Step) *State {
		t.Helper()
		st, log := newState()
		calls.Reset()
		st.AWS = LazyAWS(func(ctx context.Context) (*AWS, error) { return cloud.New(ctx, st.Profile.Region, calls.Option()) })
		start := time.Now()
		if err := Run(ctx, st, "bootstrap "+what+" --env staging", steps); err != nil {
			os.WriteFile(filepath.Join(os.TempDir(), "bootstrap-TestUpThenTeardown.log"), log.Bytes(), 0o644)
			t.Fatalf("%s: %v\n%s", what, err, lastLines(log.String(), 40))
		}
		t.Logf("%s took %s; its AWS calls (%d):\n%s", what, time.Since(start).Round(time.Second), calls.Total(), calls)
		return st
	}

	c, err := cloud.New(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	count := func() map[string]int { return resourceSet(t, ctx, c, "staging") }
	releasesNow := func() string {
		out, err := exec.Command(helm, "list", "--all-namespaces", "--kubeconfig", kubeconfig, "-q").Output()
		if err != nil {
			t.Fatalf("helm list: %v", err)
		}
		return strings.TrimSpace(string(out))
	}

	// For each step of up, in order: a run in which that step does its work
	// and then fails. The failure stops the other lane wherever it is (a
	// terraform apply gets SIGINT mid-way, eksctl mid-create) and undoes
	// nothing; each next run must finish what the last one left, and no run
	// may leave Terraform's state lock behind.
	var made *State // the run whose eksctl made the cluster
	for _, s := range Flatten(up) {
		name := s.Name()
		steps := Map(up, func(s Step) Step {
			if s.Name() == name {
				return failAfter{s}
			}
			return s
		})
		st, log := newState()
		calls.Reset()
		st.AWS = LazyAWS(func(ctx context.Context) (*AWS, error) { return cloud.New(ctx, st.Profile.Region, calls.Option()) })
		start := time.Now()
		err := Run(ctx, st, "bootstrap up --env staging", steps)
		var se *StepError
		if !errors.As(err, &se) || se.Step != name || !errors.Is(err, errInjected) {
			os.WriteFile(filepath.Join(os.TempDir(), "bootstrap-TestUpThenTeardown.log"), log.Bytes(), 0o644)
			t.Fatalf("failure injected after %q: run ended with %v\n%s", name, err, lastLines(log.String(), 40))
		}
		t.Logf("failure injected after %q: stopped in %s", name, time.Since(start).Round(time.Second))
		if name == (ApplyData{}).Name() {
			// The run that applies the data tier: its adoption looks for
			// what the state lacks, by the names the ownership check looked
			// up a moment before (found.go): each is described once.
			t.Logf("its AWS calls (%d):\n%s", calls.Total(), calls)
			readOnce(t, "the run that applied the data tier", calls)
			// The Redis group and the buckets too: one HEAD each for the
			// backups and access-log buckets, and two for the state
			// bucket (the ownership check's, and EnsureStateBucket's own).
			for op, want := range map[string]int{"ElastiCache.DescribeReplicationGroups": 1, "S3.HeadBucket": 4} {
				if got := calls.Get(op); got != want {
					t.Errorf("the run that applied the data tier: %s called %d times, want %d", op, got, want)
				}
			}
		}
		if locks := stateLocks(t, c, st.Profile.StateBucketName(testenv.MotoAccountID)); len(locks) > 0 {
			t.Fatalf("failure injected after %q left Terraform's state locked: %v", name, locks)
		}
		if name == (CreateCluster{}).Name() {
			made = st
		}
	}
	first := run("up", up)
	readOnce(t, "up", calls)
	after := count()
	ended := map[string]time.Time{}
	for _, sp := range made.Trace.Spans() {
		ended[sp.Step] = sp.End
	}
	if subnets, cluster := ended[WaitForSubnets{}.Name()], ended[CreateCluster{}.Name()]; subnets.IsZero() || cluster.IsZero() || !subnets.Before(cluster) {
		t.Errorf("the data lane did not start before eksctl finished: subnets found at %s, eksctl done at %s", subnets, cluster)
	}
	// The first apply ran before EKS made the cluster security group; the
	// grant's second apply admitted it to both ports.
	if n := first.Network; n == nil || n.ClusterSecurityGroupID == "" {
		t.Errorf("up ended without the cluster security group: %+v", n)
	} else {
		for name, port := range map[string]int32{first.Profile.Prefix() + "-postgres": 5432, first.Profile.Prefix() + "-redis": 6379} {
			sg, err := c.SecurityGroupIDByName(ctx, n.VPCID, name)
			if err != nil || sg == "" {
				t.Errorf("security group %s: %q, %v", name, sg, err)
				continue
			}
			if rule, err := c.IngressRuleID(ctx, sg, port, n.ClusterSecurityGroupID); err != nil || rule == "" {
				t.Errorf("%s admits no %d from the cluster security group %s: %q, %v", name, port, n.ClusterSecurityGroupID, rule, err)
			}
		}
	}
	checkUpResourceSet(t, after)
	if got := releasesNow(); got != allReleases() {
		t.Errorf("after up, helm releases:\n%s", got)
	}
	if first.Data == nil || first.Data.DBHost == "" {
		t.Error("up did not read the data tier's outputs")
	}
	if _, err := os.Stat(first.Path("values/sovd-webapp.yaml")); err != nil {
		t.Errorf("up wrote no values overlay for the app: %v", err)
	}

	// A second up, as after a failure at its last step: converges, makes nothing twice.
	run("up again", up)
	readOnce(t, "up again", calls)
	if again := count(); !equalCounts(again, after) {
		t.Errorf("a second up changed what exists:\n%v\nwant\n%v", again, after)
	}

	run("teardown", down)
	left := count()
	for what, n := range left {
		if n != 0 {
			t.Errorf("after teardown: %d %s left", n, what)
		}
	}
	if got := releasesNow(); got != "" {
		t.Errorf("after teardown, helm releases left: %s", got)
	}
	run("teardown again", down)
}

// readOnce fails unless one run of up read each of these facts once: the
// account (sts, shared by the account check and S3's ExpectedBucketOwner),
// the database, each repository and secret (the ownership check's lookups,
// reused by adoption and untaint). Before the run's cached readers (issue
// 14): the account twice; on a state that lacked them, each of the others
// twice.
func readOnce(t *testing.T, run string, calls *testenv.AWSCalls) {
	t.Helper()
	for op, want := range map[string]int{
		"STS.GetCallerIdentity":          1,
		"RDS.DescribeDBInstances":        1,
		"ECR.DescribeRepositories":       2, // sovd-staging-backend, sovd-staging-frontend
		"Secrets Manager.DescribeSecret": 3, // database, jwt, redis
	} {
		if got := calls.Get(op); got != want {
			t.Errorf("%s: %s called %d times, want %d", run, op, got, want)
		}
	}
}

// errInjected is the failure a test injects after a step did its work.
var errInjected = errors.New("failure injected by the test")

// failAfter runs a step, then fails as if the run had crashed right after
// the step's work.
type failAfter struct{ Step }

func (f failAfter) Run(ctx context.Context, st *State) error {
	if err := f.Step.Run(ctx, st); err != nil {
		return err
	}
	return errInjected
}

// stateLocks lists Terraform's lock files (use_lockfile) in the state bucket.
func stateLocks(t *testing.T, c *cloud.Clients, bucket string) []string {
	t.Helper()
	out, err := c.S3().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		var nb *s3types.NoSuchBucket
		if errors.As(err, &nb) {
			return nil
		}
		t.Fatalf("listing the state bucket %s: %v", bucket, err)
	}
	var locks []string
	for _, o := range out.Contents {
		if strings.HasSuffix(aws.ToString(o.Key), ".tflock") {
			locks = append(locks, aws.ToString(o.Key))
		}
	}
	return locks
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// resourceSet counts what an environment's up makes, in moto: the set
// TestUpThenTeardown and TestRunbookScript assert after up (upResourceSet)
// and after teardown (nothing).
func resourceSet(t *testing.T, ctx context.Context, c *cloud.Clients, env string) map[string]int {
	t.Helper()
	cluster := "sovd-" + env + "-cluster"
	n := map[string]int{}
	vpcs, _ := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:alpha.eksctl.io/cluster-name"), Values: []string{cluster}}}})
	n["vpcs"] = len(vpcs.Vpcs)
	subnets, _ := c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:alpha.eksctl.io/cluster-name"), Values: []string{cluster}}}})
	n["subnets"] = len(subnets.Subnets)
	clusters, _ := eks.NewFromConfig(c.Config).ListClusters(ctx, &eks.ListClustersInput{})
	n["clusters"] = len(clusters.Clusters)
	dbs, _ := rds.NewFromConfig(c.Config).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	n["databases"] = len(dbs.DBInstances)
	rgs, _ := c.ElastiCache().DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{})
	n["redis"] = len(rgs.ReplicationGroups)
	repos, _ := ecr.NewFromConfig(c.Config).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	n["repositories"] = len(repos.Repositories)
	n["secrets"] = len(listSecrets(t, c, "sovd/"+env+"/"))
	roles, _ := iam.NewFromConfig(c.Config).ListRoles(ctx, &iam.ListRolesInput{})
	for _, r := range roles.Roles {
		switch name := aws.ToString(r.RoleName); {
		case name == "sovd-"+env+"-rds-monitoring":
			n["data-tier roles"]++ // RDS enhanced monitoring, made by terraform/stateful
		case strings.HasPrefix(name, "sovd-"+env) || strings.HasPrefix(name, "sovd-webapp-"+env):
			n["irsa roles"]++
		}
	}
	if ok, _ := c.BucketExists(ctx, "sovd-"+env+"-backups-"+testenv.MotoAccountID); ok {
		n["buckets"] = 1
	}
	addons, _ := c.Addons(ctx, cluster)
	n["eks add-ons"] = len(addons)
	if lg, _ := c.LogGroupFacts(ctx, cloud.ControlPlaneLogGroup(cluster)); lg.Exists {
		n["log groups"] = 1
	}
	return n
}

// checkUpResourceSet fails unless n is what up makes for staging. EKS
// add-ons: the networking ones eksctl makes (vpc-cni, kube-proxy, coredns),
// not metrics-server, which Helm installs; the control-plane log group EKS
// makes, which teardown must delete.
func checkUpResourceSet(t *testing.T, n map[string]int) {
	t.Helper()
	for what, want := range map[string]int{"vpcs": 1, "subnets": 6, "clusters": 1, "databases": 1, "redis": 1, "repositories": 2, "secrets": 3, "irsa roles": len(addons.IRSARoleNames(config.Builtin("staging"))), "data-tier roles": 1, "buckets": 1, "eks add-ons": 3, "log groups": 1} {
		if n[what] != want {
			t.Errorf("after up: %d %s, want %d", n[what], what, want)
		}
	}
}
