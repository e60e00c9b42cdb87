package pipeline

import (
	"context"
	"slices"

	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/sovd/bootstrap/internal/cloud"
)

// RedisAuthAPI is what the Redis AUTH step needs from AWS; *cloud.Clients is
// the real one.
type RedisAuthAPI interface {
	CurrentSecretVersion(ctx context.Context, secretID, field string) (cloud.SecretVersion, error)
	LabelSecretVersion(ctx context.Context, secretID, label, versionID, fromVersionID string) error
	RedisAuthStatus(ctx context.Context, groupID string) (cloud.RedisAuth, error)
	ModifyRedisAuth(ctx context.Context, groupID, token string, strategy ectypes.AuthTokenUpdateStrategyType) error
}

// Staging labels on the versions of the <prefix>/redis secret: which token
// Redis holds. They live on the secret, beside the token, because
// ElastiCache never shows a token and a tag on the replication group would
// be removed by the next terraform apply.
const (
	// RedisTokenSet marks the version whose token is Redis's only token.
	RedisTokenSet = "BOOTSTRAP_REDIS_AUTH_SET"
	// RedisTokenRotated marks the version whose token Redis accepts beside
	// the previous one (ROTATE done, SET not yet).
	RedisTokenRotated = "BOOTSTRAP_REDIS_AUTH_ROTATED"
)

// redisAuthPlan is what the AUTH step does for a state of the group and the
// secret.
type redisAuthPlan int

const (
	redisAuthNothing redisAuthPlan = iota // the current token is Redis's only one
	redisAuthEnable                       // no AUTH yet: ROTATE (first token), then SET
	redisAuthRotate                       // a new token: ROTATE, both stay valid until the next run
	redisAuthFinish                       // rotated before: SET, the old token stops working
	redisAuthAdopt                        // AUTH on, no label anywhere: set before bootstrap tracked it
)

// planRedisAuth decides from AUTH being on and the labels of the secret's
// current version (and whether any version carries one).
func planRedisAuth(enabled bool, current cloud.SecretVersion) redisAuthPlan {
	switch {
	case !enabled:
		return redisAuthEnable
	case slices.Contains(current.Labels, RedisTokenSet):
		return redisAuthNothing
	case slices.Contains(current.Labels, RedisTokenRotated):
		return redisAuthFinish
	case current.Labelled[RedisTokenSet] == "" && current.Labelled[RedisTokenRotated] == "":
		return redisAuthAdopt
	}
	return redisAuthRotate
}

// syncRedisAuth makes Redis accept the token of the secret's current
// version, with ElastiCache's two-step rotation (ModifyReplicationGroup
// AuthTokenUpdateStrategy; "Modifying the AUTH token on an existing
// cluster", https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html):
//
//   - a new token (generated_secrets_version raised) is added with ROTATE:
//     Redis then accepts the old and the new token, so running pods keep
//     working while their Secret refreshes; the next run retires the old
//     token with SET;
//   - a group without AUTH gets its first token with ROTATE, then SET at once
//     (no client holds an older token).
//
// Each modification waits for the group to be available again. Re-running
// after a failure finishes the job: the labels move only after ElastiCache
// took the change.
func syncRedisAuth(ctx context.Context, api RedisAuthAPI, st *State, group, secretID string) error {
	cur, err := api.CurrentSecretVersion(ctx, secretID, "auth_token")
	if err != nil {
		return err
	}
	st.Redact.Add(cur.Value)
	auth, err := api.RedisAuthStatus(ctx, group)
	if err != nil {
		return err
	}
	modify := func(strategy ectypes.AuthTokenUpdateStrategyType) error {
		if err := waitRedisAvailable(ctx, api, st, group); err != nil {
			return err
		}
		st.forget(foundData + "aws_elasticache_replication_group.this") // its status and AUTH change now
		if err := api.ModifyRedisAuth(ctx, group, cur.Value, strategy); err != nil {
			return err
		}
		return waitRedisAvailable(ctx, api, st, group)
	}
	setLabel := func() error {
		if err := api.LabelSecretVersion(ctx, secretID, RedisTokenSet, cur.VersionID, cur.Labelled[RedisTokenSet]); err != nil {
			return err
		}
		return api.LabelSecretVersion(ctx, secretID, RedisTokenRotated, "", cur.Labelled[RedisTokenRotated])
	}
	switch planRedisAuth(auth.Enabled, cur) {
	case redisAuthNothing:
		return nil
	case redisAuthAdopt:
		st.Progress.Info("Redis AUTH is on and %s carries no %s label: taking its current version as the token Redis holds", secretID, RedisTokenSet)
		return setLabel()
	case redisAuthEnable:
		if err := modify(ectypes.AuthTokenUpdateStrategyTypeRotate); err != nil {
			return err
		}
		if err := modify(ectypes.AuthTokenUpdateStrategyTypeSet); err != nil {
			return err
		}
		return setLabel()
	case redisAuthFinish:
		if err := modify(ectypes.AuthTokenUpdateStrategyTypeSet); err != nil {
			return err
		}
		return setLabel()
	}
	// redisAuthRotate
	if err := modify(ectypes.AuthTokenUpdateStrategyTypeRotate); err != nil {
		return err
	}
	if err := api.LabelSecretVersion(ctx, secretID, RedisTokenRotated, cur.VersionID, cur.Labelled[RedisTokenRotated]); err != nil {
		return err
	}
	st.Progress.Info("Redis now accepts the old and the new AUTH token of %s: once the app's pods run with the new one (the ExternalSecret refreshes within its refresh interval; restart the pods), run bootstrap data --env %s again to retire the old token (SET)", secretID, st.Profile.Name)
	return nil
}

func waitRedisAvailable(ctx context.Context, api RedisAuthAPI, st *State, group string) error {
	return poll(ctx, st.Poll, "replication group "+group+" to be available", func(ctx context.Context) (bool, error) {
		a, err := api.RedisAuthStatus(ctx, group)
		return a.Status == "available", err
	})
}
