package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/proc/proctest"
)

// fakeAWS is a ClusterAPI answering from fields.
type fakeAWS struct {
	exists  bool
	stacks  []cloud.Stack
	network *cloud.Network
	calls   []string
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

func (f *fakeAWS) open(context.Context, string) (ClusterAPI, error) { return f, nil }

func clusterState(t *testing.T, env string, r proc.Runner) *State {
	t.Helper()
	return &State{
		Profile: config.Builtin(env),
		Runner:  r,
		Dir:     filepath.Join(t.TempDir(), ".bootstrap", env),
		Tools:   map[string]string{},
	}
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
		cfg, err := eksctl.Render(st.Profile)
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
	err := Run(context.Background(), st, "bootstrap cluster --env production", []Step{CheckEksctl{}, CreateCluster{AWS: aws.open}})
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
	aws := &fakeAWS{exists: true, stacks: []cloud.Stack{{Name: "eksctl-sovd-staging-cluster-cluster", Status: "CREATE_COMPLETE"}}}
	if err := (CreateCluster{AWS: aws.open}).Run(context.Background(), st); err != nil {
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
	err := (CreateCluster{AWS: aws.open}).Run(context.Background(), st)
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
	err := (CreateCluster{AWS: aws.open}).Run(context.Background(), st)
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
	if err := (ReadNetwork{AWS: aws.open}).Run(context.Background(), st); err != nil {
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
	if err := (DeleteCluster{AWS: (&fakeAWS{}).open}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteClusterWithLeftStacks(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := clusterState(t, "staging", r)
	r.Expect(`eksctl delete cluster --name sovd-staging-cluster --region us-east-1 --wait --disable-nodegroup-eviction`)
	aws := &fakeAWS{stacks: []cloud.Stack{{Name: "eksctl-sovd-staging-cluster-cluster", Status: "ROLLBACK_COMPLETE"}}}
	if err := (DeleteCluster{AWS: aws.open}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

// TestClusterDescribeOffline: plan and runbook need no AWS and no eksctl.
func TestClusterDescribeOffline(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "production", nil)
	steps := append(ClusterSteps(), ClusterTeardownSteps()...)
	for i, s := range steps {
		// Any AWS call fails the test.
		switch v := s.(type) {
		case CreateCluster:
			v.AWS = noAWS(t)
			steps[i] = v
		case ReadNetwork:
			v.AWS = noAWS(t)
			steps[i] = v
		case DeleteCluster:
			v.AWS = noAWS(t)
			steps[i] = v
		}
	}
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
	path := st.Path(ClusterFile)
	want := []string{
		"eksctl version",
		"eksctl create cluster -f " + path,
		"eksctl utils associate-iam-oidc-provider -f " + path + " --approve",
		"eksctl create iamserviceaccount -f " + path + " --approve",
		"eksctl create nodegroup -f " + path,
		"eksctl get cluster --name sovd-production-cluster --region us-east-1 -o json",
		"eksctl delete cluster --name sovd-production-cluster --region us-east-1 --wait --disable-nodegroup-eviction",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if file == nil || file.Path != path || !strings.Contains(file.Content, "kind: ClusterConfig") {
		t.Fatalf("the create action does not carry cluster.yaml: %+v", file)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Describe wrote %s", path)
	}
}

func noAWS(t *testing.T) OpenAWS {
	return func(context.Context, string) (ClusterAPI, error) {
		t.Error("Describe opened AWS clients")
		return nil, errors.New("offline")
	}
}
