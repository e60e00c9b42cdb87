package pipeline

import (
	"context"
	"strings"
	"sync"

	"github.com/sovd/bootstrap/internal/cloud"
)

// The run's cached reader of the objects it looks up by their predictable
// names (with their tags and status: cloud.Found), as kind's Nodes(): the
// ownership check reads each once and the data step's adoption, and its
// untaint, reuse what it read instead of describing the same object again.
//
// A cached value must never hide a change the run itself made, so the step
// that changes an object forgets it (st.forget) in the same breath: the
// Terraform apply and destroy forget the data tier, eksctl's create and
// delete the cluster and its roles, EnsureStateBucket the state bucket, a
// Redis AUTH change the replication group. The next read after is fresh.
// Shared by the lanes of a Parallel step (a change in one lane is forgotten
// for all).

// Key prefixes of what is looked up, one per thing a step changes whole.
const (
	foundData        = "data:"        // a data-tier object, by its Terraform address
	foundCluster     = "cluster:"     // the EKS cluster
	foundRole        = "role:"        // an IRSA role
	foundStateBucket = "statebucket:" // the Terraform state bucket
)

// foundCache holds the lookups of one run.
type foundCache struct {
	mu sync.Mutex
	m  map[string]cloud.Found
	// reads counts the lookups made (not served from the cache), for tests.
	reads int
}

// found returns the object under key, read with read the first time and
// kept; a failed read is not kept.
func (st *State) found(ctx context.Context, key string, read func(context.Context) (cloud.Found, error)) (cloud.Found, error) {
	c := st.foundCache()
	c.mu.Lock()
	if f, ok := c.m[key]; ok {
		c.mu.Unlock()
		return f, nil
	}
	c.mu.Unlock()
	f, err := read(ctx)
	if err != nil {
		return f, err
	}
	c.mu.Lock()
	c.m[key] = f
	c.reads++
	c.mu.Unlock()
	return f, nil
}

// seenExists says whether the object under key exists, when the run has
// looked it up (seen); else it reads nothing.
func (st *State) seenExists(key string) (exists, seen bool) {
	c := st.foundCache()
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[key]
	return f.Exists(), ok
}

// forget drops what was read under the given key prefixes (foundData, ...):
// the step that changed those objects calls it, so the next read is fresh.
func (st *State) forget(prefixes ...string) {
	c := st.foundCache()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				delete(c.m, k)
			}
		}
	}
}

// foundCache is the run's cache, made by Run before any lane forks; a State
// not started by Run gets one of its own.
func (st *State) foundCache() *foundCache {
	if st.seen == nil {
		st.seen = &foundCache{m: map[string]cloud.Found{}}
	}
	return st.seen
}
