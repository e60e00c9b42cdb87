package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// countingOwner answers every lookup by name with "not there" (or what
// exists holds) and counts the lookups.
type countingOwner struct {
	OwnerAPI // nil: a method not overridden here is not expected
	mu       sync.Mutex
	calls    map[string]int
	exists   map[string]bool
}

func (c *countingOwner) answer(kind cloud.Kind, name string) (cloud.Found, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[string(kind)+"/"+name]++
	if c.exists[name] {
		return cloud.Found{Kind: kind, Name: name, ID: name, Tags: envOwnership(config.Builtin("staging"))}, nil
	}
	return cloud.Found{}, nil
}

func (c *countingOwner) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func (c *countingOwner) FindRole(_ context.Context, n string) (cloud.Found, error) {
	return c.answer(cloud.KindRole, n)
}
func (c *countingOwner) FindLogGroup(_ context.Context, n string) (cloud.Found, error) {
	return c.answer(cloud.KindLogGroup, n)
}
func (c *countingOwner) FindKMSKeyByAlias(_ context.Context, n string) (cloud.Found, error) {
	return c.answer(cloud.KindKMSKey, n)
}
func (c *countingOwner) FindKMSAlias(_ context.Context, n string) (cloud.Found, error) {
	return c.answer(cloud.KindKMSAlias, n)
}
func (c *countingOwner) FindKMSKeysByTags(_ context.Context, tags map[string]string) ([]cloud.Found, error) {
	f, err := c.answer(cloud.KindKMSKey, tags["Name"])
	if !f.Exists() {
		return nil, err
	}
	return []cloud.Found{f}, err
}
func (c *countingOwner) FindCluster(_ context.Context, n string) (cloud.Found, error) {
	return c.answer(cloud.KindCluster, n)
}
func (c *countingOwner) FindBucket(_ context.Context, n string) (cloud.Found, error) {
	return c.answer("bucket", n)
}
func (c *countingOwner) FindSecret(_ context.Context, n string) (cloud.Found, error) {
	return c.answer("secret", n)
}
func (c *countingOwner) FindDBParameterGroup(_ context.Context, n string) (cloud.Found, error) {
	return c.answer("dbpg", n)
}
func (c *countingOwner) FindDBSubnetGroup(_ context.Context, n string) (cloud.Found, error) {
	return c.answer("dbsg", n)
}
func (c *countingOwner) FindCacheSubnetGroup(_ context.Context, n string) (cloud.Found, error) {
	return c.answer("csg", n)
}
func (c *countingOwner) FindRepository(_ context.Context, n string) (cloud.Found, error) {
	return c.answer("repo", n)
}
func (c *countingOwner) FindDBInstance(_ context.Context, n string) (cloud.Found, error) {
	return c.answer("db", n)
}
func (c *countingOwner) FindReplicationGroup(_ context.Context, n string) (cloud.Found, error) {
	return c.answer("redis", n)
}

// TestLookupsReadOnceUntilChanged: the ownership check looks every object
// up once; the data step's adoption reuses those reads (no call); after the
// step that changes the data tier forgets it, the next lookup reads again
// and sees the change, while what did not change (the cluster, the roles)
// is still served from the cache.
func TestLookupsReadOnceUntilChanged(t *testing.T) {
	t.Parallel()
	st := clusterState(t, "staging", nil)
	st.AccountID = "111122223333"
	api := &countingOwner{calls: map[string]int{}, exists: map[string]bool{}}
	ctx := context.Background()

	if _, _, err := findForeign(ctx, api, st); err != nil {
		t.Fatal(err)
	}
	checked := api.total()
	for k, n := range api.calls {
		if n != 1 {
			t.Errorf("the ownership check looked %s up %d times", k, n)
		}
	}
	// The adoption's lookups (those that need no network): all cached.
	lookupAll := func() map[string]cloud.Found {
		got := map[string]cloud.Found{}
		for _, o := range orphans(st, dataInputs(st)) {
			if o.needsNetwork {
				continue
			}
			f, err := o.lookup(ctx, st, api, nil)
			if err != nil {
				t.Fatal(err)
			}
			got[o.address] = f
		}
		return got
	}
	lookupAll()
	if n := api.total(); n != checked {
		t.Errorf("adoption after the ownership check made %d lookups, want 0", n-checked)
	}
	// The apply makes the database: it forgets the data tier, and the next
	// lookup is fresh.
	db := st.Profile.Database.Identifier
	api.exists[db] = true
	if lookupAll()["aws_db_instance.this"].Exists() {
		t.Fatal("the database was seen before the run changed anything: the cache is not used")
	}
	st.forget(foundData)
	if !lookupAll()["aws_db_instance.this"].Exists() {
		t.Error("after the data tier was forgotten, the lookup still hides the database the run made")
	}
	if api.calls["db/"+db] != 2 {
		t.Errorf("database looked up %d times, want 2 (before and after the change)", api.calls["db/"+db])
	}
	// The cluster and roles were not forgotten: the ownership check again
	// reads only the data tier.
	before := api.calls[string(cloud.KindCluster)+"/"+st.Profile.Cluster.Name]
	if _, _, err := findForeign(ctx, api, st); err != nil {
		t.Fatal(err)
	}
	if after := api.calls[string(cloud.KindCluster)+"/"+st.Profile.Cluster.Name]; after != before {
		t.Errorf("the cluster was looked up again though nothing changed it")
	}
	if exists, seen := st.seenExists(foundCluster + st.Profile.Cluster.Name); !seen || exists {
		t.Errorf("the cluster's lookup: seen %v exists %v, want seen and missing", seen, exists)
	}
	st.forget(foundCluster)
	if _, seen := st.seenExists(foundCluster + st.Profile.Cluster.Name); seen {
		t.Error("the cluster is still seen after eksctl's step forgot it")
	}
}

// TestTerraformOpenedOncePerRun: every step of a run gets the same driver
// (one binary lookup, one init per backend, one read of the state per
// change), a Parallel lane too; a read-only run works in a directory of its
// own and so has a driver of its own.
func TestTerraformOpenedOncePerRun(t *testing.T) {
	// Locate asks the chosen binary its version (tfdriver.checkChosen) and
	// runs nothing else with it here.
	fake := filepath.Join(t.TempDir(), "terraform")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho '{\"terraform_version\":\""+tfdriver.MinVersion.String()+"\"}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(tfdriver.EnvBinary, fake)
	st := clusterState(t, "staging", nil)
	var got []*tfdriver.Driver
	open := Func{Title: "open", Fn: func(ctx context.Context, st *State) error {
		d, err := st.Stateful(ctx)
		got = append(got, d)
		return err
	}}
	var lane *tfdriver.Driver
	inLane := Func{Title: "lane", Fn: func(ctx context.Context, st *State) error {
		d, err := st.Stateful(ctx)
		lane = d
		return err
	}}
	if err := Run(context.Background(), st, "bootstrap data", []Step{open, Parallel{Title: "p", Lanes: []Lane{{Name: "data", Steps: []Step{inLane}}}}, open}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] == nil || got[0] != got[1] || lane != got[0] {
		t.Errorf("the steps of one run got drivers %p %p and the lane %p: want one", got[0], got[1], lane)
	}
	st.ReadOnly = true
	ro, err := st.Stateful(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ro == got[0] || !strings.Contains(ro.Dir(), filepath.Join("read", StatefulDir)) {
		t.Errorf("a read-only run shares the driver of %s: %s", got[0].Dir(), ro.Dir())
	}
}
