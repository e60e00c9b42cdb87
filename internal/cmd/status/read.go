package status

import (
	"context"
	"os"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// AWS is the reads status makes of AWS; *cloud.Clients has them all.
type AWS interface {
	AccountID(ctx context.Context) (string, error)
	ClusterFacts(ctx context.Context, name string) (pipeline.ClusterFacts, error)
	NodeGroupFacts(ctx context.Context, cluster, name string) (pipeline.NodeGroupFacts, error)
	RoleFacts(ctx context.Context, name string) (pipeline.RoleFacts, error)
	DBFacts(ctx context.Context, id string) (pipeline.DBFacts, error)
	RedisFacts(ctx context.Context, id string) (pipeline.RedisFacts, error)
	BucketFacts(ctx context.Context, name string) (pipeline.BucketFacts, error)
	RepositoryFacts(ctx context.Context, name string) (pipeline.RepositoryFacts, error)
	SecretFacts(ctx context.Context, name string) (pipeline.SecretFacts, error)
	Addons(ctx context.Context, cluster string) ([]pipeline.AddonFacts, error)
}

// IRSARoles are the fixed role names: the add-ons' (in install order) and
// the app's, from the add-ons' records (addons.IRSARoleNames).
func IRSARoles(p *config.Profile) []string { return addons.IRSARoleNames(p) }

// ReadAWS reads every AWS component of the profile. Only the account is
// needed to go on (the bucket names are made of it): when it cannot be read
// the credentials are wrong, and that is the error. Any other failed read is
// kept in Facts.Unread and the others are still made.
func ReadAWS(ctx context.Context, api AWS, p *config.Profile) (Facts, error) {
	account, err := api.AccountID(ctx)
	if err != nil {
		return Facts{}, err
	}
	if err := pipeline.CheckAccount(p.Name, account, p.AccountID); err != nil {
		return Facts{}, err
	}
	f := Facts{AccountID: account, Unread: map[string]error{}}
	note := func(kind, name string, err error) {
		if err != nil {
			f.Unread[Key(kind, name)] = err
		}
	}

	f.Cluster, err = api.ClusterFacts(ctx, p.Cluster.Name)
	note(KindCluster, p.Cluster.Name, err)
	f.NodeGroup = pipeline.NodeGroupFacts{Name: p.Cluster.NodeGroup.Name}
	if f.Cluster.Exists || err != nil {
		f.NodeGroup, err = api.NodeGroupFacts(ctx, p.Cluster.Name, p.Cluster.NodeGroup.Name)
		note(KindNodeGroup, p.Cluster.NodeGroup.Name, err)
	}
	if f.Cluster.Exists {
		f.Addons, err = api.Addons(ctx, p.Cluster.Name)
		for _, name := range eksctl.ClusterAddonNames(p.Region, addons.EKSAddonsReplaced()) {
			note(KindAddon, name, err)
		}
	}
	for _, name := range IRSARoles(p) {
		r, err := api.RoleFacts(ctx, name)
		note(KindRole, name, err)
		f.Roles = append(f.Roles, r)
	}
	f.Database, err = api.DBFacts(ctx, p.Database.Identifier)
	note(KindDatabase, p.Database.Identifier, err)
	f.Redis, err = api.RedisFacts(ctx, p.Redis.ReplicationGroupID)
	note(KindRedis, p.Redis.ReplicationGroupID, err)
	storage := p.StorageBucketName(account)
	f.Storage, err = api.BucketFacts(ctx, storage)
	f.Storage.Name = storage
	note(KindStorage, storage, err)
	for _, name := range p.Registry.Repositories {
		r, err := api.RepositoryFacts(ctx, name)
		note(KindRepository, name, err)
		f.Repositories = append(f.Repositories, r)
	}
	for _, name := range p.SecretNames() {
		s, err := api.SecretFacts(ctx, name)
		note(KindSecret, name, err)
		f.Secrets = append(f.Secrets, s)
	}
	state := p.StateBucketName(account)
	f.StateBucket, err = api.BucketFacts(ctx, state)
	f.StateBucket.Name = state
	note(KindState, state, err)
	return f, nil
}

// ListRelease asks helm for the release of one chart: nil when there is none.
type ListRelease func(ctx context.Context, c addons.Chart) (*addons.ReleaseStatus, error)

// ReadReleases fills f.Releases, one per pinned chart. Helm is asked only
// when there is a cluster and a kubeconfig for it; otherwise each release is
// unknown, with the reason, and that is no failure. A failed helm call is
// (in f.Unread).
func ReadReleases(ctx context.Context, f *Facts, p *config.Profile, kubeconfig, shown string, list ListRelease) {
	reason := ""
	switch {
	case f.Unread[Key(KindCluster, p.Cluster.Name)] != nil:
		reason = "not asked: the cluster could not be read"
	case !f.Cluster.Exists:
		reason = "not asked: cluster " + p.Cluster.Name + " does not exist"
	default:
		if _, err := os.Stat(kubeconfig); err != nil {
			reason = "not asked: no kubeconfig at " + shown + " (bootstrap addons --env " + p.Name + " writes it; or give --kubeconfig)"
		}
	}
	if f.Unread == nil {
		f.Unread = map[string]error{}
	}
	for _, a := range addons.All {
		c := a.Chart
		r := ReleaseFacts{Chart: c, Unknown: reason}
		if reason == "" {
			var err error
			if r.Release, err = list(ctx, c); err != nil {
				f.Unread[Key(KindRelease, c.Namespace+"/"+c.Release)] = err
			}
		}
		f.Releases = append(f.Releases, r)
	}
}
