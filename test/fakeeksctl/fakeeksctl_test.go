package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/testenv"
)

// The cluster of testdata/cluster.yaml.
const (
	testCluster   = "fake-test-cluster"
	testNodeGroup = "general"
	testConfig    = "testdata/cluster.yaml"
)

func TestParseDelays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    delays
		wantErr string
	}{
		{in: "", want: delays{}},
		{in: "network=2s,controlplane=10s,iam=1s,nodegroup=4s,deletenodegroup=4s,deletecluster=3s", want: delays{
			network: 2 * time.Second, controlPlane: 10 * time.Second, iam: time.Second, nodeGroup: 4 * time.Second,
			deleteNodeGroup: 4 * time.Second, deleteCluster: 3 * time.Second,
		}},
		{in: " network = 1.5s , nodegroup=250ms,", want: delays{network: 1500 * time.Millisecond, nodeGroup: 250 * time.Millisecond}},
		{in: "controlplane=0s", want: delays{}},
		{in: "cluster=1s", wantErr: `unknown key "cluster"`},
		{in: "network", wantErr: "is not key=duration"},
		{in: "network=2", wantErr: "missing unit"},
		{in: "network=-1s", wantErr: "negative duration"},
		{in: "network=1s,network=2s", wantErr: "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseDelays(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("parseDelays(%q) = %v", tt.in, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("parseDelays(%q) = %v, want error with %q", tt.in, err, tt.wantErr)
			case got != tt.want:
				t.Errorf("parseDelays(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// --- Process tests: the built fake against a moto server of their own. ---

// fakeEnv is a built fake and AWS clients on the test's moto server.
type fakeEnv struct {
	bin  string
	ec2  *ec2.Client
	eks  *eks.Client
	iam  *iam.Client
	cfn  *cloudformation.Client
	conf string // absolute path of testdata/cluster.yaml
}

// The fake, built once for all process tests into binDir.
var (
	binDir    string
	buildOnce sync.Once
	bin       string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func buildFake(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "fakeeksctl-test-"); buildErr != nil {
			return
		}
		bin = filepath.Join(binDir, "eksctl")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the fake eksctl: %v", buildErr)
	}
	return bin
}

// setup builds the fake and starts moto for this test, pointing this process
// and the fake at it. Not for parallel tests (testenv.MotoServer.Use).
func setup(t *testing.T) *fakeEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("process test: builds the fake eksctl and starts moto")
	}
	bin := buildFake(t)
	testenv.Moto(t).Use(t)
	conf, err := filepath.Abs(testConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(testenv.MotoRegion))
	if err != nil {
		t.Fatal(err)
	}
	return &fakeEnv{bin: bin, conf: conf, ec2: ec2.NewFromConfig(cfg), eks: eks.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), cfn: cloudformation.NewFromConfig(cfg)}
}

// command is the fake with argv and FAKE_EKSCTL_DELAYS=delays; its output
// goes to out.
func (f *fakeEnv) command(ctx context.Context, delays string, out *output, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, f.bin, argv...)
	cmd.Env = append(os.Environ(), envDelays+"="+delays)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd
}

// run runs the fake to the end and returns its output and error.
func (f *fakeEnv) run(t *testing.T, delays string, argv ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out output
	err := f.command(ctx, delays, &out, argv...).Run()
	return out.String(), err
}

// vpc is the cluster's VPC, or "".
func (f *fakeEnv) vpc(ctx context.Context) (string, error) {
	out, err := f.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + api.ClusterNameTag), Values: []string{testCluster}},
	}})
	if err != nil || len(out.Vpcs) == 0 {
		return "", err
	}
	return aws.ToString(out.Vpcs[0].VpcId), nil
}

// privateSubnets counts the VPC's subnets tagged for internal load
// balancers, as the data tier finds them.
func (f *fakeEnv) privateSubnets(ctx context.Context, vpc string) (int, error) {
	out, err := f.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}},
		{Name: aws.String("tag:kubernetes.io/role/internal-elb"), Values: []string{"1"}},
	}})
	if err != nil {
		return 0, err
	}
	return len(out.Subnets), nil
}

func (f *fakeEnv) clusterExists(ctx context.Context) bool {
	_, err := f.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(testCluster)})
	return err == nil
}

func (f *fakeEnv) nodeGroupExists(ctx context.Context) bool {
	_, err := f.eks.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(testCluster), NodegroupName: aws.String(testNodeGroup)})
	return err == nil
}

// sightings are the times, from the command's start, at which a poller
// first saw each thing in moto.
type sightings struct {
	mu                              sync.Mutex
	network, cluster, nodeGroup     time.Duration
	sawNetwork, sawCluster, sawNode bool
}

// watch polls moto every 50 ms until ctx ends, noting first sightings.
func (f *fakeEnv) watch(ctx context.Context, start time.Time, s *sightings) {
	for ctx.Err() == nil {
		now := time.Since(start)
		s.mu.Lock()
		sawNetwork, sawCluster, sawNode := s.sawNetwork, s.sawCluster, s.sawNode
		s.mu.Unlock()
		if !sawNetwork {
			// The network counts once the VPC and all three private subnets
			// are there.
			if vpc, err := f.vpc(ctx); err == nil && vpc != "" {
				if n, err := f.privateSubnets(ctx, vpc); err == nil && n == 3 {
					s.mu.Lock()
					s.network, s.sawNetwork = now, true
					s.mu.Unlock()
				}
			}
		}
		if !sawCluster && f.clusterExists(ctx) {
			s.mu.Lock()
			s.cluster, s.sawCluster = now, true
			s.mu.Unlock()
		}
		if !sawNode && f.nodeGroupExists(ctx) {
			s.mu.Lock()
			s.nodeGroup, s.sawNode = now, true
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestCreateClusterDelays: with FAKE_EKSCTL_DELAYS, create cluster makes
// the network first, the EKS cluster a control plane's time later, and
// returns only after the node group exists, a node group's time after that.
func TestCreateClusterDelays(t *testing.T) {
	f := setup(t)
	const (
		network      = 1 * time.Second
		controlPlane = 2 * time.Second
		nodeGroup    = 1 * time.Second
		// Lets a sighting lag its creation by a poll and a slow moto call.
		slack = 500 * time.Millisecond
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out output
	cmd := f.command(ctx, "network=1s,controlplane=2s,nodegroup=1s", &out, eksctl.CreateCluster(f.conf)...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	s := &sightings{}
	var wg sync.WaitGroup
	wg.Go(func() { f.watch(watchCtx, start, s) })
	err := cmd.Wait()
	returned := time.Since(start)
	nodeGroupAtReturn := f.nodeGroupExists(ctx)
	stopWatch()
	wg.Wait()
	if err != nil {
		t.Fatalf("create cluster: %v\n%s", err, out.String())
	}
	t.Logf("network seen at %v, cluster at %v, node group at %v, returned at %v", s.network, s.cluster, s.nodeGroup, returned)

	if !s.sawNetwork || !s.sawCluster {
		t.Fatalf("the poller did not see the network (%v) or the cluster (%v) while the command ran\n%s", s.sawNetwork, s.sawCluster, out.String())
	}
	if s.network < network {
		t.Errorf("the network appeared at %v, before network=%v had passed", s.network, network)
	}
	if s.cluster < network+controlPlane {
		t.Errorf("the EKS cluster appeared at %v, before network+controlplane=%v had passed", s.cluster, network+controlPlane)
	}
	if s.cluster-s.network < controlPlane-slack {
		t.Errorf("the EKS cluster appeared %v after the network, want about controlplane=%v", s.cluster-s.network, controlPlane)
	}
	if s.sawNode && s.nodeGroup < s.cluster+nodeGroup-slack {
		t.Errorf("the node group appeared at %v, less than nodegroup=%v after the cluster (%v)", s.nodeGroup, nodeGroup, s.cluster)
	}
	if !nodeGroupAtReturn {
		t.Errorf("the command returned before its node group existed")
	}
	if returned < network+controlPlane+nodeGroup {
		t.Errorf("the command returned at %v, before network+controlplane+nodegroup=%v", returned, network+controlPlane+nodeGroup)
	}
}

// TestCreateClusterInterrupted: SIGINT during a wait of create cluster
// makes the fake exit non-zero at once. Before the cluster stack is complete
// (network, controlplane) the stack is completed all the same, as
// CloudFormation goes on without eksctl: one VPC, the EKS cluster and the
// stack record, but none of what eksctl does after the stack (OIDC provider,
// IRSA roles, node groups). During the nodegroup wait, the node group is not
// made. Either way, create cluster again fails with AlreadyExists, as
// eksctl's does, and bootstrap's reconciling commands complete the cluster,
// which delete cluster then removes entirely. The stages share one moto
// server, each leaving it empty for the next.
func TestCreateClusterInterrupted(t *testing.T) {
	f := setup(t)
	for _, tt := range []struct {
		stage, delays string
		// waiting is the wait's line in the output; interrupted, its error.
		waiting, interrupted string
		// oidc and irsa: made before the signal.
		oidc, irsa bool
	}{
		{stage: "network", delays: "network=60s,controlplane=60s",
			waiting: "waiting 1m0s for the VPC", interrupted: "interrupted while waiting for the VPC"},
		{stage: "controlplane", delays: "controlplane=60s",
			waiting: "waiting 1m0s for EKS cluster", interrupted: "interrupted while waiting for EKS cluster"},
		{stage: "nodegroup", delays: "nodegroup=60s",
			waiting: "waiting 1m0s for 1 managed nodegroup", interrupted: "interrupted while waiting for 1 managed nodegroup",
			oidc: true, irsa: true},
	} {
		ok := t.Run(tt.stage, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var out output
			cmd := f.command(ctx, tt.delays, &out, eksctl.CreateCluster(f.conf)...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			for !strings.Contains(out.String(), tt.waiting) {
				select {
				case err := <-done:
					t.Fatalf("create cluster ended before its wait: %v\n%s", err, out.String())
				case <-time.After(50 * time.Millisecond):
				}
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			signalled := time.Now()
			var err error
			// The wait is 60s: exiting well before it proves the signal
			// ended the wait. What the fake still does after the signal
			// (CloudFormation completing the stack in moto) takes a few
			// seconds on a quiet machine, more on a loaded one.
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("still running 30s after SIGINT (the wait was 60s)\n%s", out.String())
			}
			t.Logf("exited %v after SIGINT: %v", time.Since(signalled), err)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("want exit status 1 after SIGINT, got %v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), tt.interrupted) {
				t.Errorf("output does not say what was interrupted (%q):\n%s", tt.interrupted, out.String())
			}
			f.assertInterrupted(t, ctx, tt.oidc, tt.irsa)
			if t.Failed() {
				t.FailNow()
			}

			stack := clusterStack(testCluster)
			o, err := f.run(t, "", eksctl.CreateCluster(f.conf)...)
			if err == nil || !strings.Contains(o, "AlreadyExistsException: Stack ["+stack+"] already exists") {
				t.Errorf("create cluster again: %v, want CloudFormation's AlreadyExists\n%s", err, o)
			}
			if n, err := f.vpcs(ctx); err != nil || n != 1 {
				t.Errorf("create cluster again: %d tagged VPCs (%v), want 1", n, err)
			}

			// bootstrap's reconciliation of an existing cluster.
			for _, argv := range [][]string{
				eksctl.AssociateOIDCProvider(f.conf),
				eksctl.CreateIAMServiceAccounts(f.conf),
				eksctl.CreateNodeGroups(f.conf),
			} {
				if o, err := f.run(t, "", argv...); err != nil {
					t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, o)
				}
			}
			if n, err := f.nodeGroups(ctx); err != nil || n != 1 {
				t.Errorf("after create nodegroup: %d node groups (%v), want 1", n, err)
			}
			if n, err := f.oidcProviders(ctx); err != nil || n != 1 {
				t.Errorf("after associate-iam-oidc-provider: %d OIDC providers (%v), want 1", n, err)
			}
			if !f.irsaRoleExists(ctx) {
				t.Errorf("after create iamserviceaccount: no IRSA role")
			}

			argv := eksctl.DeleteCluster(testCluster, testenv.MotoRegion)
			if o, err := f.run(t, "", argv...); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, o)
			}
			assertNothingLeft(t, ctx, f)
		})
		if !ok {
			break // the next stage would find this one's leftovers
		}
	}
}

// assertInterrupted checks what an interrupted create cluster left: the
// whole cluster stack, OIDC provider and IRSA role as said, no node group.
func (f *fakeEnv) assertInterrupted(t *testing.T, ctx context.Context, oidc, irsa bool) {
	t.Helper()
	if n, err := f.vpcs(ctx); err != nil || n != 1 {
		t.Errorf("%d tagged VPCs (%v), want 1", n, err)
	}
	if !f.clusterExists(ctx) {
		t.Errorf("no EKS cluster: CloudFormation completes the cluster stack without eksctl")
	}
	stack := clusterStack(testCluster)
	outputs, live, err := (&env{cfn: f.cfn}).stackOutputs(ctx, stack)
	if err != nil || !live {
		t.Errorf("stack %s: live %v, %v", stack, live, err)
	} else if vpc, _ := f.vpc(ctx); outputs["VPC"] != vpc || outputs["ClusterSecurityGroupId"] == "" {
		t.Errorf("stack %s records VPC %q (want %q) and cluster security group %q", stack, outputs["VPC"], vpc, outputs["ClusterSecurityGroupId"])
	}
	if n, err := f.nodeGroups(ctx); err != nil || n != 0 {
		t.Errorf("%d node groups (%v), want none", n, err)
	}
	if n, err := f.oidcProviders(ctx); err != nil || (n == 1) != oidc || n > 1 {
		t.Errorf("%d OIDC providers (%v), want made: %v", n, err, oidc)
	}
	if got := f.irsaRoleExists(ctx); got != irsa {
		t.Errorf("IRSA role exists: %v, want %v", got, irsa)
	}
}

// vpcs counts the VPCs tagged with the cluster's name.
func (f *fakeEnv) vpcs(ctx context.Context) (int, error) {
	out, err := f.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + api.ClusterNameTag), Values: []string{testCluster}},
	}})
	if err != nil {
		return 0, err
	}
	return len(out.Vpcs), nil
}

func (f *fakeEnv) nodeGroups(ctx context.Context) (int, error) {
	out, err := f.eks.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String(testCluster)})
	if err != nil {
		return 0, err
	}
	return len(out.Nodegroups), nil
}

func (f *fakeEnv) oidcProviders(ctx context.Context) (int, error) {
	out, err := f.iam.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return 0, err
	}
	return len(out.OpenIDConnectProviderList), nil
}

// irsaRoleExists says whether testdata/cluster.yaml's IRSA role exists.
func (f *fakeEnv) irsaRoleExists(ctx context.Context) bool {
	_, err := f.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("fake-test-app")})
	return err == nil
}

// output collects a command's stdout and stderr, which os/exec copies in
// from goroutines while the test reads it.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// TestDeleteNodeGroup: delete nodegroup with bootstrap's argv removes the
// node group, its role and its stack and takes deletenodegroup; a second
// one fails as eksctl's does; delete cluster then leaves nothing.
func TestDeleteNodeGroup(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if out, err := f.run(t, "", eksctl.CreateCluster(f.conf)...); err != nil {
		t.Fatalf("create cluster: %v\n%s", err, out)
	}
	stack := nodeGroupStack(testCluster, testNodeGroup)
	desc, err := f.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		t.Fatalf("the nodegroup stack: %v", err)
	}
	var nodeRole string
	for _, o := range desc.Stacks[0].Outputs {
		if aws.ToString(o.OutputKey) == "NodeInstanceRoleARN" {
			nodeRole = roleName(aws.ToString(o.OutputValue))
		}
	}
	if nodeRole == "" {
		t.Fatalf("stack %s records no node role", stack)
	}

	argv := eksctl.DeleteNodeGroup(testCluster, testNodeGroup, testenv.MotoRegion)
	start := time.Now()
	out, err := f.run(t, "deletenodegroup=1s", argv...)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	if took < time.Second {
		t.Errorf("delete nodegroup --wait took %v, less than deletenodegroup=1s", took)
	}
	if !strings.Contains(out, `deleted 1 nodegroup(s) from cluster "`+testCluster+`"`) {
		t.Errorf("output lacks eksctl's summary:\n%s", out)
	}
	if f.nodeGroupExists(ctx) {
		t.Errorf("node group %s still exists", testNodeGroup)
	}
	if _, err := f.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(nodeRole)}); err == nil {
		t.Errorf("node role %s still exists", nodeRole)
	}
	if _, live, err := (&env{cfn: f.cfn}).stackOutputs(ctx, stack); err != nil || live {
		t.Errorf("stack %s: live %v, %v", stack, live, err)
	}
	if !f.clusterExists(ctx) {
		t.Fatalf("delete nodegroup deleted the cluster")
	}

	// Already gone: eksctl fails on DescribeNodegroup (PopulateNodegroup).
	out, err = f.run(t, "", argv...)
	if err == nil || !strings.Contains(out, "ResourceNotFoundException") || !strings.Contains(out, "No node group found for name: "+testNodeGroup) {
		t.Errorf("second delete nodegroup: %v, want EKS's ResourceNotFoundException\n%s", err, out)
	}
	// --approve needs -f, as in eksctl.
	out, err = f.run(t, "", append(argv, "--approve")...)
	if err == nil || !strings.Contains(out, "cannot use --approve unless a config file is specified via --config-file/-f") {
		t.Errorf("delete nodegroup --approve: %v\n%s", err, out)
	}

	argv = eksctl.DeleteCluster(testCluster, testenv.MotoRegion)
	start = time.Now()
	out, err = f.run(t, "deletenodegroup=30s,deletecluster=1s", argv...)
	took = time.Since(start)
	if err != nil {
		t.Fatalf("%s after delete nodegroup: %v\n%s", strings.Join(argv, " "), err, out)
	}
	// No node group was left, so no node group wait.
	if took < time.Second || took > 20*time.Second {
		t.Errorf("delete cluster took %v, want deletecluster=1s and no deletenodegroup wait", took)
	}
	assertNothingLeft(t, ctx, f)
}

// assertNothingLeft checks that no trace of the test cluster remains.
func assertNothingLeft(t *testing.T, ctx context.Context, f *fakeEnv) {
	t.Helper()
	if vpc, err := f.vpc(ctx); err != nil || vpc != "" {
		t.Errorf("VPC left: %q, %v", vpc, err)
	}
	if f.clusterExists(ctx) {
		t.Errorf("EKS cluster left")
	}
	live, err := (&env{cfn: f.cfn}).stacksOf(ctx, "eksctl-"+testCluster+"-")
	if err != nil || len(live) > 0 {
		t.Errorf("stacks left: %v, %v", live, err)
	}
	roles, err := f.iam.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Roles {
		if n := aws.ToString(r.RoleName); strings.HasPrefix(n, "eksctl-"+testCluster) || n == "fake-test-app" {
			t.Errorf("role left: %s", n)
		}
	}
	providers, err := f.iam.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(providers.OpenIDConnectProviderList) > 0 {
		t.Errorf("OIDC providers left: %d", len(providers.OpenIDConnectProviderList))
	}
}
