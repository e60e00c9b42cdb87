package status

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/golden"
)

// mixed is a production environment part-way: the cluster is there but
// drifted, the data tier half-changed by hand, one release behind its pin,
// one not readable.
func mixed(p *config.Profile) Facts {
	f := matching(p)
	f.Cluster.Version = "1.34"
	f.NodeGroup.Desired = 4
	f.Roles[2] = cloud.RoleFacts{Name: f.Roles[2].Name}
	f.Database.MultiAZ = false
	f.Database.BackupRetentionDays = 1
	f.Redis.AuthTokenEnabled = false
	f.Repositories[1].Exists = false
	deleted := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	f.Secrets[1].DeletedDate = &deleted
	f.Releases[0].Release.Chart = "metrics-server-3.12.2"
	f.Releases[0].Release.Revision = "4"
	// kube-proxy degraded; metrics-server an EKS add-on too (made by
	// eksctl's defaults before bootstrap disabled them).
	f.Addons[1].Status, f.Addons[1].Issues = "DEGRADED", []string{"InsufficientNumberOfReplicas: The add-on is unhealthy because it doesn't have the desired number of replicas."}
	f.Addons = append(f.Addons, cloud.AddonFacts{Name: "metrics-server", Exists: true, Status: "ACTIVE", Version: "v0.8.0-eksbuild.2"})
	f.Unread = map[string]error{Key(KindRelease, "external-secrets/external-secrets"): errors.New(`helm list: helm list --namespace external-secrets ... exited with code 1: Kubernetes cluster unreachable`)}
	return f
}

// fresh is a staging environment before anything was made: nothing exists,
// so helm is not asked.
func fresh(p *config.Profile) Facts {
	f := Facts{AccountID: "123456789012",
		Cluster:     cloud.ClusterFacts{Name: p.Cluster.Name},
		NodeGroup:   cloud.NodeGroupFacts{Name: p.Cluster.NodeGroup.Name},
		Database:    cloud.DBFacts{Identifier: p.Database.Identifier},
		Redis:       cloud.RedisFacts{ID: p.Redis.ReplicationGroupID},
		Storage:     cloud.BucketFacts{Name: p.StorageBucketName("123456789012")},
		StateBucket: cloud.BucketFacts{Name: p.StateBucketName("123456789012")},
	}
	for _, n := range IRSARoles(p) {
		f.Roles = append(f.Roles, cloud.RoleFacts{Name: n})
	}
	for _, n := range p.Registry.Repositories {
		f.Repositories = append(f.Repositories, cloud.RepositoryFacts{Name: n})
	}
	for _, n := range p.SecretNames() {
		f.Secrets = append(f.Secrets, cloud.SecretFacts{Name: n})
	}
	ReadReleases(context.Background(), &f, p, "/nonexistent", ".bootstrap/staging/kubeconfig", nil)
	return f
}

func TestGolden(t *testing.T) {
	t.Parallel()
	prod, staging := config.Builtin("production"), config.Builtin("staging")
	tests := []struct {
		golden string
		p      *config.Profile
		facts  Facts
		json   bool
	}{
		{"production-matching.golden", prod, matching(prod), false},
		{"production-mixed.golden", prod, mixed(prod), false},
		{"production-mixed.json.golden", prod, mixed(prod), true},
		{"staging-fresh.golden", staging, fresh(staging), false},
		{"staging-fresh.json.golden", staging, fresh(staging), true},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			rep := Compare(tt.p, tt.facts)
			var err error
			if tt.json {
				err = factory.WriteJSON(&out, rep)
			} else {
				err = Write(&out, rep)
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tt.golden, out.Bytes())
		})
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	var got *Options
	cmd := NewCmd(&factory.Factory{}, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--env", "staging", "-o", "json", "--kubeconfig", "/tmp/kc"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Env != "staging" || !got.Output.JSON() || got.Kubeconfig != "/tmp/kc" {
		t.Errorf("parsed %+v", got)
	}
	for _, args := range [][]string{{"--env", "staging", "--output", "yaml"}, {}} {
		f := &factory.Factory{IO: &factory.IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Now: time.Now}
		cmd := NewCmd(f, nil)
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		var fe *factory.FlagError
		if err := cmd.ExecuteContext(context.Background()); !errors.As(err, &fe) {
			t.Errorf("bootstrap status %q: got %v, want a usage error", args, err)
		}
	}
}

// fakeAWS answers from matching facts, failing where told.
type fakeAWS struct {
	f                            Facts
	fail                         map[string]error // by method name
	clusterAsked, nodeGroupAsked bool
}

func (a *fakeAWS) err(m string) error { return a.fail[m] }
func (a *fakeAWS) AccountID(context.Context) (string, error) {
	return a.f.AccountID, a.err("AccountID")
}
func (a *fakeAWS) ClusterFacts(context.Context, string) (cloud.ClusterFacts, error) {
	a.clusterAsked = true
	return a.f.Cluster, a.err("ClusterFacts")
}
func (a *fakeAWS) NodeGroupFacts(context.Context, string, string) (cloud.NodeGroupFacts, error) {
	a.nodeGroupAsked = true
	return a.f.NodeGroup, a.err("NodeGroupFacts")
}
func (a *fakeAWS) RoleFacts(_ context.Context, name string) (cloud.RoleFacts, error) {
	for _, r := range a.f.Roles {
		if r.Name == name {
			return r, a.err("RoleFacts")
		}
	}
	return cloud.RoleFacts{Name: name}, a.err("RoleFacts")
}
func (a *fakeAWS) DBFacts(context.Context, string) (cloud.DBFacts, error) {
	return a.f.Database, a.err("DBFacts")
}
func (a *fakeAWS) RedisFacts(context.Context, string) (cloud.RedisFacts, error) {
	return a.f.Redis, a.err("RedisFacts")
}
func (a *fakeAWS) BucketFacts(_ context.Context, name string) (cloud.BucketFacts, error) {
	if name == a.f.StateBucket.Name {
		return a.f.StateBucket, a.err("BucketFacts")
	}
	return a.f.Storage, a.err("BucketFacts")
}
func (a *fakeAWS) RepositoryFacts(_ context.Context, name string) (cloud.RepositoryFacts, error) {
	return cloud.RepositoryFacts{Name: name, Exists: true}, a.err("RepositoryFacts")
}
func (a *fakeAWS) SecretFacts(_ context.Context, name string) (cloud.SecretFacts, error) {
	return cloud.SecretFacts{Name: name, Exists: true, HasValue: true}, a.err("SecretFacts")
}

func (a *fakeAWS) Addons(context.Context, string) ([]cloud.AddonFacts, error) {
	return a.f.Addons, a.err("Addons")
}

func TestReadAWS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := config.Builtin("production")

	// Wrong credentials: nothing can be read, and that is the error.
	api := &fakeAWS{f: matching(p), fail: map[string]error{"AccountID": errors.New("InvalidClientTokenId")}}
	if _, err := ReadAWS(ctx, api, p); err == nil || api.clusterAsked {
		t.Errorf("account unreadable: err %v, went on: %v", err, api.clusterAsked)
	}

	// One service denied: its rows are unknown, the rest read.
	api = &fakeAWS{f: matching(p), fail: map[string]error{"DBFacts": errors.New("AccessDenied")}}
	f, err := ReadAWS(ctx, api, p)
	if err != nil {
		t.Fatal(err)
	}
	rep := Compare(p, f)
	if r := row(t, rep, KindDatabase, "sovd-production"); r.Exists != Unknown {
		t.Errorf("RDS row %+v", r)
	}
	if r := row(t, rep, KindRedis, "sovd-production"); r.Exists != Yes {
		t.Errorf("Redis row %+v", r)
	}
	if rep.Err() == nil {
		t.Error("an unread component must fail the command")
	}

	// No cluster: the node group is not asked about, and is missing.
	m := matching(p)
	m.Cluster = cloud.ClusterFacts{Name: p.Cluster.Name}
	api = &fakeAWS{f: m}
	f, err = ReadAWS(ctx, api, p)
	if err != nil || api.nodeGroupAsked || f.NodeGroup.Exists {
		t.Errorf("no cluster: err %v, node group asked %v, %+v", err, api.nodeGroupAsked, f.NodeGroup)
	}
	if f.Storage.Name != "sovd-production-backups-123456789012" || f.StateBucket.Name != "bootstrap-tfstate-123456789012-us-east-1" {
		t.Errorf("bucket names %q %q", f.Storage.Name, f.StateBucket.Name)
	}
}

func TestReadReleases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := config.Builtin("production")
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	never := func(context.Context, addons.Chart) (*addons.ReleaseStatus, error) {
		t.Error("helm asked")
		return nil, nil
	}

	// No cluster: not asked.
	f := Facts{Cluster: cloud.ClusterFacts{Name: p.Cluster.Name}}
	ReadReleases(ctx, &f, p, kubeconfig, ".bootstrap/production/kubeconfig", never)
	if len(f.Releases) != len(addons.All) || !strings.Contains(f.Releases[0].Unknown, "cluster sovd-production-cluster does not exist") {
		t.Errorf("no cluster: %+v", f.Releases)
	}

	// A cluster but no kubeconfig: not asked, and the row says who writes it.
	f = Facts{Cluster: cloud.ClusterFacts{Name: p.Cluster.Name, Exists: true}}
	ReadReleases(ctx, &f, p, kubeconfig, ".bootstrap/production/kubeconfig", never)
	if !strings.Contains(f.Releases[0].Unknown, "no kubeconfig at .bootstrap/production/kubeconfig (bootstrap addons --env production writes it") {
		t.Errorf("no kubeconfig: %+v", f.Releases[0])
	}
	if err := Compare(p, f).Err(); err != nil {
		t.Errorf("releases not asked must not fail: %v", err)
	}

	// Both: helm is asked once per chart; a failure is a read error.
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var asked []string
	f = Facts{Cluster: cloud.ClusterFacts{Name: p.Cluster.Name, Exists: true}}
	ReadReleases(ctx, &f, p, kubeconfig, kubeconfig, func(_ context.Context, c addons.Chart) (*addons.ReleaseStatus, error) {
		asked = append(asked, c.Release)
		if c.Release == addons.ExternalSecrets.Release {
			return nil, errors.New("Kubernetes cluster unreachable")
		}
		return &addons.ReleaseStatus{Name: c.Release, Namespace: c.Namespace, Status: "deployed", Chart: c.NameVersion()}, nil
	})
	eso := slices.IndexFunc(addons.All, func(a addons.Addon) bool { return a.Release == addons.ExternalSecrets.Release })
	if len(asked) != len(addons.All) || f.Releases[0].Release == nil || f.Releases[eso].Release != nil {
		t.Errorf("asked %v, releases %+v", asked, f.Releases)
	}
	if err := f.Unread[Key(KindRelease, "external-secrets/external-secrets")]; err == nil {
		t.Errorf("helm's failure not kept: %v", f.Unread)
	}
}
