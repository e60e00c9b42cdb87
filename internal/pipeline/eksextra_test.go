package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	eksapi "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/proc/proctest"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/test/charts"
)

// fakeEKSExtra is an EKSExtraAPI answering from fields.
type fakeEKSExtra struct {
	addons      map[string]cloud.AddonFacts // by name; an add-on is gone once eksctl deleted it
	clusterTags map[string]string           // nil: no cluster
	logGroup    *cloud.LogGroupFacts
	deleted     []string
	calls       []string
}

func (f *fakeEKSExtra) AddonFacts(_ context.Context, cluster, name string) (cloud.AddonFacts, error) {
	f.calls = append(f.calls, "AddonFacts "+name)
	a, ok := f.addons[name]
	if !ok {
		return cloud.AddonFacts{Name: name}, nil
	}
	return a, nil
}

func (f *fakeEKSExtra) ClusterTags(context.Context, string) (map[string]string, bool, error) {
	return f.clusterTags, f.clusterTags != nil, nil
}

func (f *fakeEKSExtra) LogGroupFacts(_ context.Context, name string) (cloud.LogGroupFacts, error) {
	if f.logGroup == nil {
		return cloud.LogGroupFacts{Name: name}, nil
	}
	return *f.logGroup, nil
}

func (f *fakeEKSExtra) TagLogGroup(_ context.Context, arn string, tags map[string]string) error {
	f.calls = append(f.calls, "TagLogGroup "+arn+" "+cloud.TagsString(tags))
	if f.logGroup.Tags == nil {
		f.logGroup.Tags = map[string]string{}
	}
	for k, v := range tags {
		f.logGroup.Tags[k] = v
	}
	return nil
}

func (f *fakeEKSExtra) DeleteLogGroup(_ context.Context, name string) error {
	f.deleted = append(f.deleted, name)
	f.logGroup = nil
	return nil
}

// noEKSExtras is a cluster without EKS add-ons.
func noEKSExtras() *fakeEKSExtra { return &fakeEKSExtra{} }

func TestRemoveReplacedAddons(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := clusterState(t, "staging", r)
	st.Progress = NewProgress(&strings.Builder{}, false, false)
	f := &fakeEKSExtra{addons: map[string]cloud.AddonFacts{
		"metrics-server": {Name: "metrics-server", Exists: true, Status: "ACTIVE", Version: "v0.8.0-eksbuild.2"},
		"vpc-cni":        {Name: "vpc-cni", Exists: true, Status: "ACTIVE"},
	}}
	r.Expect(`eksctl delete addon --cluster sovd-staging-cluster --name metrics-server --region us-east-1`).Do(func(proc.Cmd) error {
		delete(f.addons, "metrics-server")
		return nil
	})
	if err := (RemoveReplacedAddons{AWS: f}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.addons["vpc-cni"]; !ok {
		t.Error("vpc-cni was deleted")
	}
	// Again: nothing to delete, eksctl not run (proctest fails on an
	// unexpected command).
	if err := (RemoveReplacedAddons{AWS: f}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

func TestLogGroupClaimedThenDeleted(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "staging", proctest.New(t))
	st.Progress = NewProgress(&strings.Builder{}, false, false)
	ours := map[string]string{"Environment": "staging", "Application": "sovd", "ManagedBy": "bootstrap"}
	name := cloud.ControlPlaneLogGroup("sovd-staging-cluster")

	// Untagged (as EKS makes it): not deleted.
	f := &fakeEKSExtra{clusterTags: ours, logGroup: &cloud.LogGroupFacts{Name: name, Exists: true, ARN: "arn:lg"}}
	if err := (DeleteLogGroup{AWS: f}).Run(context.Background(), st); err != nil || len(f.deleted) != 0 {
		t.Fatalf("untagged log group: deleted %v, %v", f.deleted, err)
	}
	// Claimed while the cluster proves it ours, then deleted.
	if err := (ClaimLogGroup{AWS: f}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if f.logGroup.Tags["alpha.eksctl.io/cluster-name"] != "sovd-staging-cluster" || !cloud.Ownership(ours).Owns(f.logGroup.Tags) {
		t.Fatalf("log group tags after the claim: %v", f.logGroup.Tags)
	}
	if err := (DeleteLogGroup{AWS: f}).Run(context.Background(), st); err != nil || len(f.deleted) != 1 {
		t.Fatalf("claimed log group: deleted %v, %v", f.deleted, err)
	}
	if err := (DeleteLogGroup{AWS: f}).Run(context.Background(), st); err != nil || len(f.deleted) != 1 {
		t.Fatalf("already gone: deleted %v, %v", f.deleted, err)
	}

	// A cluster of another environment of the same name: no claim.
	other := &fakeEKSExtra{clusterTags: map[string]string{"Environment": "qa", "Application": "sovd", "ManagedBy": "bootstrap"},
		logGroup: &cloud.LogGroupFacts{Name: name, Exists: true, ARN: "arn:lg"}}
	if err := (ClaimLogGroup{AWS: other}).Run(context.Background(), st); err == nil || !strings.Contains(err.Error(), "Environment=qa") {
		t.Errorf("claim on another environment's cluster: %v", err)
	}
	if len(other.logGroup.Tags) != 0 {
		t.Errorf("tagged another environment's log group: %v", other.logGroup.Tags)
	}
	// A log group another environment claimed.
	taken := &fakeEKSExtra{clusterTags: ours, logGroup: &cloud.LogGroupFacts{Name: name, Exists: true, ARN: "arn:lg",
		Tags: map[string]string{"Environment": "qa"}}}
	if err := (ClaimLogGroup{AWS: taken}).Run(context.Background(), st); err == nil || !strings.Contains(err.Error(), "another environment") {
		t.Errorf("claim on a log group tagged for another environment: %v", err)
	}
}

// TestCreateClusterUpdatesChangedIRSAPolicies: on an existing cluster,
// create iamserviceaccount leaves existing roles alone, so a policy that
// differs from the file is updated with update iamserviceaccount; when all
// agree nothing more runs.
func TestCreateClusterUpdatesChangedIRSAPolicies(t *testing.T) {
	t.Parallel()
	live := func(st *State, stale string) map[string]map[string]string { return irsaPolicies(t, st, stale) }
	for _, stale := range []string{"", "sovd-staging-aws-load-balancer-controller"} {
		t.Run("stale="+stale, func(t *testing.T) {
			t.Parallel()
			r := proctest.New(t)
			st := clusterState(t, "staging", r)
			st.Progress = NewProgress(&strings.Builder{}, false, false)
			file := st.Path(ClusterFile)
			r.Expect(`eksctl utils associate-iam-oidc-provider -f ` + file + ` --approve`)
			r.Expect(`eksctl create iamserviceaccount -f ` + file + ` --approve`)
			r.Expect(`eksctl create nodegroup -f ` + file)
			if stale != "" {
				r.Expect(`eksctl update iamserviceaccount -f ` + file + ` --approve`)
			}
			aws := &fakeAWS{exists: true, stacks: []cloud.Stack{{Name: "eksctl-sovd-staging-cluster-cluster", Status: "CREATE_COMPLETE"}}, policies: live(st, stale), live: asProfile(t, st)}
			if err := (CreateCluster{AWS: aws}).Run(context.Background(), st); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestUpConvergesOverEksctlMetricsServer is an environment made by the
// ClusterConfig bootstrap rendered before it disabled eksctl's default
// add-ons: the fake eksctl (as eksctl 0.230.0) made metrics-server an EKS
// add-on, with its objects labelled as EKS labels them on the cluster (the
// local control plane). Helm alone refuses those objects; `up`'s cluster
// lane (the cluster steps, then the releases) converges: the add-on is
// deleted with eksctl and the release installed. The same old environment
// predates the profile's endpoint limit and Secrets key (public endpoint
// open to all, private access off, no encryption): up converges them with
// eksctl, and a second run of the cluster step runs neither command.
func TestUpConvergesOverEksctlMetricsServer(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	helm := testenv.Helm(t)
	// Its own control plane: it installs metrics-server's objects (eksctl's
	// add-on, then the Helm release) under their fixed names in kube-system.
	kubeconfig := testenv.OwnKube(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Missing(t, "kubectl", "not on PATH")
	}
	testenv.Moto(t).Use(t)
	t.Setenv("FAKE_EKSCTL_KUBECONFIG", kubeconfig)
	t.Setenv("FAKE_EKSCTL_KUBECTL", kubectl)
	k := kube{t: t, kubectl: kubectl, kubeconfig: kubeconfig}
	hook := charts.StartWebhook(t)
	src, err := charts.Build(filepath.Join(t.TempDir(), "charts"), charts.Options{WebhookURL: hook.URL, WebhookCA: hook.CA})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fake := buildFakeEksctl(t)
	st, log := processState(t, "staging", fake)
	st.Tools["helm"], st.Tools["kubectl"] = helm, kubectl
	st.Progress = NewProgress(log, false, false)
	st.Poll = Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	opts := AddonOptions{Kubeconfig: kubeconfig, Charts: src, Timeout: 30 * time.Second}

	// The profile as it is now: its endpoint limited, its Secrets encrypted.
	const key = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	st.Profile.Cluster.KMSKeyARN = key
	st.Profile.Cluster.EndpointAccess = config.EndpointAccess{Private: true, Public: true, PublicCIDRs: []string{"203.0.113.0/24"}}

	// The old environment: eksctl's defaults on, the endpoint open, no
	// encryption.
	cfg, err := RenderCluster(st.Profile, clusterLive(st))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AddonsConfig, cfg.Addons, cfg.UpgradePolicy = eksapi.AddonsConfig{}, nil, nil
	cfg.VPC.ClusterEndpoints.PrivateAccess, cfg.VPC.PublicAccessCIDRs, cfg.SecretsEncryption = eksapi.Disabled(), nil, nil
	old, err := eksctl.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	oldFile := filepath.Join(t.TempDir(), "old-cluster.yaml")
	if err := os.WriteFile(oldFile, old, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(fake, eksctl.CreateCluster(oldFile)...).CombinedOutput(); err != nil {
		t.Fatalf("the old environment's create cluster: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := Run(ctx, st, "bootstrap teardown", AddonTeardownSteps(opts)); err != nil {
			t.Errorf("uninstalling the releases: %v\n%s", err, lastLines(log.String(), 20))
		}
		if out, err := exec.Command(fake, eksctl.DeleteCluster(st.Profile.Cluster.Name, st.Profile.Region)...).CombinedOutput(); err != nil {
			t.Errorf("delete cluster: %v\n%s", err, out)
		}
	})
	c, err := cloud.New(ctx, st.Profile.Region)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := c.AddonFacts(ctx, st.Profile.Cluster.Name, "metrics-server"); err != nil || !a.Exists {
		t.Fatalf("the old environment has no EKS add-on metrics-server: %+v, %v", a, err)
	}
	if got := k.must("get", "serviceaccount", "metrics-server", "-n", "kube-system", "-o", "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}"); got != "EKS" {
		t.Fatalf("metrics-server's ServiceAccount is managed by %q, want EKS", got)
	}

	// Helm alone cannot install over it: what went wrong on AWS.
	err = InstallRelease{Options: opts, Chart: addons.MetricsServer}.Run(ctx, st)
	if err == nil || !strings.Contains(log.String(), "cannot be imported into the current release") {
		t.Fatalf("helm installed metrics-server over the EKS add-on's objects: %v\n%s", err, lastLines(log.String(), 10))
	}

	steps := append(ClusterSteps(), AddonReleaseSteps(opts)...)
	if err := Run(ctx, st, "bootstrap up --env staging", steps); err != nil {
		t.Fatalf("up over the old environment: %v\n%s", err, lastLines(log.String(), 30))
	}
	if a, err := c.AddonFacts(ctx, st.Profile.Cluster.Name, "metrics-server"); err != nil || a.Exists {
		t.Errorf("the EKS add-on metrics-server is still there: %+v, %v", a, err)
	}
	if got := k.must("get", "serviceaccount", "metrics-server", "-n", "kube-system", "-o", "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}"); got != "Helm" {
		t.Errorf("metrics-server's ServiceAccount is managed by %q, want Helm", got)
	}
	addonsLeft, err := c.Addons(ctx, st.Profile.Cluster.Name)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range addonsLeft {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "coredns,kube-proxy,vpc-cni" {
		t.Errorf("EKS add-ons after up: %v", names)
	}

	// The endpoint and the encryption are the profile's now, by eksctl.
	live, err := c.ClusterFacts(ctx, st.Profile.Cluster.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !live.EndpointPrivateAccess || !live.EndpointPublicAccess || strings.Join(live.PublicAccessCIDRs, ",") != "203.0.113.0/24" || live.SecretsKeyARN != key {
		t.Errorf("the cluster after up: %+v", live)
	}
	for _, cmd := range []string{"eksctl utils enable-secrets-encryption", "eksctl utils update-cluster-vpc-config"} {
		if !strings.Contains(log.String(), cmd) {
			t.Errorf("up ran no %s:\n%s", cmd, lastLines(log.String(), 30))
		}
	}
	// Converged: a second run runs neither.
	record := t.TempDir()
	t.Setenv("FAKE_EKSCTL_RECORD", record)
	if err := Run(ctx, st, "bootstrap cluster --env staging", []Step{CreateCluster{}}); err != nil {
		t.Fatalf("the cluster step again: %v\n%s", err, lastLines(log.String(), 30))
	}
	calls, err := os.ReadFile(filepath.Join(record, "calls.jsonl"))
	if err != nil || !strings.Contains(string(calls), "associate-iam-oidc-provider") {
		t.Fatalf("the second run's eksctl calls: %v\n%s", err, calls)
	}
	if strings.Contains(string(calls), "enable-secrets-encryption") || strings.Contains(string(calls), "update-cluster-vpc-config") {
		t.Errorf("the second run converged again:\n%s", calls)
	}
}

// irsaPolicies are the IRSA roles' inline policies as eksctl makes them from
// the ClusterConfig, the role named stale's changed.
func irsaPolicies(t *testing.T, st *State, stale string) map[string]map[string]string {
	t.Helper()
	cfg, err := RenderCluster(st.Profile, clusterLive(st))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, sa := range cfg.IAM.ServiceAccounts {
		doc, _ := json.Marshal(sa.AttachPolicy)
		if sa.RoleName == stale {
			doc = []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeVpcs","Resource":"*"}]}`)
		}
		out[sa.RoleName] = map[string]string{eksctl.IAMServiceAccountStack(cfg.Metadata.Name, sa.Namespace, sa.Name) + "-Policy1": string(doc)}
	}
	return out
}
