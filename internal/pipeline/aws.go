package pipeline

import (
	"context"
	"errors"
	"sync"

	"github.com/sovd/bootstrap/internal/cloud"
)

// AWS is the run's AWS clients: one configuration, one credential cache,
// one region. Steps get it from the State (State.Cloud), never open their
// own.
type AWS = cloud.Clients

// CredentialsError is AWS credentials that are missing or expired, with
// the command that fixes them; commands add their own way out (Also).
type CredentialsError = cloud.CredentialsError

// Identity is who the caller's credentials are (sts get-caller-identity).
type Identity = cloud.Identity

// OpenAWSFunc opens the run's AWS clients; the State carries one, opened on
// first use (LazyAWS).
type OpenAWSFunc func(ctx context.Context) (*AWS, error)

// OpenAWS opens AWS clients for a region from the SDK's default
// configuration chain (environment, shared files, SSO, instance role;
// AWS_ENDPOINT_URL included, which is how the tests point everything at a
// local moto server). It is the one place bootstrap opens AWS clients.
func OpenAWS(ctx context.Context, region string) (*AWS, error) {
	return cloud.New(ctx, region)
}

// LazyAWS is a handle that opens the clients with open on first use and
// gives the same clients after (cli's Factory.HttpClient). A failed open
// (say a cancelled context) is tried again on the next use. It is safe for
// the lanes of a Parallel step to share.
func LazyAWS(open OpenAWSFunc) OpenAWSFunc {
	var (
		mu sync.Mutex
		c  *AWS
	)
	return func(ctx context.Context) (*AWS, error) {
		mu.Lock()
		defer mu.Unlock()
		if c != nil {
			return c, nil
		}
		opened, err := open(ctx)
		if err != nil {
			return nil, err
		}
		c = opened
		return c, nil
	}
}

// RegionAWS is the lazily opened handle of a region's clients (OpenAWS).
func RegionAWS(region string) OpenAWSFunc {
	return LazyAWS(func(ctx context.Context) (*AWS, error) { return OpenAWS(ctx, region) })
}

// errNoAWS is a State made without an AWS handle asked for one: a
// programming error, not the user's.
var errNoAWS = errors.New("internal error: this run has no AWS handle (State.AWS)")

// Cloud returns the run's AWS clients, opening them on first use.
func (st *State) Cloud(ctx context.Context) (*AWS, error) {
	if st.AWS == nil {
		return nil, errNoAWS
	}
	return st.AWS(ctx)
}

// apiOf is a step's AWS interface: the one injected into the step (a unit
// test's fake), or else the run's clients. Every interface a step takes is
// one *AWS implements (the assertions below), so the conversion cannot fail.
func apiOf[T any](ctx context.Context, st *State, injected T) (T, error) {
	if any(injected) != nil {
		return injected, nil
	}
	c, err := st.Cloud(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return any(c).(T), nil
}

// The run's clients are each step's narrow interface.
var (
	_ ClusterAPI    = (*AWS)(nil)
	_ NodeGroupAPI  = (*AWS)(nil)
	_ DataAPI       = (*AWS)(nil)
	_ EKSExtraAPI   = (*AWS)(nil)
	_ LockAPI       = (*AWS)(nil)
	_ OwnerAPI      = (*AWS)(nil)
	_ TeardownAPI   = (*AWS)(nil)
	_ NetworkAPI    = (*AWS)(nil)
	_ AccountReader = (*AWS)(nil)
	_ UpgradeAPI    = (*AWS)(nil)
	_ DBRoleAPI     = (*AWS)(nil)
	_ HostedZoneAPI = (*AWS)(nil)
)
