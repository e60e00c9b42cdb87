package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/shell"
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
	redisAuthWait                         // rotated, too recently for every pod to hold the new token: not yet
)

// RedisSetAfter is how long after the new token was written the old one
// may be retired (SET): External Secrets copies the new token into the
// app's Secret within its refresh interval, and Reloader then rolls the
// pods, a few minutes more. A SET before that would cut off every pod
// still holding the old token.
const RedisSetAfter = addons.AppSecretRefresh + 5*time.Minute

// planRedisAuth decides from AUTH being on and the labels of the secret's
// current version (and whether any version carries one); now is the time
// the SET after a rotation waits for (RedisSetAfter).
func planRedisAuth(enabled bool, current cloud.SecretVersion, now time.Time) redisAuthPlan {
	switch {
	case !enabled:
		return redisAuthEnable
	case slices.Contains(current.Labels, RedisTokenSet):
		return redisAuthNothing
	case slices.Contains(current.Labels, RedisTokenRotated):
		// A version of unknown age waits as one just written (the script
		// stops on it).
		if current.Created.IsZero() || now.Before(current.Created.Add(RedisSetAfter)) {
			return redisAuthWait
		}
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
	switch planRedisAuth(auth.Enabled, cur, now(st)) {
	case redisAuthNothing:
		return nil
	case redisAuthWait:
		st.Progress.Info("Redis accepts the old and the new AUTH token of %s: the old one is retired (SET) by a run from %s on, once External Secrets (every %s) and Reloader can have given every pod the new one; run bootstrap data --env %s again then",
			secretID, cur.Created.Add(RedisSetAfter).UTC().Format("2006-01-02 15:04 MST"), addons.AppSecretRefresh, st.Profile.Name)
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
	st.Progress.Info("Redis now accepts the old and the new AUTH token of %s: once the app's pods run with the new one (External Secrets refreshes every %s, then Reloader restarts them), run bootstrap data --env %s again, from %s on, to retire the old token (SET)",
		secretID, addons.AppSecretRefresh, st.Profile.Name, cur.Created.Add(RedisSetAfter).UTC().Format("2006-01-02 15:04 MST"))
	return nil
}

func waitRedisAvailable(ctx context.Context, api RedisAuthAPI, st *State, group string) error {
	return poll(ctx, st.Poll, "replication group "+group+" to be available", func(ctx context.Context) (bool, error) {
		a, err := api.RedisAuthStatus(ctx, group)
		return a.Status == "available", err
	})
}

// jqEpoch is a jq function: a timestamp as the aws CLI prints it (epoch
// seconds, or ISO 8601 with a zone) in epoch seconds.
const jqEpoch = `def epoch: if type == "number" then . else (match("^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$").captures | map(.string)) as [$t, $f, $z] | (($t + "Z") | fromdateiso8601) - (if $z == "Z" then 0 else ($z | gsub(":"; "")) as $o | (if $o[0:1] == "+" then 1 else -1 end) * (($o[1:3] | tonumber) * 3600 + ($o[3:5] | tonumber) * 60) end) end; `

// Describe implements Describer: syncRedisAuth as bash. The script reads
// the group's AUTH flag and the secret's labels once, picks the same plan
// as planRedisAuth (a test runs both against moto), and acts on it; the
// token goes from Secrets Manager to ElastiCache through a pipe (the aws
// CLI reads --auth-token file:///dev/stdin), never on a command line.
func (SetRedisAuth) Describe(_ context.Context, st *State) (Description, error) {
	secret := st.Profile.Secrets.Prefix + "/redis"
	region, group := st.Profile.Region, st.Profile.Redis.ReplicationGroupID
	q := func(s string) string { return shell.Quote([]string{s}) }
	aws := func(args ...string) string { return shell.Quote(append([]string{"aws"}, args...)) }
	wait := aws("elasticache", "wait", "replication-group-available", "--region", region, "--replication-group-id", group)
	stage := func(args ...string) string {
		return aws(append([]string{"secretsmanager", "update-secret-version-stage", "--region", region, "--secret-id", secret}, args...)...)
	}
	holder := func(label string) string {
		return "$(jq -r " + q(`(. // {}) | to_entries[] | select(.value | index("`+label+`")) | .key`) + ` <<<"${REDIS_STAGES}")`
	}
	lines := []string{
		"# The state, read once: AUTH on, and which versions of " + secret + " carry the labels.",
		"REDIS_AUTH_ENABLED=$(" + aws("elasticache", "describe-replication-groups", "--region", region, "--replication-group-id", group,
			"--query", "ReplicationGroups[0].AuthTokenEnabled", "--output", "text") + ")",
		"REDIS_STAGES=$(" + aws("secretsmanager", "describe-secret", "--region", region, "--secret-id", secret, "--query", "VersionIdsToStages", "--output", "json") + ")",
		"REDIS_TOKEN_VERSION_ID=" + holder("AWSCURRENT"),
		"REDIS_SET_ON=" + holder(RedisTokenSet),
		"REDIS_ROTATED_ON=" + holder(RedisTokenRotated),
		`if [ -z "${REDIS_TOKEN_VERSION_ID}" ]; then`,
		"  echo " + q(secret+" has no current version: apply the data tier first") + " >&2",
		"  exit 1",
		"fi",
		"# The plan, as bootstrap picks it.",
		`if [ "${REDIS_AUTH_ENABLED}" != True ]; then`,
		"  REDIS_AUTH_PLAN=enable # no AUTH yet: ROTATE gives the first token, SET at once (no client holds an older one)",
		`elif [ "${REDIS_SET_ON}" = "${REDIS_TOKEN_VERSION_ID}" ]; then`,
		"  REDIS_AUTH_PLAN=nothing # Redis holds the current token, alone",
		`elif [ "${REDIS_ROTATED_ON}" = "${REDIS_TOKEN_VERSION_ID}" ]; then`,
		"  REDIS_AUTH_PLAN=finish # rotated by an earlier run: SET retires the old token",
		fmt.Sprintf("  # Not before every pod can hold the new token: %s after the version was written (External Secrets refreshes every %s, then Reloader rolls the pods).",
			RedisSetAfter, addons.AppSecretRefresh),
		"  # The CLI prints CreatedDate as epoch seconds (v1) or ISO 8601 (v2).",
		"  REDIS_SET_FROM=$(" + aws("secretsmanager", "list-secret-version-ids", "--region", region, "--secret-id", secret, "--output", "json") +
			` | jq -r --arg id "${REDIS_TOKEN_VERSION_ID}" --argjson after ` + fmt.Sprint(int(RedisSetAfter/time.Second)) + " " + q(jqEpoch+`[.Versions[] | select(.VersionId == $id) | .CreatedDate | epoch + $after | floor][0] // empty`) + ")",
		`  if [ -z "${REDIS_SET_FROM}" ]; then`,
		"    echo " + q("cannot read when the current version of "+secret+" was written: the old token stays until it can be") + " >&2",
		"    exit 1",
		"  fi",
		`  if [ "$(date +%s)" -lt "${REDIS_SET_FROM}" ]; then`,
		"    REDIS_AUTH_PLAN=later",
		"  fi",
		`elif [ -z "${REDIS_SET_ON}${REDIS_ROTATED_ON}" ]; then`,
		"  REDIS_AUTH_PLAN=adopt # AUTH set before the labels were kept: the current version is the token Redis holds",
		"else",
		"  REDIS_AUTH_PLAN=rotate # a new token (generated_secrets_version raised): ROTATE, old and new both valid until the next run",
		"fi",
		`case "${REDIS_AUTH_PLAN}" in`,
		"  enable) REDIS_STRATEGIES=(ROTATE SET) ;;",
		"  finish) REDIS_STRATEGIES=(SET) ;;",
		"  rotate) REDIS_STRATEGIES=(ROTATE) ;;",
		"  adopt)",
		"    echo " + q("Redis AUTH is on and "+secret+" carries no "+RedisTokenSet+" label: taking its current version as the token Redis holds") + " >&2",
		"    REDIS_STRATEGIES=()",
		"    ;;",
		"  *) REDIS_STRATEGIES=() ;;",
		"esac",
		`for REDIS_STRATEGY in "${REDIS_STRATEGIES[@]}"; do`,
		"  " + wait,
		"  " + aws("secretsmanager", "get-secret-value", "--region", region, "--secret-id", secret, "--version-id", "${REDIS_TOKEN_VERSION_ID}", "--query", "SecretString", "--output", "text") + " |",
		"    jq -j .auth_token |",
		"    " + aws("elasticache", "modify-replication-group", "--region", region, "--replication-group-id", group, "--auth-token", "file:///dev/stdin",
			"--auth-token-update-strategy", "${REDIS_STRATEGY}", "--apply-immediately", "--query", "ReplicationGroup.Status", "--output", "text"),
		"  " + wait,
		"done",
		`case "${REDIS_AUTH_PLAN}" in`,
		"  nothing) echo " + q("Redis holds the current token of "+secret+": nothing to do") + " ;;",
		"  later)",
		`    echo "Redis accepts the old and the new AUTH token of ` + secret + `: the old one is retired (SET) by a run from $(jq -rn --argjson t "${REDIS_SET_FROM}" '$t | todate') on, once External Secrets and Reloader can have given every pod the new one; run this step again then" >&2`,
		"    ;;",
		"  enable | finish | adopt)",
		"    # The label says Redis holds the current version's token, alone.",
		"    REDIS_FROM=()",
		`    if [ -n "${REDIS_SET_ON}" ]; then REDIS_FROM=(--remove-from-version-id "${REDIS_SET_ON}"); fi`,
		"    " + stage("--version-stage", RedisTokenSet, "--move-to-version-id", "${REDIS_TOKEN_VERSION_ID}") + ` "${REDIS_FROM[@]}" >/dev/null`,
		`    if [ -n "${REDIS_ROTATED_ON}" ]; then`,
		"      " + stage("--version-stage", RedisTokenRotated, "--remove-from-version-id", "${REDIS_ROTATED_ON}") + " >/dev/null",
		"    fi",
		"    ;;",
		"  rotate)",
		"    REDIS_FROM=()",
		`    if [ -n "${REDIS_ROTATED_ON}" ]; then REDIS_FROM=(--remove-from-version-id "${REDIS_ROTATED_ON}"); fi`,
		"    " + stage("--version-stage", RedisTokenRotated, "--move-to-version-id", "${REDIS_TOKEN_VERSION_ID}") + ` "${REDIS_FROM[@]}" >/dev/null`,
		"    echo " + q("Redis now accepts the old and the new AUTH token of "+secret+": once the app's pods run with the new one (the ExternalSecret refreshes within its refresh interval; restart the pods), run this step again to retire the old token (SET)") + " >&2",
		"    ;;",
		"esac",
	}
	script := strings.Join(lines, "\n") + "\n"
	// shell.Quote single-quotes ${...}: the script's variables must expand.
	script = strings.NewReplacer("'${REDIS_TOKEN_VERSION_ID}'", `"${REDIS_TOKEN_VERSION_ID}"`,
		"'${REDIS_SET_ON}'", `"${REDIS_SET_ON}"`, "'${REDIS_STRATEGY}'", `"${REDIS_STRATEGY}"`, "'${REDIS_ROTATED_ON}'", `"${REDIS_ROTATED_ON}"`).Replace(script)
	return Description{Actions: []Action{{
		Tool: "bash", Script: script,
		Note: "the token goes from Secrets Manager to Redis and stays out of Terraform state, as bootstrap does it: read the group's AUTH flag and the labels of " + secret +
			" (" + RedisTokenSet + ": Redis holds that version's token alone; " + RedisTokenRotated + ": beside the previous one), then ROTATE and SET (first token), SET (after a rotation), or ROTATE alone (a new token: SET at the next run, once the app's pods hold it)",
	}}}, nil
}
