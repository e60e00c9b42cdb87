package status

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
)

const issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC123"

// matching is a production environment exactly as its profile says, every
// component there and healthy.
func matching(p *config.Profile) Facts {
	trust := `{"Statement":[{"Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123"}}]}`
	f := Facts{
		AccountID: "123456789012",
		Cluster: cloud.ClusterFacts{Name: p.Cluster.Name, Exists: true, Status: "ACTIVE", Version: p.Cluster.KubernetesVersion, OIDCIssuer: issuer,
			EndpointPrivateAccess: p.Cluster.EndpointAccess.Private, EndpointPublicAccess: p.Cluster.EndpointAccess.Public,
			PublicAccessCIDRs: cidrsOrAll(p.Cluster.EndpointAccess.PublicCIDRs), SecretsKeyARN: p.Cluster.KMSKeyARN},
		NodeGroup: cloud.NodeGroupFacts{Name: "general", Exists: true, Status: "ACTIVE", InstanceTypes: []string{p.Cluster.NodeGroup.InstanceType},
			Min: p.Cluster.NodeGroup.Min, Max: p.Cluster.NodeGroup.Max, Desired: p.Cluster.NodeGroup.Desired,
			LaunchTemplate: "lt-0123456789abcdef0/1", PodIMDSHopLimit: 1},
		Database: cloud.DBFacts{Identifier: p.Database.Identifier, Exists: true, Status: "available", InstanceClass: p.Database.InstanceClass,
			EngineVersion: p.Database.EngineVersion + ".7", MultiAZ: p.Database.MultiAZ, DeletionProtection: p.Protection.DeletionProtection,
			BackupRetentionDays: p.Database.BackupRetentionDays, Endpoint: p.Database.Identifier + ".abc.us-east-1.rds.amazonaws.com"},
		Redis: cloud.RedisFacts{ID: p.Redis.ReplicationGroupID, Exists: true, Status: "available", NodeType: p.Redis.NodeType,
			Nodes: p.Redis.NumCacheClusters, AutomaticFailover: enabled(p.Redis.AutomaticFailover), AuthTokenEnabled: true, TransitEncryption: true},
		Storage:     cloud.BucketFacts{Name: p.StorageBucketName("123456789012"), Exists: true, Versioning: "Enabled"},
		StateBucket: cloud.BucketFacts{Name: p.StateBucketName("123456789012"), Exists: true, Versioning: "Enabled"},
	}
	for _, name := range IRSARoles(p) {
		f.Roles = append(f.Roles, cloud.RoleFacts{Name: name, Exists: true, ARN: "arn:aws:iam::123456789012:role/" + name, Trust: trust})
	}
	for _, name := range p.Registry.Repositories {
		f.Repositories = append(f.Repositories, cloud.RepositoryFacts{Name: name, Exists: true, URI: "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + name})
	}
	for _, name := range p.SecretNames() {
		f.Secrets = append(f.Secrets, cloud.SecretFacts{Name: name, Exists: true, HasValue: true})
	}
	for _, c := range addons.Charts() {
		f.Releases = append(f.Releases, ReleaseFacts{Chart: c, Release: &addons.ReleaseStatus{
			Name: c.Release, Namespace: c.Namespace, Revision: "1", Status: "deployed", Chart: c.NameVersion(), AppVersion: c.AppVersion}})
	}
	versions := map[string]string{"coredns": "v1.12.4-eksbuild.1", "kube-proxy": "v1.35.0-eksbuild.2", "vpc-cni": "v1.20.4-eksbuild.1"}
	for _, name := range eksctl.ClusterAddonNames(p.Region, addons.EKSAddonsReplaced()) {
		f.Addons = append(f.Addons, cloud.AddonFacts{Name: name, Exists: true, Status: "ACTIVE", Version: versions[name]})
	}
	return f
}

// cidrsOrAll is what EKS reports for a profile's public CIDRs: none listed
// is 0.0.0.0/0.
func cidrsOrAll(c []string) []string {
	if len(c) == 0 {
		return []string{"0.0.0.0/0"}
	}
	return c
}

func row(t *testing.T, rep Report, kind, name string) Row {
	t.Helper()
	for _, r := range rep.Components {
		if r.Component == kind && r.Name == name {
			return r
		}
	}
	t.Fatalf("no row for %s %s in %+v", kind, name, rep.Components)
	return Row{}
}

func TestMatchingEnvironmentHasNoDrift(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	rep := Compare(p, matching(p))
	// 1 cluster + 1 node group + the IRSA roles + RDS + Redis + backups + 2 ECR + 3 secrets + state + the releases + 3 EKS add-ons.
	want := 1 + 1 + len(IRSARoles(p)) + 3 + 2 + 3 + 1 + len(addons.All) + 3
	if len(rep.Components) != want {
		t.Fatalf("%d rows, want %d", len(rep.Components), want)
	}
	for _, r := range rep.Components {
		if r.Exists != Yes || r.Healthy != Yes || len(r.Drift) != 0 {
			t.Errorf("%s %s: exists %s healthy %s drift %v (%s)", r.Component, r.Name, r.Exists, r.Healthy, r.Drift, r.Detail)
		}
	}
	if rep.Err() != nil {
		t.Errorf("Err() = %v", rep.Err())
	}
}

// TestCompare: each case changes the matching facts and names the row and
// what it must say.
func TestCompare(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	deleted := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		change        func(*Facts)
		kind, row     string
		exists, heals string
		drift         []string
		detail        string // a phrase the detail must hold
	}{
		{"cluster missing", func(f *Facts) { f.Cluster = cloud.ClusterFacts{Name: p.Cluster.Name} },
			KindCluster, p.Cluster.Name, No, NA, nil, "bootstrap cluster --env production creates it"},
		{"cluster updating, older version", func(f *Facts) { f.Cluster.Status, f.Cluster.Version = "UPDATING", "1.34" },
			KindCluster, p.Cluster.Name, Yes, No, []string{"Kubernetes 1.34 (want 1.35)"}, "UPDATING"},
		{"endpoint made private-only by hand", func(f *Facts) { f.Cluster.EndpointPublicAccess = false },
			KindCluster, p.Cluster.Name, Yes, Yes, []string{"endpoint public access off (want on): bootstrap up converges it (eksctl utils update-cluster-vpc-config)"}, "ACTIVE"},
		{"public endpoint limited, the profile lists no CIDRs", func(f *Facts) { f.Cluster.PublicAccessCIDRs = []string{"203.0.113.0/24"} },
			KindCluster, p.Cluster.Name, Yes, Yes, []string{"public endpoint CIDRs 203.0.113.0/24 (want 0.0.0.0/0 (none listed)): eksctl leaves a cluster's CIDRs as they are when the ClusterConfig lists none: list 0.0.0.0/0 in cluster.endpointAccess.publicCIDRs to open the endpoint to all, or the cluster's CIDRs to keep them"}, "ACTIVE"},
		{"Secrets encrypted, the profile has no key", func(f *Facts) {
			f.Cluster.SecretsKeyARN = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
		}, KindCluster, p.Cluster.Name, Yes, Yes, []string{"Secrets encryption arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789 (want off): " +
			"EKS cannot change or remove a cluster's Secrets encryption key (AssociateEncryptionConfig only enables it on a cluster that has none): set cluster.kmsKeyARN to the cluster's key, or make a new cluster"}, "ACTIVE"},
		{"node group without its cluster", func(f *Facts) {
			f.Cluster = cloud.ClusterFacts{Name: p.Cluster.Name}
			f.NodeGroup = cloud.NodeGroupFacts{Name: "general"}
		}, KindNodeGroup, "general", No, NA, nil, "its cluster does not exist"},
		{"node group resized by hand", func(f *Facts) {
			f.NodeGroup.InstanceTypes = []string{"m5.large"}
			f.NodeGroup.Min, f.NodeGroup.Max, f.NodeGroup.Desired = 2, 4, 2
		}, KindNodeGroup, "general", Yes, Yes,
			[]string{"instance type m5.large (want t3.large)", "min 2 (want 3)", "max 4 (want 6)", "desired 2 (want 3)"}, "ACTIVE, 2 × m5.large"},
		{"node group made before pods lost IMDS", func(f *Facts) { f.NodeGroup.PodIMDSHopLimit = 2 },
			KindNodeGroup, "general", Yes, Yes, []string{"pod IMDS reachable from pods (want blocked): not changed on an existing node group: make a new node group (eksctl create nodegroup) and delete the old one"}, "ACTIVE"},
		{"node group without a launch template", func(f *Facts) { f.NodeGroup.PodIMDSHopLimit, f.NodeGroup.LaunchTemplate = 0, "" },
			KindNodeGroup, "general", Yes, Yes, nil, "pod IMDS not known"},
		{"node group scaled to zero", func(f *Facts) { f.NodeGroup.Desired = 0 },
			KindNodeGroup, "general", Yes, No, []string{"desired 0 (want 3)"}, "no nodes wanted"},
		{"node group degraded", func(f *Facts) {
			f.NodeGroup.Status = "DEGRADED"
			f.NodeGroup.Issues = []string{"AsgInstanceLaunchFailures: capacity"}
		}, KindNodeGroup, "general", Yes, No, nil, "AsgInstanceLaunchFailures: capacity"},
		{"role missing", func(f *Facts) { f.Roles[1] = cloud.RoleFacts{Name: f.Roles[1].Name} },
			KindRole, p.Role(config.RoleExternalSecrets), No, NA, nil, "creates it"},
		{"role trusting an old cluster", func(f *Facts) { f.Cluster.OIDCIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/NEW" },
			KindRole, p.App.RoleName, Yes, No, nil, "trusts another OIDC provider"},
		{"role without a cluster", func(f *Facts) { f.Cluster = cloud.ClusterFacts{Name: p.Cluster.Name} },
			KindRole, p.Role(config.RoleLoadBalancerController), Yes, No, nil, "no cluster OIDC provider"},
		{"role while the cluster is unreadable", func(f *Facts) {
			f.Unread = map[string]error{Key(KindCluster, p.Cluster.Name): errors.New("AccessDenied")}
		}, KindRole, p.Role(config.RoleLoadBalancerController), Yes, Unknown, nil, "could not be read"},
		{"RDS missing before data", func(f *Facts) { f.Database = cloud.DBFacts{Identifier: p.Database.Identifier} },
			KindDatabase, "sovd-production", No, NA, nil, "bootstrap data --env production creates it"},
		{"RDS changed by hand", func(f *Facts) {
			f.Database.InstanceClass = "db.t3.medium"
			f.Database.MultiAZ = false
			f.Database.DeletionProtection = false
			f.Database.BackupRetentionDays = 1
			f.Database.EngineVersion = "16.3"
		}, KindDatabase, "sovd-production", Yes, Yes, []string{
			"class db.t3.medium (want db.t3.large)", "Multi-AZ off (want on)", "deletion protection off (want on)",
			"backup retention 1 day (want 7 days)", "engine major 16 (want 15)"}, "PostgreSQL 16.3"},
		{"RDS modifying", func(f *Facts) { f.Database.Status = "modifying" },
			KindDatabase, "sovd-production", Yes, No, nil, "modifying"},
		{"Redis without AUTH", func(f *Facts) { f.Redis.AuthTokenEnabled = false },
			KindRedis, "sovd-production", Yes, No, nil, "AUTH off"},
		{"Redis smaller, no failover", func(f *Facts) {
			f.Redis.NodeType, f.Redis.Nodes, f.Redis.AutomaticFailover = "cache.t3.small", 1, "disabled"
		}, KindRedis, "sovd-production", Yes, Yes, []string{"node type cache.t3.small (want cache.t3.medium)", "nodes 1 (want 2)", "failover disabled (want enabled)"}, "AUTH on"},
		{"Redis failover being enabled", func(f *Facts) { f.Redis.AutomaticFailover = "enabling" },
			KindRedis, "sovd-production", Yes, Yes, nil, "available"},
		{"state bucket unversioned", func(f *Facts) { f.StateBucket.Versioning = "" },
			KindState, "bootstrap-tfstate-123456789012-us-east-1", Yes, No, nil, "versioning never enabled"},
		{"backups bucket missing", func(f *Facts) { f.Storage.Exists, f.Storage.Versioning = false, "" },
			KindStorage, "sovd-production-backups-123456789012", No, NA, nil, "creates it"},
		{"repository missing", func(f *Facts) { f.Repositories[1].Exists = false },
			KindRepository, "sovd-frontend", No, NA, nil, "creates it"},
		{"secret pending deletion", func(f *Facts) { f.Secrets[1].DeletedDate = &deleted },
			KindSecret, "sovd/production/jwt", Yes, No, nil, "scheduled for deletion on 2026-12-24"},
		{"secret without value", func(f *Facts) { f.Secrets[2].HasValue = false },
			KindSecret, "sovd/production/redis", Yes, No, nil, "no current value"},
		{"release at an older chart", func(f *Facts) { f.Releases[0].Release.Chart = "metrics-server-3.12.2" },
			KindRelease, "kube-system/metrics-server", Yes, Yes, []string{"chart 3.12.2 (want 3.13.1)"}, "metrics-server-3.12.2"},
		{"release failed", func(f *Facts) { f.Releases[2].Release.Status = "failed" },
			KindRelease, "external-secrets/external-secrets", Yes, No, nil, "failed, revision 1"},
		{"release interrupted", func(f *Facts) { f.Releases[1].Release.Status = "pending-upgrade" },
			KindRelease, "kube-system/aws-load-balancer-controller", Yes, No, nil, "interrupted"},
		{"release absent", func(f *Facts) { f.Releases[1].Release = nil },
			KindRelease, "kube-system/aws-load-balancer-controller", No, NA, nil, "bootstrap addons --env production creates it"},
		{"release not asked", func(f *Facts) {
			f.Releases[1] = ReleaseFacts{Chart: f.Releases[1].Chart, Unknown: "not asked: no kubeconfig"}
		},
			KindRelease, "kube-system/aws-load-balancer-controller", Unknown, Unknown, nil, "not asked: no kubeconfig"},
		{"read failure", func(f *Facts) {
			f.Unread = map[string]error{Key(KindDatabase, "sovd-production"): errors.New("AccessDenied: rds:DescribeDBInstances\nsecond line")}
		}, KindDatabase, "sovd-production", Unknown, Unknown, nil, "could not read: AccessDenied: rds:DescribeDBInstances"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := matching(p)
			tt.change(&f)
			r := row(t, Compare(p, f), tt.kind, tt.row)
			if r.Exists != tt.exists || r.Healthy != tt.heals {
				t.Errorf("exists %s healthy %s, want %s %s (%s)", r.Exists, r.Healthy, tt.exists, tt.heals, r.Detail)
			}
			if strings.Join(r.Drift, "|") != strings.Join(tt.drift, "|") {
				t.Errorf("drift %q, want %q", r.Drift, tt.drift)
			}
			if !strings.Contains(r.Detail, tt.detail) || strings.Contains(r.Detail, "\n") {
				t.Errorf("detail %q lacks %q or spans lines", r.Detail, tt.detail)
			}
		})
	}
}

func TestUnreadFailsTheCommandOnly(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	f := matching(p)
	f.Releases[0] = ReleaseFacts{Chart: f.Releases[0].Chart, Unknown: "not asked: cluster does not exist"}
	if err := Compare(p, f).Err(); err != nil {
		t.Errorf("a release not asked is no failure: %v", err)
	}
	f.Unread = map[string]error{Key(KindSecret, "sovd/staging/jwt"): errors.New("AccessDeniedException")}
	err := Compare(p, f).Err()
	if err == nil || !strings.Contains(err.Error(), "secret sovd/staging/jwt: AccessDeniedException") {
		t.Errorf("Err() = %v", err)
	}
}

// TestEKSAddonRows: the add-ons the ClusterConfig lists are judged by EKS's
// status and health; one a Helm release replaces is drift with the command
// that removes it.
func TestEKSAddonRows(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	f := matching(p)
	f.Addons[0].Status, f.Addons[0].Issues = "DEGRADED", []string{"InsufficientNumberOfReplicas: not enough replicas"}
	f.Addons = append(f.Addons[:2], cloud.AddonFacts{Name: "metrics-server", Exists: true, Status: "ACTIVE", Version: "v0.8.0-eksbuild.2"})
	rep := Compare(p, f)
	if r := row(t, rep, KindAddon, "coredns"); r.Healthy != No || !strings.Contains(r.Detail, "InsufficientNumberOfReplicas") {
		t.Errorf("degraded coredns: %+v", r)
	}
	if r := row(t, rep, KindAddon, "vpc-cni"); r.Exists != No || !strings.Contains(r.Detail, "eksctl create addon") {
		t.Errorf("missing vpc-cni: %+v", r)
	}
	if r := row(t, rep, KindAddon, "metrics-server"); len(r.Drift) != 1 || !strings.Contains(r.Detail, "bootstrap addons --env staging deletes it") {
		t.Errorf("eksctl's metrics-server: %+v", r)
	}
	f.Cluster.Exists, f.Addons = false, nil
	if r := row(t, Compare(p, f), KindAddon, "kube-proxy"); r.Exists != No || r.Detail != "its cluster does not exist" {
		t.Errorf("no cluster: %+v", r)
	}
}

// TestSupportWarningsReadWhatRuns: the warning follows the live versions,
// not the profile's, and starts 90 days before standard support ends.
func TestSupportWarningsReadWhatRuns(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production") // 1.35, standard support to 2027-03-27
	f := matching(p)
	on := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC) // 62 days before 1.34 leaves standard support
	if w := SupportWarnings(p, f, on); len(w) != 0 {
		t.Errorf("1.35 on %s: %q", on.Format(time.DateOnly), w)
	}
	f.Cluster.Version = "1.34" // left behind
	w := SupportWarnings(p, f, on)
	if len(w) != 1 || !strings.Contains(w[0], "Kubernetes 1.34 leaves EKS standard support on 2026-12-02, in 62 days") {
		t.Errorf("a live 1.34 on %s: %q", on.Format(time.DateOnly), w)
	}
	f.Cluster.Exists = false // not made yet: the profile's version
	if w := SupportWarnings(p, f, on); len(w) != 0 {
		t.Errorf("no cluster: %q", w)
	}
	var out bytes.Buffer
	rep := Compare(p, matching(p))
	rep.Warnings = []string{"x"}
	if err := Write(&out, rep); err != nil || !strings.Contains(out.String(), "\nWarning: x.\n") {
		t.Errorf("Write shows no warning: %v\n%s", err, out.String())
	}
}
