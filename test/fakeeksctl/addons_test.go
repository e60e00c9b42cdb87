package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/testenv"
)

func names(addons []*api.Addon) []string {
	var out []string
	for _, a := range addons {
		out = append(out, a.Name)
	}
	return out
}

// TestAddonsToCreate checks the add-on selection of tasks.go against
// eksctl's own KnownAddons table.
func TestAddonsToCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       *api.ClusterConfig
		region    string
		pre, post []string
	}{
		{name: "defaults", cfg: &api.ClusterConfig{}, region: "us-east-1",
			pre: []string{"coredns", "kube-proxy", "vpc-cni"}, post: []string{"metrics-server"}},
		// Listed, an add-on replaces its default (compared without case);
		// the before/after split looks KnownAddons up with case, so
		// "VPC-CNI" comes after the node groups, as in tasks.go.
		{name: "listed replaces its default", cfg: &api.ClusterConfig{Addons: []*api.Addon{{Name: "VPC-CNI", Version: "v1.2.3"}}}, region: "us-east-1",
			pre: []string{"coredns", "kube-proxy"}, post: []string{"VPC-CNI", "metrics-server"}},
		{name: "metrics-server excluded in China", cfg: &api.ClusterConfig{}, region: api.RegionCNNorth1,
			pre: []string{"coredns", "kube-proxy", "vpc-cni"}},
		{name: "defaults disabled: the listed only", cfg: &api.ClusterConfig{
			AddonsConfig: api.AddonsConfig{DisableDefaultAddons: true},
			Addons:       []*api.Addon{{Name: "vpc-cni"}, {Name: "kube-proxy"}, {Name: "coredns"}},
		}, region: "us-east-1", pre: []string{"vpc-cni", "kube-proxy", "coredns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pre, post := addonsToCreate(tt.cfg, tt.region)
			if !slices.Equal(names(pre), tt.pre) || !slices.Equal(names(post), tt.post) {
				t.Errorf("addonsToCreate = %v, %v; want %v, %v", names(pre), names(post), tt.pre, tt.post)
			}
		})
	}
}

// writeConfig writes testdata/cluster.yaml changed by edit.
func (f *fakeEnv) writeConfig(t *testing.T, edit func(*api.ClusterConfig)) string {
	t.Helper()
	data, err := os.ReadFile(f.conf)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &api.ClusterConfig{}
	if err := yaml.UnmarshalStrict(data, cfg); err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func (f *fakeEnv) clients(t *testing.T) (*eks.Client, *cloudwatchlogs.Client) {
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(testenv.MotoRegion))
	if err != nil {
		t.Fatal(err)
	}
	return eks.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
}

func listAddons(t *testing.T, c *eks.Client) []string {
	t.Helper()
	out, err := c.ListAddons(context.Background(), &eks.ListAddonsInput{ClusterName: aws.String(testCluster)})
	if err != nil {
		t.Fatalf("ListAddons: %v", err)
	}
	return out.Addons
}

func inlinePolicy(t *testing.T, f *fakeEnv, role, name string) string {
	t.Helper()
	out, err := f.iam.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetRolePolicy %s %s: %v", role, name, err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	return doc
}

// TestCreateClusterAddonsLogsAndIRSA runs the fake as eksctl 0.230.0 runs:
// create cluster makes the default add-ons and the vpc-cni IRSA role, and
// sets the log group's retention; create iamserviceaccount leaves an
// existing role's policy alone, update iamserviceaccount changes it; delete
// addon deletes one add-on; delete cluster leaves the log group.
func TestCreateClusterAddonsLogsAndIRSA(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	ek, logs := f.clients(t)
	conf := f.writeConfig(t, func(c *api.ClusterConfig) {
		c.CloudWatch = &api.ClusterCloudWatch{ClusterLogging: &api.ClusterCloudWatchLogging{EnableTypes: []string{"api", "audit"}, LogRetentionInDays: 90}}
	})
	if out, err := f.run(t, "", eksctl.CreateCluster(conf)...); err != nil {
		t.Fatalf("create cluster: %v\n%s", err, out)
	}
	if got, want := listAddons(t, ek), []string{"coredns", "kube-proxy", "metrics-server", "vpc-cni"}; !slices.Equal(got, want) {
		t.Errorf("add-ons after create cluster: %v, want %v", got, want)
	}
	cni, err := ek.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(testCluster), AddonName: aws.String("vpc-cni")})
	if err != nil {
		t.Fatal(err)
	}
	out, exists, err := (&env{cfn: f.cfn}).stackOutputs(ctx, addonStack(testCluster, "vpc-cni"))
	if err != nil || !exists || out["Role1"] == "" || aws.ToString(cni.Addon.ServiceAccountRoleArn) != out["Role1"] {
		t.Fatalf("vpc-cni IRSA stack: %v %v %v; add-on role %q", out, exists, err, aws.ToString(cni.Addon.ServiceAccountRoleArn))
	}
	role, err := f.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName(out["Role1"]))})
	if err != nil {
		t.Fatal(err)
	}
	if trust, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument)); !strings.Contains(trust, "system:serviceaccount:kube-system:aws-node") {
		t.Errorf("vpc-cni role trusts %s, want kube-system/aws-node", trust)
	}
	groups, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/eks/" + testCluster + "/")})
	if err != nil || len(groups.LogGroups) != 1 || aws.ToInt32(groups.LogGroups[0].RetentionInDays) != 90 {
		t.Fatalf("log group: %+v, %v; want /aws/eks/%s/cluster with 90 days", groups, err, testCluster)
	}

	// The file's policy changes: create skips the existing role, update
	// changes it.
	changed := f.writeConfig(t, func(c *api.ClusterConfig) {
		c.CloudWatch = &api.ClusterCloudWatch{ClusterLogging: &api.ClusterCloudWatchLogging{EnableTypes: []string{"api", "audit"}, LogRetentionInDays: 90}}
		c.IAM.ServiceAccounts[0].AttachPolicy["Statement"] = []any{map[string]any{"Effect": "Allow", "Action": []string{"s3:GetObject"}, "Resource": "*"}}
	})
	policy := irsaStack(testCluster, &api.ClusterIAMServiceAccount{ClusterIAMMeta: api.ClusterIAMMeta{Name: "app", Namespace: "default"}}) + "-Policy1"
	if o, err := f.run(t, "", eksctl.CreateIAMServiceAccounts(changed)...); err != nil || !strings.Contains(o, "will be excluded") {
		t.Fatalf("create iamserviceaccount: %v\n%s", err, o)
	}
	if doc := inlinePolicy(t, f, "fake-test-app", policy); strings.Contains(doc, "s3:GetObject") {
		t.Errorf("create iamserviceaccount changed an existing role's policy: %s", doc)
	}
	if o, err := f.run(t, "", "update", "iamserviceaccount", "-f", changed); err != nil || !strings.Contains(o, "--approve") {
		t.Fatalf("update iamserviceaccount without --approve: %v\n%s", err, o)
	}
	if doc := inlinePolicy(t, f, "fake-test-app", policy); strings.Contains(doc, "s3:GetObject") {
		t.Errorf("update iamserviceaccount without --approve changed the policy: %s", doc)
	}
	if o, err := f.run(t, "", eksctl.UpdateIAMServiceAccounts(changed)...); err != nil {
		t.Fatalf("update iamserviceaccount: %v\n%s", err, o)
	}
	if doc := inlinePolicy(t, f, "fake-test-app", policy); !strings.Contains(doc, "s3:GetObject") || strings.Contains(doc, "secretsmanager") {
		t.Errorf("after update iamserviceaccount the policy is %s", doc)
	}

	argv := eksctl.DeleteAddon(testCluster, "metrics-server", testenv.MotoRegion)
	if o, err := f.run(t, "", argv...); err != nil {
		t.Fatalf("delete addon: %v\n%s", err, o)
	}
	if got := listAddons(t, ek); slices.Contains(got, "metrics-server") {
		t.Errorf("metrics-server still an add-on: %v", got)
	}
	if o, err := f.run(t, "", argv...); err == nil || !strings.Contains(o, "could not find addon or associated IAM stack(s) to delete") {
		t.Errorf("second delete addon: %v, want eksctl's error\n%s", err, o)
	}

	if o, err := f.run(t, "", eksctl.DeleteCluster(testCluster, testenv.MotoRegion)...); err != nil {
		t.Fatalf("delete cluster: %v\n%s", err, o)
	}
	assertNothingLeft(t, ctx, f)
	groups, err = logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/eks/" + testCluster + "/")})
	if err != nil || len(groups.LogGroups) != 1 {
		t.Errorf("eksctl delete cluster never deletes the log group; left: %+v, %v", groups, err)
	}
}

// TestDisableDefaultAddons: with the defaults disabled only the listed
// add-ons are made; without vpc-cni, eksctl refuses node groups.
func TestDisableDefaultAddons(t *testing.T) {
	f := setup(t)
	ek, _ := f.clients(t)
	bare := f.writeConfig(t, func(c *api.ClusterConfig) {
		c.AddonsConfig.DisableDefaultAddons = true
		c.Addons = []*api.Addon{{Name: "kube-proxy"}}
	})
	if o, err := f.run(t, "", eksctl.CreateCluster(bare)...); err == nil || !strings.Contains(o, "cluster without VPC CNI") {
		t.Fatalf("create cluster without vpc-cni and with a node group: %v\n%s", err, o)
	}
	conf := f.writeConfig(t, func(c *api.ClusterConfig) {
		c.AddonsConfig.DisableDefaultAddons = true
		c.Addons = []*api.Addon{{Name: "vpc-cni"}, {Name: "kube-proxy"}, {Name: "coredns"}}
	})
	if o, err := f.run(t, "", eksctl.CreateCluster(conf)...); err != nil {
		t.Fatalf("create cluster: %v\n%s", err, o)
	}
	if got, want := listAddons(t, ek), []string{"coredns", "kube-proxy", "vpc-cni"}; !slices.Equal(got, want) {
		t.Errorf("add-ons: %v, want %v", got, want)
	}
}

// The metrics-server add-on's objects on an API server
// ($FAKE_EKSCTL_KUBECONFIG) are tested in internal/pipeline
// (TestUpConvergesOverEksctlMetricsServer): they have the names Helm's
// metrics-server has in kube-system, so every test that makes either must
// live in that one package, whose tests share the local control plane one
// at a time.
