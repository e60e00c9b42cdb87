package status

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
)

// TestStatusProcess runs `bootstrap status` for real against moto, after
// the cluster phase made the cluster with the fake eksctl: the cluster side
// exists and is healthy, the data tier is reported missing (the data phase
// is not run here: it costs about 3 minutes, and its reads are the same
// calls on other services), and the releases are unknown for want of a
// kubeconfig, then read with helm from the local control plane when one
// runs. Last, an unreachable AWS fails the command.
func TestStatusProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("process test: builds the fake eksctl and starts moto")
	}
	if testenv.OwnProcess(t) {
		return
	}
	m := testenv.Moto(t)
	m.Use(t)
	t.Setenv("FAKE_EKSCTL_RECORD", t.TempDir())
	ctx := context.Background()
	work := t.TempDir()
	const env = "staging"
	p := config.Builtin(env)

	log := &bytes.Buffer{}
	st := &pipeline.State{
		Profile: p,
		Dir:     filepath.Join(work, ".bootstrap", env),
		Services: pipeline.Services{
			Runner: &proc.Exec{Log: log},
			Tools:  map[string]string{"eksctl": buildFakeEksctl(t)},
			AWS:    pipeline.RegionAWS(p.Region), // moto's, through AWS_ENDPOINT_URL
		},
	}
	if err := pipeline.Run(ctx, st, "bootstrap cluster", pipeline.ClusterSteps()); err != nil {
		t.Fatalf("cluster phase: %v\n%s", err, log)
	}

	// The AWS calls of one status, counted: each component is read once.
	calls := testenv.NewAWSCalls()
	rep, err := runStatusCounted(t, &bytes.Buffer{}, work, nil, calls, "--env", env, "-o", "json")
	if err != nil {
		t.Fatalf("status after the cluster phase: %v", err)
	}
	t.Logf("AWS calls of one status (%d):\n%s", calls.Total(), calls)
	// The account once (the check and S3's ExpectedBucketOwner share it),
	// the cluster once.
	for op, want := range map[string]int{"STS.GetCallerIdentity": 1, "EKS.DescribeCluster": 1} {
		if got := calls.Get(op); got != want {
			t.Errorf("one status called %s %d times, want %d", op, got, want)
		}
	}
	want := map[string][2]string{ // by kind and name: exists, healthy
		Key(KindCluster, p.Cluster.Name):                             {Yes, Yes},
		Key(KindNodeGroup, p.Cluster.NodeGroup.Name):                 {Yes, Yes},
		Key(KindDatabase, p.Database.Identifier):                     {No, NA},
		Key(KindRedis, p.Redis.ReplicationGroupID):                   {No, NA},
		Key(KindState, p.StateBucketName(testenv.MotoAccountID)):     {No, NA},
		Key(KindStorage, p.StorageBucketName(testenv.MotoAccountID)): {No, NA},
	}
	for _, r := range IRSARoles(p) {
		want[Key(KindRole, r)] = [2]string{Yes, Yes}
	}
	// The EKS add-ons the fake eksctl made as eksctl does from the
	// ClusterConfig: vpc-cni, kube-proxy, coredns, no metrics-server.
	for _, a := range []string{"vpc-cni", "kube-proxy", "coredns"} {
		want[Key(KindAddon, a)] = [2]string{Yes, Yes}
	}
	for _, s := range p.SecretNames() {
		want[Key(KindSecret, s)] = [2]string{No, NA}
	}
	for _, r := range p.Registry.Repositories {
		want[Key(KindRepository, r)] = [2]string{No, NA}
	}
	seen := 0
	for _, r := range rep.Components {
		if r.Component == KindRelease {
			if r.Exists != Unknown || !strings.Contains(r.Detail, "no kubeconfig at .bootstrap/staging/kubeconfig") {
				t.Errorf("release %s without a kubeconfig: %+v", r.Name, r)
			}
			continue
		}
		w, ok := want[Key(r.Component, r.Name)]
		if !ok {
			t.Errorf("unexpected row %+v", r)
			continue
		}
		seen++
		if r.Exists != w[0] || r.Healthy != w[1] || len(r.Drift) != 0 {
			t.Errorf("%s %s: exists %s healthy %s drift %v (%s), want %s %s and no drift", r.Component, r.Name, r.Exists, r.Healthy, r.Drift, r.Detail, w[0], w[1])
		}
	}
	if seen != len(want) {
		t.Errorf("saw %d of %d AWS rows", seen, len(want))
	}
	// The cluster, its node group, the IRSA roles and the 3 EKS add-ons
	// exist; the data tier's 9 components do not; the releases are not
	// asked without a kubeconfig.
	roles, releases := len(IRSARoles(p)), len(addons.All)
	made := 2 + roles + 3
	summary := fmt.Sprintf("%d components: %d exist, %d healthy, 0 drifted, %d unknown.", made+9+releases, made, made, releases)
	text := &bytes.Buffer{}
	if _, err := runStatusTo(t, text, work, nil, "--env", env); err != nil || !strings.Contains(text.String(), summary) {
		t.Errorf("text status: %v\n%s", err, text)
	}
	t.Logf("bootstrap status --env %s after the cluster phase:\n%s", env, text)

	// With a kubeconfig and helm, the releases are read (whatever other
	// tests sharing the control plane have installed: exists is yes or no).
	if os.Getenv(testenv.EnvKubeconfig) != "" || testenv.InCI() {
		kc, helm := testenv.Kube(t), testenv.Helm(t)
		rep, err = runStatus(t, work, map[string]string{"helm": helm}, "--env", env, "-o", "json", "--kubeconfig", kc)
		if err != nil {
			t.Fatalf("status with a kubeconfig: %v", err)
		}
		for _, r := range rep.Components {
			if r.Component == KindRelease && r.Exists == Unknown {
				t.Errorf("release %s not read: %+v", r.Name, r)
			}
		}
	} else {
		t.Logf("helm part skipped: %s is not set", testenv.EnvKubeconfig)
	}

	// An AWS that cannot be reached is a failure, with no table.
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	if _, err := runStatus(t, work, nil, "--env", env); err == nil || !strings.Contains(err.Error(), "reading the AWS account") {
		t.Errorf("unreachable AWS: %v", err)
	}
}

// runStatus runs the command as the CLI would, in work, and decodes its
// JSON (when it printed any).
func runStatus(t *testing.T, work string, tools map[string]string, args ...string) (Report, error) {
	t.Helper()
	return runStatusTo(t, &bytes.Buffer{}, work, tools, args...)
}

func runStatusTo(t *testing.T, out *bytes.Buffer, work string, tools map[string]string, args ...string) (Report, error) {
	t.Helper()
	return runStatusCounted(t, out, work, tools, nil, args...)
}

// runStatusCounted is runStatusTo with the run's AWS calls counted in calls
// (nil: not counted).
func runStatusCounted(t *testing.T, out *bytes.Buffer, work string, tools map[string]string, calls *testenv.AWSCalls, args ...string) (Report, error) {
	t.Helper()
	f := &factory.Factory{
		IO:      &factory.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: &bytes.Buffer{}},
		WorkDir: work,
		Now:     time.Now,
		Tools:   tools,
	}
	if calls != nil {
		f.AWS = func(ctx context.Context, region string) (*pipeline.AWS, error) {
			return cloud.New(ctx, region, calls.Option())
		}
	}
	cmd := NewCmd(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.ExecuteContext(context.Background())
	var rep Report
	if out.Len() > 0 && strings.HasPrefix(out.String(), "{") {
		if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
			t.Fatalf("status -o json printed no JSON: %v\n%s", jerr, out)
		}
	}
	return rep, err
}

func buildFakeEksctl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "eksctl")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sovd/bootstrap/test/fakeeksctl").CombinedOutput(); err != nil {
		t.Fatalf("building the fake eksctl: %v\n%s", err, out)
	}
	return bin
}
