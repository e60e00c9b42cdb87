package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/proc/proctest"
	"github.com/sovd/bootstrap/internal/testenv"
)

// fakeAWS is a ClusterAPI answering from fields.
type fakeAWS struct {
	exists  bool
	stacks  []cloud.Stack
	network *cloud.Network
	// policies are the IRSA roles' inline policies, by role and name; a
	// role not here does not exist.
	policies map[string]map[string]string
	// live is what DescribeCluster says of the existing cluster's endpoint
	// access and Secrets key (asProfile: as the profile asks).
	live  *cloud.ClusterFacts
	calls []string
}

func (f *fakeAWS) ClusterFacts(_ context.Context, name string) (cloud.ClusterFacts, error) {
	f.calls = append(f.calls, "ClusterFacts "+name)
	if f.live == nil {
		return cloud.ClusterFacts{}, errors.New("fakeAWS: the test gave no live cluster settings")
	}
	return *f.live, nil
}

// asProfile is a live cluster whose converged settings are the profile's.
func asProfile(t *testing.T, st *State) *cloud.ClusterFacts {
	t.Helper()
	cfg, err := RenderCluster(st.Profile, clusterLive(st))
	if err != nil {
		t.Fatal(err)
	}
	w := eksctl.WantedSettings(cfg)
	cidrs := w.PublicCIDRs
	if len(cidrs) == 0 {
		cidrs = []string{"0.0.0.0/0"}
	}
	return &cloud.ClusterFacts{Name: st.Profile.Cluster.Name, Exists: true, Status: "ACTIVE",
		EndpointPrivateAccess: w.PrivateAccess, EndpointPublicAccess: w.PublicAccess, PublicAccessCIDRs: cidrs, SecretsKeyARN: w.SecretsKeyARN}
}

func (f *fakeAWS) AccountID(context.Context) (string, error) {
	f.calls = append(f.calls, "AccountID")
	return "123456789012", nil
}

func (f *fakeAWS) ClusterExists(_ context.Context, name string) (bool, error) {
	f.calls = append(f.calls, "ClusterExists "+name)
	return f.exists, nil
}

func (f *fakeAWS) Stacks(_ context.Context, prefix string) ([]cloud.Stack, error) {
	f.calls = append(f.calls, "Stacks "+prefix)
	return f.stacks, nil
}

func (f *fakeAWS) ClusterNetwork(_ context.Context, name string) (*cloud.Network, error) {
	f.calls = append(f.calls, "ClusterNetwork "+name)
	if f.network == nil {
		return nil, errors.New("no cluster")
	}
	return f.network, nil
}

func (f *fakeAWS) RoleInlinePolicies(_ context.Context, role string) (map[string]string, bool, error) {
	f.calls = append(f.calls, "RoleInlinePolicies "+role)
	docs, ok := f.policies[role]
	return docs, ok, nil
}

func clusterState(t *testing.T, env string, r proc.Runner) *State {
	t.Helper()
	st := &State{
		Profile: config.Builtin(env),
		Dir:     filepath.Join(t.TempDir(), ".bootstrap", env),
		Services: Services{
			Runner: r,
			Tools:  map[string]string{},
		},
	}
	if st.Profile.App.Domain != "" {
		st.HostedZoneID = "Z0CLUSTERTEST" // CheckOwnership found it, before the cluster steps
	}
	return st
}

func TestCreateClusterWhenAbsent(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := clusterState(t, "production", r)
	file := st.Path(ClusterFile)
	r.Expect(`eksctl version`).Stdout("0.230.0\n")
	r.Expect(`eksctl create cluster -f ` + file).Do(func(c proc.Cmd) error {
		// The file exists when eksctl runs, and is what Render makes.
		got, err := os.ReadFile(c.Args[3])
		if err != nil {
			return err
		}
		cfg, err := RenderCluster(st.Profile, clusterLive(st))
		if err != nil {
			return err
		}
		want, _ := eksctl.Marshal(cfg)
		if string(got) != string(want) {
			t.Errorf("cluster.yaml differs from the rendered ClusterConfig")
		}
		return nil
	})
	aws := &fakeAWS{}
	err := Run(context.Background(), st, "bootstrap cluster --env production", []Step{CheckEksctl{}, CreateCluster{AWS: aws}})
	if err != nil {
		t.Fatal(err)
	}
	if st.AccountID != "123456789012" {
		t.Errorf("AccountID = %q", st.AccountID)
	}
}

func TestCreateClusterReconcilesExisting(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := clusterState(t, "staging", r)
	file := st.Path(ClusterFile)
	r.Expect(`eksctl utils associate-iam-oidc-provider -f ` + file + ` --approve`)
	r.Expect(`eksctl create iamserviceaccount -f ` + file + ` --approve`)
	r.Expect(`eksctl create nodegroup -f ` + file)
	aws := &fakeAWS{exists: true, stacks: []cloud.Stack{{Name: "eksctl-sovd-staging-cluster-cluster", Status: "CREATE_COMPLETE"}}, live: asProfile(t, st)}
	if err := (CreateCluster{AWS: aws}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	lines := strings.Join(r.Lines(), "\n")
	if strings.Contains(lines, "create cluster") {
		t.Errorf("ran create cluster on an existing cluster:\n%s", lines)
	}
}

func TestCreateClusterStopsOnFailedStack(t *testing.T) {
	t.Parallel()
	r := proctest.New(t) // no command may run
	st := clusterState(t, "production", r)
	aws := &fakeAWS{stacks: []cloud.Stack{{
		Name: "eksctl-sovd-production-cluster-cluster", Status: "ROLLBACK_COMPLETE",
		Reason: "The following resource(s) failed to create: [ControlPlane].",
	}}}
	err := (CreateCluster{AWS: aws}).Run(context.Background(), st)
	if err == nil {
		t.Fatal("ran on top of a rolled-back stack")
	}
	var prob *eksctl.StackProblem
	if !errors.As(err, &prob) {
		t.Fatalf("error is not a StackProblem: %v", err)
	}
	for _, want := range []string{
		"eksctl-sovd-production-cluster-cluster is ROLLBACK_COMPLETE",
		"eksctl delete cluster --name sovd-production-cluster --region us-east-1 --wait",
		"run `bootstrap teardown --env production` instead, which destroys the data tier first",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestCreateClusterFailureShowsLeftStack(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := clusterState(t, "staging", r)
	aws := &fakeAWS{}
	r.Expect(`eksctl create cluster -f .*`).Exit(1).Do(func(proc.Cmd) error {
		// What CloudFormation leaves when the control plane fails.
		aws.stacks = []cloud.Stack{{Name: "eksctl-sovd-staging-cluster-cluster", Status: "ROLLBACK_COMPLETE"}}
		return nil
	})
	err := (CreateCluster{AWS: aws}).Run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "eksctl delete cluster --name sovd-staging-cluster --region us-east-1 --wait") {
		t.Fatalf("error does not show the clearing command: %v", err)
	}
}

func TestCheckEksctlRefusesOldVersion(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := clusterState(t, "staging", r)
	st.Tools["eksctl"] = "/opt/eksctl/bin/eksctl"
	r.Expect(`/opt/eksctl/bin/eksctl version`).Stdout("0.190.0\n")
	err := (CheckEksctl{}).Run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "older than "+eksctl.MinVersion) {
		t.Fatalf("err = %v", err)
	}
}

func TestReadNetwork(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "production", proctest.New(t))
	n := &cloud.Network{VPCID: "vpc-1", PrivateSubnetIDs: []string{"subnet-a", "subnet-b", "subnet-c"},
		PublicSubnetIDs: []string{"subnet-d"}, ClusterSecurityGroupID: "sg-1", OIDCIssuer: "https://oidc.example/id/X"}
	aws := &fakeAWS{network: n}
	if err := (ReadNetwork{AWS: aws}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	got := st.Network
	if got == nil || got.VPCID != "vpc-1" || len(got.PrivateSubnetIDs) != 3 || got.ClusterSecurityGroupID != "sg-1" || got.OIDCIssuer != n.OIDCIssuer {
		t.Errorf("Network = %+v", got)
	}
}

func TestDeleteClusterAlreadyGone(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "staging", proctest.New(t)) // runs nothing
	if err := (DeleteCluster{AWS: &fakeAWS{}}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteClusterWithLeftStacks(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := clusterState(t, "staging", r)
	r.Expect(`eksctl delete cluster --name sovd-staging-cluster --region us-east-1 --wait --disable-nodegroup-eviction`)
	aws := &fakeAWS{stacks: []cloud.Stack{{Name: "eksctl-sovd-staging-cluster-cluster", Status: "ROLLBACK_COMPLETE"}}}
	if err := (DeleteCluster{AWS: aws}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

// TestClusterDescribeOffline: plan and runbook need no AWS and no eksctl.
func TestClusterDescribeOffline(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "production", nil)
	st.AWS = noAWS(t) // opening the run's AWS handle fails the test
	steps := append(ClusterSteps(), ClusterTeardownSteps()...)
	descs, err := Describe(context.Background(), st, steps)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var file *File
	for _, d := range descs {
		for _, a := range d.Actions {
			lines = append(lines, a.Tool+" "+strings.Join(a.Args, " "))
			for i := range a.Files {
				file = &a.Files[i]
			}
		}
	}
	path := st.RelPath(ClusterFile)
	want := []string{
		"eksctl version",
		"eksctl create cluster -f " + path,
		"eksctl utils associate-iam-oidc-provider -f " + path + " --approve",
		"eksctl create iamserviceaccount -f " + path + " --approve",
		"eksctl create nodegroup -f " + path,
		"eksctl update iamserviceaccount -f " + path + " --approve",
		"eksctl utils update-cluster-vpc-config -f " + path + " --approve",
		"aws logs tag-resource --region us-east-1 --resource-arn arn:aws:logs:us-east-1:<account-id>:log-group:/aws/eks/sovd-production-cluster/cluster --tags Application=sovd,Environment=production,ManagedBy=bootstrap,alpha.eksctl.io/cluster-name=sovd-production-cluster",
		"eksctl get cluster --name sovd-production-cluster --region us-east-1 -o json",
		"eksctl delete cluster --name sovd-production-cluster --region us-east-1 --wait --disable-nodegroup-eviction",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if file == nil || file.Path != path || !strings.Contains(file.Content, "kind: ClusterConfig") {
		t.Fatalf("the create action does not carry cluster.yaml: %+v", file)
	}
	if _, err := os.Stat(st.Path(ClusterFile)); !os.IsNotExist(err) {
		t.Errorf("Describe wrote %s", st.Path(ClusterFile))
	}
}

// TestClusterDescribeSecretsEncryption: with cluster.kmsKeyARN, plan and
// runbook show enable-secrets-encryption, gated on a cluster that exists
// and has no encryption (the runbook's found() takes True as found).
func TestClusterDescribeSecretsEncryption(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "production", nil)
	st.Profile.Cluster.KMSKeyARN = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	d, err := (CreateCluster{}).Describe(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	path := st.RelPath(ClusterFile)
	var got []string
	for _, a := range d.Actions {
		if len(a.Args) > 1 && a.Args[0] == "utils" && strings.HasPrefix(a.Args[1], "enable-secrets") || strings.HasPrefix(a.Args[1], "update-cluster-vpc") {
			got = append(got, strings.Join(a.Args, " ")+" if "+strings.Join(a.If, " "))
		}
	}
	want := []string{
		"utils enable-secrets-encryption -f " + path + " --approve if aws eks describe-cluster --region us-east-1 --name sovd-production-cluster --query !(cluster.encryptionConfig) --output text",
		"utils update-cluster-vpc-config -f " + path + " --approve if aws eks describe-cluster --region us-east-1 --name sovd-production-cluster --query cluster.name --output text",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCreateClusterConvergesSettings: on an existing cluster, the endpoint
// access and Secrets encryption are brought to the profile's, each command
// only when DescribeCluster differs; a Secrets key EKS cannot change stops
// the run before any command.
func TestCreateClusterConvergesSettings(t *testing.T) {
	t.Parallel()
	const key = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	const other = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	tests := []struct {
		name    string
		live    func(*cloud.ClusterFacts)
		run     []string // the converging commands, after the reconcile ones
		wantErr string
	}{
		{"as the profile", func(*cloud.ClusterFacts) {}, nil, ""},
		{"made before the settings: open endpoint, no encryption", func(f *cloud.ClusterFacts) {
			f.PublicAccessCIDRs, f.SecretsKeyARN = []string{"0.0.0.0/0"}, ""
		}, []string{"enable-secrets-encryption", "update-cluster-vpc-config"}, ""},
		{"private access off", func(f *cloud.ClusterFacts) { f.EndpointPrivateAccess = false }, []string{"update-cluster-vpc-config"}, ""},
		{"CIDRs in another order", func(f *cloud.ClusterFacts) { f.PublicAccessCIDRs = []string{"198.51.100.0/24", "203.0.113.0/24"} }, nil, ""},
		{"no encryption", func(f *cloud.ClusterFacts) { f.SecretsKeyARN = "" }, []string{"enable-secrets-encryption"}, ""},
		{"another key", func(f *cloud.ClusterFacts) { f.SecretsKeyARN = other; f.EndpointPublicAccess = false }, nil, "cluster.kmsKeyARN is " + key + ", but the cluster's Secrets are encrypted with " + other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := proctest.New(t)
			st := clusterState(t, "production", r)
			st.Profile.Cluster.KMSKeyARN = key
			st.Profile.Cluster.EndpointAccess.PublicCIDRs = []string{"203.0.113.0/24", "198.51.100.0/24"}
			file := st.Path(ClusterFile)
			if tt.wantErr == "" {
				for _, args := range reconcileArgs(file) {
					r.Expect("eksctl " + strings.Join(args, " "))
				}
				for _, c := range tt.run {
					r.Expect("eksctl utils " + c + " -f " + file + " --approve")
				}
			}
			facts := asProfile(t, st)
			tt.live(facts)
			aws := &fakeAWS{exists: true, live: facts, policies: irsaPolicies(t, st, "")}
			err := (CreateCluster{AWS: aws}).Run(context.Background(), st)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "EKS cannot change or remove")):
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// noAWS is a run's AWS handle that fails the test when opened.
func noAWS(t *testing.T) OpenAWSFunc {
	return func(context.Context) (*AWS, error) {
		t.Error("Describe opened AWS clients")
		return nil, errors.New("offline")
	}
}

// --- Process tests: the fake eksctl against moto (skipped with -short). ---

// buildFakeEksctl builds test/fakeeksctl into a temporary directory.
func buildFakeEksctl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "eksctl")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sovd/bootstrap/test/fakeeksctl")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the fake eksctl: %v\n%s", err, out)
	}
	return bin
}

// recordedCalls reads the fake's calls.jsonl.
func recordedCalls(t *testing.T, dir string) []fakeCall {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "calls.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var calls []fakeCall
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var c fakeCall
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
	}
	return calls
}

type fakeCall struct {
	Argv       []string `json:"argv"`
	ConfigFile string   `json:"configFile"`
	Config     string   `json:"config"`
}

func argvLines(calls []fakeCall) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = strings.Join(c.Argv, " ")
	}
	return out
}

// processState is a State running real processes for a built-in profile.
func processState(t *testing.T, env, eksctlBin string) (*State, *bytes.Buffer) {
	t.Helper()
	p := config.Builtin(env)
	if probs := config.ValidateProfile(p, time.Now()); len(probs) > 0 {
		t.Fatal(probs)
	}
	if p.App.Domain != "" && os.Getenv("AWS_ENDPOINT_URL") != "" {
		withHostedZone(t, p.App.Domain)
	}
	log := &bytes.Buffer{}
	return &State{
		Profile: p,
		Dir:     filepath.Join(t.TempDir(), ".bootstrap", env),
		Services: Services{
			Runner: &proc.Exec{Log: log},
			Tools:  map[string]string{"eksctl": eksctlBin},
			AWS:    RegionAWS(p.Region),
		},
	}, log
}

// clusterCounts counts what the fake made for a cluster, to show a re-run
// creates nothing twice.
type clusterCounts struct {
	vpcs, subnets, nats, roles, oidc, nodegroups int
}

func countCluster(t *testing.T, ctx context.Context, c *cloud.Clients, st *State, vpcID string) clusterCounts {
	t.Helper()
	name := st.Profile.Cluster.Name
	tag := []ec2types.Filter{{Name: aws.String("tag:alpha.eksctl.io/cluster-name"), Values: []string{name}}}
	var n clusterCounts
	vpcs, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: tag})
	if err != nil {
		t.Fatal(err)
	}
	n.vpcs = len(vpcs.Vpcs)
	subnets, err := c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: tag})
	if err != nil {
		t.Fatal(err)
	}
	n.subnets = len(subnets.Subnets)
	nats, err := c.EC2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpcID}},
		{Name: aws.String("state"), Values: []string{"pending", "available"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	n.nats = len(nats.NatGateways)
	for _, sa := range mustIRSARoles(t, st.Profile) {
		if arn, err := c.RoleARN(ctx, sa.RoleName); err != nil {
			t.Fatal(err)
		} else if arn != "" {
			n.roles++
		}
	}
	providers, err := c.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range providers.OpenIDConnectProviderList {
		tags, err := c.IAM.ListOpenIDConnectProviderTags(ctx, &iam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: p.Arn})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range tags.Tags {
			if aws.ToString(tg.Key) == "alpha.eksctl.io/cluster-name" && aws.ToString(tg.Value) == name {
				n.oidc++
			}
		}
	}
	if ngs, err := c.EKS.ListNodegroups(ctx, &eks.ListNodegroupsInput{ClusterName: aws.String(name)}); err == nil {
		n.nodegroups = len(ngs.Nodegroups)
	}
	return n
}

// runClusterProcess is the whole cluster phase against moto: create, check
// what exists, re-run (reconcile, nothing twice), tear down.
func runClusterProcess(t *testing.T, env string) {
	ctx := context.Background()
	bin := buildFakeEksctl(t)
	st, log := processState(t, env, bin)
	rec := t.TempDir()
	t.Setenv("FAKE_EKSCTL_RECORD", rec)
	p := st.Profile
	path := st.Path(ClusterFile)
	if p.App.Domain != "" {
		st.HostedZoneID = "Z0CLUSTERTEST" // what CheckOwnership finds, before the cluster steps
	}

	if err := Run(ctx, st, "bootstrap cluster", ClusterSteps()); err != nil {
		t.Fatalf("%v\nrun log:\n%s", err, log)
	}

	// eksctl ran as bootstrap says, on the file bootstrap rendered.
	calls := recordedCalls(t, rec)
	wantArgv := []string{"version", "create cluster -f " + path}
	if got := argvLines(calls); strings.Join(got, "\n") != strings.Join(wantArgv, "\n") {
		t.Fatalf("eksctl calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantArgv, "\n"))
	}
	cfg, err := RenderCluster(p, clusterLive(st))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := eksctl.Marshal(cfg)
	if calls[1].Config != string(want) {
		t.Errorf("eksctl was given a config other than the rendered one:\n%s", calls[1].Config)
	}

	// What the next phases read.
	n := st.Network
	if n == nil {
		t.Fatal("State.Network not set")
	}
	c, err := cloud.New(ctx, p.Region)
	if err != nil {
		t.Fatal(err)
	}
	vpcs, err := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{n.VPCID}})
	if err != nil || len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].CidrBlock) != p.Cluster.VPCCIDR {
		t.Fatalf("VPC %s: %v %+v, want CIDR %s", n.VPCID, err, vpcs, p.Cluster.VPCCIDR)
	}
	if len(n.PrivateSubnetIDs) != 3 || len(n.PublicSubnetIDs) != 3 {
		t.Fatalf("subnets: private %v, public %v; want 3 + 3", n.PrivateSubnetIDs, n.PublicSubnetIDs)
	}
	subnets, err := c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: n.PrivateSubnetIDs})
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]bool{}
	for _, s := range subnets.Subnets {
		zones[aws.ToString(s.AvailabilityZone)] = true
		if aws.ToBool(s.MapPublicIpOnLaunch) {
			t.Errorf("private subnet %s maps public IPs", aws.ToString(s.SubnetId))
		}
	}
	if len(zones) != 3 {
		t.Errorf("private subnets span %d zones, want 3", len(zones))
	}
	if n.ClusterSecurityGroupID == "" || !strings.HasPrefix(n.OIDCIssuer, "https://") {
		t.Errorf("cluster security group %q, OIDC issuer %q", n.ClusterSecurityGroupID, n.OIDCIssuer)
	}
	ng, err := c.EKS.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(p.Cluster.Name), NodegroupName: aws.String("general")})
	if err != nil {
		t.Fatal(err)
	}
	if got := ng.Nodegroup.Subnets; strings.Join(sortedCopy(got), ",") != strings.Join(sortedCopy(n.PrivateSubnetIDs), ",") {
		t.Errorf("node group subnets %v, want the private ones %v", got, n.PrivateSubnetIDs)
	}
	wantNG := p.Cluster.NodeGroup
	if got := ng.Nodegroup.InstanceTypes; len(got) != 1 || got[0] != wantNG.InstanceType || aws.ToInt32(ng.Nodegroup.ScalingConfig.DesiredSize) != int32(wantNG.Desired) {
		t.Errorf("node group %v x%d, want %s x%d", got, aws.ToInt32(ng.Nodegroup.ScalingConfig.DesiredSize), wantNG.InstanceType, wantNG.Desired)
	}
	// The IRSA roles exist under their fixed names, trusting the cluster's
	// provider for their service account, with their inline policy.
	for _, sa := range mustIRSARoles(t, p) {
		role, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(sa.RoleName)})
		if err != nil {
			t.Fatalf("IRSA role %s: %v", sa.RoleName, err)
		}
		trust, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
		host := strings.TrimPrefix(n.OIDCIssuer, "https://")
		if !strings.Contains(trust, "oidc-provider/"+host) || !strings.Contains(trust, "system:serviceaccount:"+sa.Namespace+":"+sa.Name) {
			t.Errorf("role %s trust policy does not bind %s/%s to the cluster's provider:\n%s", sa.RoleName, sa.Namespace, sa.Name, trust)
		}
		pols, err := c.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(sa.RoleName)})
		if err != nil || len(pols.PolicyNames) != 1 {
			t.Errorf("role %s inline policies %v: %v", sa.RoleName, pols, err)
		}
	}
	first := countCluster(t, ctx, c, st, n.VPCID)
	// A NAT gateway per zone when HighlyAvailable, one when Single.
	nats := 3
	if p.Cluster.NAT == "Single" {
		nats = 1
	}
	if (first != clusterCounts{vpcs: 1, subnets: 6, nats: nats, roles: len(mustIRSARoles(t, p)), oidc: 1, nodegroups: 1}) {
		t.Errorf("made %+v", first)
	}

	// A second run reconciles instead of failing, and creates nothing twice.
	st.Network = nil
	if err := Run(ctx, st, "bootstrap cluster", ClusterSteps()); err != nil {
		t.Fatalf("re-run: %v\nrun log:\n%s", err, log)
	}
	wantArgv = append(wantArgv,
		"version",
		"utils associate-iam-oidc-provider -f "+path+" --approve",
		"create iamserviceaccount -f "+path+" --approve",
		"create nodegroup -f "+path,
	)
	if got := argvLines(recordedCalls(t, rec)); strings.Join(got, "\n") != strings.Join(wantArgv, "\n") {
		t.Errorf("eksctl calls after the re-run:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantArgv, "\n"))
	}
	if again := countCluster(t, ctx, c, st, n.VPCID); again != first {
		t.Errorf("re-run changed what exists: %+v, was %+v", again, first)
	}
	if st.Network == nil || st.Network.VPCID != n.VPCID {
		t.Errorf("re-run read network %+v, want VPC %s", st.Network, n.VPCID)
	}

	// A role whose policy is not the file's (changed by hand, or the file's
	// changed with a pin): create iamserviceaccount leaves it, the run
	// updates it with update iamserviceaccount.
	lbc := cfg.IAM.ServiceAccounts[0]
	policy := eksctl.IAMServiceAccountStack(p.Cluster.Name, lbc.Namespace, lbc.Name) + "-Policy1"
	if _, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(lbc.RoleName), PolicyName: aws.String(policy),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeVpcs","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if err := Run(ctx, st, "bootstrap cluster", ClusterSteps()); err != nil {
		t.Fatalf("re-run after a policy change: %v\nrun log:\n%s", err, log)
	}
	wantArgv = append(wantArgv,
		"version",
		"utils associate-iam-oidc-provider -f "+path+" --approve",
		"create iamserviceaccount -f "+path+" --approve",
		"create nodegroup -f "+path,
		"update iamserviceaccount -f "+path+" --approve",
	)
	if got := argvLines(recordedCalls(t, rec)); strings.Join(got, "\n") != strings.Join(wantArgv, "\n") {
		t.Errorf("eksctl calls after the policy change:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantArgv, "\n"))
	}
	docs, _, err := c.RoleInlinePolicies(ctx, lbc.RoleName)
	if err != nil {
		t.Fatal(err)
	}
	if have, wantDoc := mustCanonical(t, docs[policy]), mustCanonical(t, lbc.AttachPolicy); have != wantDoc {
		t.Errorf("role %s policy after the run:\n%s\nwant\n%s", lbc.RoleName, have, wantDoc)
	}

	// Teardown removes what create made; a second teardown has nothing to do.
	for i := 0; i < 2; i++ {
		if err := Run(ctx, st, "bootstrap teardown", ClusterTeardownSteps()); err != nil {
			t.Fatalf("teardown %d: %v\nrun log:\n%s", i+1, err, log)
		}
	}
	if gone := countCluster(t, ctx, c, st, n.VPCID); gone != (clusterCounts{}) {
		t.Errorf("left after teardown: %+v", gone)
	}
	if exists, err := c.ClusterExists(ctx, p.Cluster.Name); err != nil || exists {
		t.Errorf("cluster still exists (%v)", err)
	}
	if got := argvLines(recordedCalls(t, rec)); len(got) != len(wantArgv)+1 {
		t.Errorf("teardown ran eksctl %d times, want once: %v", len(got)-len(wantArgv), got[len(wantArgv):])
	}
}

func mustCanonical(t *testing.T, v any) string {
	t.Helper()
	s, err := canonicalJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestCheckEksctlWithFake runs the version check on a real process: the
// fake prints what eksctl prints.
func TestCheckEksctlWithFake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fake eksctl")
	}
	if testenv.OwnProcess(t) {
		return
	}
	st, _ := processState(t, "staging", buildFakeEksctl(t))
	if err := (CheckEksctl{}).Run(context.Background(), st); err != nil {
		t.Fatalf("eksctl %s refused: %v", eksctl.MinVersion, err)
	}
	t.Setenv("FAKE_EKSCTL_VERSION", "0.229.0")
	err := (CheckEksctl{}).Run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "0.229.0 is older than "+eksctl.MinVersion) {
		t.Fatalf("err = %v", err)
	}
}

// TestClusterProcess runs the cluster phase with the fake eksctl against a
// moto server of its own, for each built-in profile (production: a NAT
// gateway per zone, 3 x t3.large; staging: one NAT): create, then a re-run
// that reconciles and creates nothing twice, then teardown.
func TestClusterProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("process test: builds the fake eksctl and starts moto")
	}
	if testenv.OwnProcess(t) {
		return
	}
	for _, env := range config.BuiltinEnvironments {
		t.Run(env, func(t *testing.T) {
			testenv.Moto(t).Use(t)
			runClusterProcess(t, env)
		})
	}
}

// settlingAWS reports the cluster stack in progress for a few calls, as
// CloudFormation does after an interrupted eksctl, then complete.
type settlingAWS struct {
	fakeAWS
	busy int
}

func (f *settlingAWS) Stacks(ctx context.Context, prefix string) ([]cloud.Stack, error) {
	if f.busy > 0 {
		f.busy--
		return []cloud.Stack{{Name: "eksctl-sovd-staging-cluster-cluster", Status: "CREATE_IN_PROGRESS"}}, nil
	}
	f.exists = true
	return []cloud.Stack{{Name: "eksctl-sovd-staging-cluster-cluster", Status: "CREATE_COMPLETE"}}, nil
}

// TestCreateClusterWaitsForAStackStillBeingMade: the re-run after a Ctrl-C
// during eksctl create finds the stack CloudFormation is still making,
// waits for it, and then reconciles the cluster it made.
func TestCreateClusterWaitsForAStackStillBeingMade(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := clusterState(t, "staging", r)
	var out bytes.Buffer
	st.Progress = NewProgress(&out, false, false)
	st.Poll = Backoff{Initial: time.Millisecond, Max: time.Millisecond}
	for _, args := range reconcileArgs(st.Path(ClusterFile)) {
		r.Expect("eksctl " + strings.Join(args, " "))
	}
	aws := &settlingAWS{busy: 3}
	aws.live = asProfile(t, st)
	if err := (CreateCluster{AWS: aws}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if aws.busy != 0 || !strings.Contains(out.String(), "stack eksctl-sovd-staging-cluster-cluster is CREATE_IN_PROGRESS (CloudFormation goes on after an interrupted eksctl): waiting for it") {
		t.Errorf("busy %d, progress:\n%s", aws.busy, out.String())
	}
}

// withHostedZone plays the account's owner, who made and delegated the
// public zone of the profile's domain (production's sovd.production.com
// lives in production.com) before running bootstrap: in moto, once.
func withHostedZone(t *testing.T, domain string) {
	t.Helper()
	ctx := context.Background()
	c, err := cloud.New(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	zone := domain[strings.Index(domain, ".")+1:]
	if _, err := c.FindHostedZone(ctx, domain); err == nil {
		return
	}
	if _, err := route53.NewFromConfig(c.Config).CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String(zone), CallerReference: aws.String("test-" + zone)}); err != nil {
		t.Fatal(err)
	}
}

// mustIRSARoles are the environment's IRSA roles, from the add-ons' records.
func mustIRSARoles(t *testing.T, p *config.Profile) []addons.IRSARole {
	t.Helper()
	roles, err := addons.IRSARoles(p, addons.Live{HostedZoneID: "<hosted-zone-id>"})
	if err != nil {
		t.Fatal(err)
	}
	return roles
}
