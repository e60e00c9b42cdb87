package eksctl

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/golden"
)

// profile is a built-in profile that passes bootstrap's own validation.
func profile(t *testing.T, env string) *config.Profile {
	t.Helper()
	p := config.Builtin(env)
	if probs := config.ValidateProfile(p, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); len(probs) > 0 {
		t.Fatalf("built-in profile %s is invalid: %v", env, probs)
	}
	return p
}

// inputs are the real add-ons' IRSA roles and replaced EKS add-ons, as the
// pipeline hands them over (pipeline.RenderCluster): the goldens show the
// ClusterConfig bootstrap writes. Only the tests import addons.
func inputs(t *testing.T, p *config.Profile) Inputs {
	t.Helper()
	roles, err := addons.IRSARoles(p, addons.Live{HostedZoneID: "<hosted-zone-id>"})
	if err != nil {
		t.Fatal(err)
	}
	in := Inputs{HelmReplaced: addons.EKSAddonsReplaced()}
	for _, r := range roles {
		in.ServiceAccounts = append(in.ServiceAccounts, ServiceAccount(r))
	}
	return in
}

// render is Render with the real add-ons' inputs.
func render(t *testing.T, p *config.Profile) (*api.ClusterConfig, error) {
	t.Helper()
	return Render(p, inputs(t, p))
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, env := range config.BuiltinEnvironments {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			cfg, err := render(t, profile(t, env))
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, "cluster-"+env+".yaml", out)
		})
	}
}

// TestMarshalRoundTrip reads the written file back the way eksctl does
// (strictly) and validates what was read, so the file on disk, not only the
// value in memory, passes eksctl's rules.
func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	for _, env := range config.BuiltinEnvironments {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			cfg, err := render(t, profile(t, env))
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(back); err != nil {
				t.Fatal(err)
			}
			again, err := Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(trimHeader(out), trimHeader(again)) {
				t.Errorf("file changes on a read and write:\n%s\n---\n%s", out, again)
			}
		})
	}
}

func TestRenderDoesNotApplyDefaultsToResult(t *testing.T) {
	t.Parallel()
	cfg, err := render(t, profile(t, "production"))
	if err != nil {
		t.Fatal(err)
	}
	// Validate works on a copy: the file keeps only what bootstrap sets.
	if cfg.AccessConfig != nil || cfg.PrivateCluster != nil || cfg.ManagedNodeGroups[0].AMIFamily != "" {
		t.Errorf("eksctl defaults leaked into the rendered config: %+v", cfg)
	}
}

// TestProductionRules checks the seed's production shape in the rendered
// config: three zones, the profile's CIDR, a NAT gateway per zone, 3 x
// t3.large in private subnets, OIDC, control-plane logs, tags.
func TestProductionRules(t *testing.T) {
	t.Parallel()
	p := profile(t, "production")
	cfg, err := render(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.AvailabilityZones; !slices.Equal(got, []string{"us-east-1a", "us-east-1b", "us-east-1c"}) {
		t.Errorf("availabilityZones = %v, want three zones (else us-east-1 gets 2+2 subnets)", got)
	}
	if got := cfg.VPC.CIDR.String(); got != "10.0.0.0/16" {
		t.Errorf("vpc.cidr = %s, want the profile's 10.0.0.0/16", got)
	}
	if got := *cfg.VPC.NAT.Gateway; got != api.ClusterHighlyAvailableNAT {
		t.Errorf("vpc.nat.gateway = %s, want HighlyAvailable", got)
	}
	if len(cfg.ManagedNodeGroups) != 1 || len(cfg.NodeGroups) != 0 {
		t.Fatalf("want exactly one managed node group, got %d managed, %d unmanaged", len(cfg.ManagedNodeGroups), len(cfg.NodeGroups))
	}
	ng := cfg.ManagedNodeGroups[0]
	if ng.InstanceType != "t3.large" || *ng.DesiredCapacity != 3 || *ng.MinSize != p.Cluster.NodeGroup.Min || *ng.MaxSize != p.Cluster.NodeGroup.Max {
		t.Errorf("node group = %s x%d (min %d, max %d), want t3.large x3 with the profile's min/max",
			ng.InstanceType, *ng.DesiredCapacity, *ng.MinSize, *ng.MaxSize)
	}
	if !ng.PrivateNetworking {
		t.Error("node group must have privateNetworking: true (else nodes land in public subnets)")
	}
	if !api.IsEnabled(cfg.IAM.WithOIDC) {
		t.Error("iam.withOIDC must be enabled for IRSA")
	}
	if got := cfg.CloudWatch.ClusterLogging.EnableTypes; !slices.Equal(got, []string{"api", "audit", "authenticator"}) {
		t.Errorf("cloudWatch.clusterLogging.enableTypes = %v", got)
	}
	for _, tags := range []map[string]string{cfg.Metadata.Tags, ng.Tags} {
		for k, v := range map[string]string{"Environment": "production", "Application": "sovd", "ManagedBy": "bootstrap"} {
			if tags[k] != v {
				t.Errorf("tag %s = %q, want %q (in %v)", k, tags[k], v, tags)
			}
		}
	}
	if cfg.SecretsEncryption != nil {
		t.Error("secretsEncryption set without a KMS key in the profile")
	}
}

func TestStagingRules(t *testing.T) {
	t.Parallel()
	cfg, err := render(t, profile(t, "staging"))
	if err != nil {
		t.Fatal(err)
	}
	if got := *cfg.VPC.NAT.Gateway; got != api.ClusterSingleNAT {
		t.Errorf("staging vpc.nat.gateway = %s, want Single", got)
	}
	if got := cfg.VPC.CIDR.String(); got != "10.1.0.0/16" {
		t.Errorf("staging vpc.cidr = %s", got)
	}
	if len(cfg.AvailabilityZones) != 3 || !cfg.ManagedNodeGroups[0].PrivateNetworking {
		t.Error("staging has the production shape: three zones, private nodes")
	}
}

func TestSecretsEncryptionWhenKeyNamed(t *testing.T) {
	t.Parallel()
	p := profile(t, "production")
	p.Cluster.KMSKeyARN = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
	cfg, err := render(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SecretsEncryption == nil || cfg.SecretsEncryption.KeyARN != p.Cluster.KMSKeyARN {
		t.Errorf("secretsEncryption = %+v, want the profile's key", cfg.SecretsEncryption)
	}
}

func TestIRSARoles(t *testing.T) {
	t.Parallel()
	p := profile(t, "production")
	cfg, err := render(t, p)
	if err != nil {
		t.Fatal(err)
	}
	// Rendered in the order given, one per input.
	in := inputs(t, p)
	sas := cfg.IAM.ServiceAccounts
	if len(sas) != len(in.ServiceAccounts) {
		t.Fatalf("%d service accounts, want %d", len(sas), len(in.ServiceAccounts))
	}
	for i, w := range in.ServiceAccounts {
		sa := sas[i]
		if sa.Namespace != w.Namespace || sa.Name != w.Name || sa.RoleName != w.RoleName {
			t.Errorf("serviceAccounts[%d] = %s/%s role %s, want %s/%s role %s", i, sa.Namespace, sa.Name, sa.RoleName, w.Namespace, w.Name, w.RoleName)
		}
		if !api.IsEnabled(sa.RoleOnly) {
			t.Errorf("serviceAccounts[%d] must be roleOnly: the Helm chart owns the ServiceAccount", i)
		}
		if len(sa.AttachPolicy) == 0 || len(sa.AttachPolicyARNs) != 0 || sa.WellKnownPolicies.HasPolicy() {
			t.Errorf("serviceAccounts[%d] must carry exactly its inline policy", i)
		}
	}
	// The load balancer controller's policy is the one pinned beside the
	// chart, scoped to this cluster.
	pinned, err := addons.ScopedLoadBalancerControllerPolicy(p.Cluster.Name)
	if err != nil {
		t.Fatal(err)
	}
	lbc := slices.IndexFunc(sas, func(sa *api.ClusterIAMServiceAccount) bool {
		return sa.RoleName == "sovd-production-aws-load-balancer-controller" && sa.Namespace == "kube-system" && sa.Name == "aws-load-balancer-controller"
	})
	if lbc < 0 {
		t.Fatal("no IRSA role for kube-system/aws-load-balancer-controller")
	}
	if got, want := jsonString(t, sas[lbc].AttachPolicy), jsonString(t, pinned); got != want {
		t.Error("load balancer controller role does not carry the policy pinned for", addons.LoadBalancerController.AppVersion)
	}
}

// TestValidationRejectsBrokenProfiles feeds profiles that skip bootstrap's own
// validation into Render: eksctl's rules must still catch them, naming the
// ClusterConfig field.
func TestValidationRejectsBrokenProfiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		break_ func(p *config.Profile)
		field  string
	}{
		{"unknown log type", func(p *config.Profile) { p.Cluster.Logging = []string{"api", "everything"} }, "cloudWatch.clusterLogging.enableTypes[1]"},
		{"one zone", func(p *config.Profile) { p.AvailabilityZones = []string{"us-east-1a"} }, "zone(s) specified"},
		{"node group without name", func(p *config.Profile) { p.Cluster.NodeGroup.Name = "" }, "managedNodeGroups[0].name"},
		{"min above desired", func(p *config.Profile) { p.Cluster.NodeGroup.Min = 5 }, "managedNodeGroups[0].minSize"},
		{"desired above max", func(p *config.Profile) { p.Cluster.NodeGroup.Max = 1 }, "managedNodeGroups[0].maxSize"},
		{"bad KMS ARN", func(p *config.Profile) { p.Cluster.KMSKeyARN = "not-an-arn" }, "secretsEncryption.keyARN"},
		{"no cluster name", func(p *config.Profile) { p.Cluster.Name = "" }, "metadata.name"},
		{"no region", func(p *config.Profile) { p.Region = "" }, "metadata.region"},
		{"bad NAT mode", func(p *config.Profile) { p.Cluster.NAT = "Double" }, "vpc.nat.gateway"},
		{"duplicate service account", func(p *config.Profile) {
			p.App.Namespace, p.App.ServiceAccount = "external-secrets", "external-secrets-secretsmanager"
		}, "of iam.serviceAccounts[" + strconv.Itoa(len(addons.AddonRoleNames(config.Builtin("staging")))) + "]"}, // the app's, last
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, env := range config.BuiltinEnvironments {
				p := config.Builtin(env)
				tt.break_(p)
				_, err := render(t, p)
				if err == nil {
					t.Fatalf("%s: Render accepted a broken profile", env)
				}
				if !strings.Contains(err.Error(), tt.field) {
					t.Errorf("%s: error does not name %s: %v", env, tt.field, err)
				}
			}
		})
	}
}

// TestMinVersionIsModuleVersion keeps MinVersion equal to the eksctl module
// whose API package validates the config.
func TestMinVersionIsModuleVersion(t *testing.T) {
	t.Parallel()
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/weaveworks/eksctl v(\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("github.com/weaveworks/eksctl not required in go.mod")
	}
	if string(m[1]) != MinVersion {
		t.Errorf("go.mod has eksctl v%s, MinVersion is %s: keep them equal", m[1], MinVersion)
	}
}
