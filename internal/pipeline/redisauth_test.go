package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
)

func TestPlanRedisAuth(t *testing.T) {
	t.Parallel()
	written := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	v := func(labels []string, labelled map[string]string) cloud.SecretVersion {
		return cloud.SecretVersion{VersionID: "v2", Labels: labels, Labelled: labelled, Created: written}
	}
	tests := []struct {
		name    string
		enabled bool
		cur     cloud.SecretVersion
		want    redisAuthPlan
		after   time.Duration // since the version was written; RedisSetAfter when 0
	}{
		{"fresh group", false, v(nil, nil), redisAuthEnable, 0},
		{"fresh group, labels from an older group", false, v([]string{RedisTokenSet}, map[string]string{RedisTokenSet: "v2"}), redisAuthEnable, 0},
		{"current token set", true, v([]string{"AWSCURRENT", RedisTokenSet}, map[string]string{RedisTokenSet: "v2"}), redisAuthNothing, 0},
		{"new version after a set one", true, v([]string{"AWSCURRENT"}, map[string]string{RedisTokenSet: "v1"}), redisAuthRotate, 0},
		{"rotated, not yet set", true, v([]string{"AWSCURRENT", RedisTokenRotated}, map[string]string{RedisTokenSet: "v1", RedisTokenRotated: "v2"}), redisAuthFinish, 0},
		// Not before every pod can hold the new token: External Secrets'
		// refresh, then Reloader's rollout.
		{"rotated a minute short of the wait", true, v([]string{"AWSCURRENT", RedisTokenRotated}, map[string]string{RedisTokenSet: "v1", RedisTokenRotated: "v2"}), redisAuthWait, RedisSetAfter - time.Minute},
		{"rotated just now", true, v([]string{"AWSCURRENT", RedisTokenRotated}, map[string]string{RedisTokenSet: "v1", RedisTokenRotated: "v2"}), redisAuthWait, time.Second},
		{"on before bootstrap tracked it", true, v([]string{"AWSCURRENT"}, map[string]string{}), redisAuthAdopt, 0},
	}
	for _, tt := range tests {
		after := tt.after
		if after == 0 {
			after = RedisSetAfter
		}
		if got := planRedisAuth(tt.enabled, tt.cur, written.Add(after)); got != tt.want {
			t.Errorf("%s: plan %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestRedisAuthRotationAgainstMoto: raising generated_secrets_version
// writes a new token; the AUTH step must make Redis accept it (the bug: it
// returned early because AUTH was on, so the app got a token Redis
// rejected). moto's ModifyReplicationGroup is patched to keep tokens as AWS
// documents (hack/moto/patches.py): ROTATE keeps both valid, SET only the
// new; its /moto-api/data.json shows their digests, standing in for a
// client's AUTH.
func TestRedisAuthRotationAgainstMoto(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	m := testenv.Moto(t)
	m.Use(t)
	ctx := context.Background()
	p := config.Builtin("staging")
	c, err := cloud.New(ctx, p.Region)
	if err != nil {
		t.Fatal(err)
	}
	group, secret := p.Prefix(), p.Secrets.Prefix+"/redis"
	if _, err := c.ElastiCache().CreateReplicationGroup(ctx, &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String(group), ReplicationGroupDescription: aws.String("test"),
		Engine: aws.String("redis"), CacheNodeType: aws.String("cache.t3.small"), NumCacheClusters: aws.Int32(1),
		TransitEncryptionEnabled: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	tokens := []string{"first0token0of0the0test0aaaaaaaaaa", "second0token0of0the0test0bbbbbbbbb"}
	if _, err := c.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(secret), SecretString: aws.String(`{"auth_token":"` + tokens[0] + `"}`),
	}); err != nil {
		t.Fatal(err)
	}
	log := &bytes.Buffer{}
	st := &State{Profile: p, Services: Services{Redact: &proc.Redactor{}, Poll: Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Limit: 30 * time.Second}}}
	st.Progress = NewProgress(log, false, false)
	sync := func(step string) {
		t.Helper()
		if err := syncRedisAuth(ctx, c, st, group, secret); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	valid := func(step string, want ...string) {
		t.Helper()
		got := m.AuthDigests(t, group)
		var wantD []string
		for _, w := range want {
			sum := sha256.Sum256([]byte(w))
			wantD = append(wantD, hex.EncodeToString(sum[:]))
		}
		slices.Sort(got)
		slices.Sort(wantD)
		if !slices.Equal(got, wantD) {
			t.Errorf("%s: Redis accepts %d token(s) %v, want %d %v", step, len(got), short(got), len(wantD), short(wantD))
		}
	}

	sync("first run")
	valid("first run: the first token, alone", tokens[0])
	sync("second run")
	valid("a re-run changes nothing", tokens[0])

	// generated_secrets_version raised: Terraform writes a new version.
	if _, err := c.SecretsManager().PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(secret), SecretString: aws.String(`{"auth_token":"` + tokens[1] + `"}`),
	}); err != nil {
		t.Fatal(err)
	}
	sync("after the rotation of the secret")
	valid("ROTATE: old and new both valid", tokens[0], tokens[1])
	if !strings.Contains(log.String(), "run bootstrap data --env staging again") {
		t.Errorf("the rotation did not say how to retire the old token:\n%s", log)
	}
	// A run at once keeps both: pods may still hold the old token.
	sync("a run before the pods can hold the new token")
	valid("no SET before RedisSetAfter", tokens[0], tokens[1])
	if !strings.Contains(log.String(), "the old one is retired (SET) by a run from") {
		t.Errorf("the early run did not say when the old token goes:\n%s", log)
	}
	st.Now = func() time.Time { return time.Now().Add(RedisSetAfter) }
	sync("the next run")
	valid("SET: only the new token", tokens[1])
	sync("once more")
	valid("and it stays so", tokens[1])
	for _, tok := range tokens {
		if strings.Contains(log.String(), tok) {
			t.Error("a token is in the progress output")
		}
	}
}

func short(ds []string) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d[:8])
	}
	return out
}
