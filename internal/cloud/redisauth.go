package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretVersion is the current version (AWSCURRENT) of a JSON secret: one
// field's value, the version's ID and its staging labels. The caller must
// register Value with its Redactor before anything could print it.
type SecretVersion struct {
	Value     string
	VersionID string
	Labels    []string
	// Labelled is every custom label (not AWSCURRENT, AWSPREVIOUS,
	// AWSPENDING) that some version of the secret carries.
	Labelled map[string]string // label -> version ID
	// Created is when the version was written (by Terraform).
	Created time.Time
}

// CurrentSecretVersion reads the current version of a JSON secret.
func (c *Clients) CurrentSecretVersion(ctx context.Context, secretID, field string) (SecretVersion, error) {
	sm := c.SecretsManager()
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return SecretVersion{}, fmt.Errorf("reading secret %s: %w", secretID, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &m); err != nil {
		return SecretVersion{}, fmt.Errorf("secret %s is not a JSON object", secretID)
	}
	v, ok := m[field].(string)
	if !ok || v == "" {
		return SecretVersion{}, fmt.Errorf("secret %s has no %q", secretID, field)
	}
	sv := SecretVersion{Value: v, VersionID: aws.ToString(out.VersionId), Labels: out.VersionStages, Labelled: map[string]string{}, Created: aws.ToTime(out.CreatedDate)}
	ids, err := sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(secretID)})
	if err != nil {
		return SecretVersion{}, fmt.Errorf("listing the versions of secret %s: %w", secretID, err)
	}
	for _, ver := range ids.Versions {
		for _, l := range ver.VersionStages {
			switch l {
			case "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING":
			default:
				sv.Labelled[l] = aws.ToString(ver.VersionId)
			}
		}
	}
	return sv, nil
}

// LabelSecretVersion moves a staging label to a version of a secret (from
// whichever version had it); an empty versionID removes the label.
func (c *Clients) LabelSecretVersion(ctx context.Context, secretID, label, versionID, fromVersionID string) error {
	in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(secretID), VersionStage: aws.String(label)}
	if versionID != "" {
		in.MoveToVersionId = aws.String(versionID)
	}
	if fromVersionID != "" && fromVersionID != versionID {
		in.RemoveFromVersionId = aws.String(fromVersionID)
	}
	if in.MoveToVersionId == nil && in.RemoveFromVersionId == nil {
		return nil
	}
	if _, err := c.SecretsManager().UpdateSecretVersionStage(ctx, in); err != nil {
		return fmt.Errorf("labelling a version of secret %s %s: %w", secretID, label, err)
	}
	return nil
}

// RedisAuth is what ElastiCache reports of a replication group's AUTH.
type RedisAuth struct {
	Enabled bool
	// Status is the group's status; modifications wait for "available".
	Status string
}

// RedisAuthStatus describes a replication group's AUTH and status.
func (c *Clients) RedisAuthStatus(ctx context.Context, groupID string) (RedisAuth, error) {
	out, err := c.ElastiCache().DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(groupID)})
	if err != nil {
		return RedisAuth{}, fmt.Errorf("describing replication group %s: %w", groupID, err)
	}
	if len(out.ReplicationGroups) == 0 {
		return RedisAuth{}, fmt.Errorf("replication group %s not found", groupID)
	}
	g := out.ReplicationGroups[0]
	return RedisAuth{Enabled: aws.ToBool(g.AuthTokenEnabled), Status: aws.ToString(g.Status)}, nil
}

// ModifyRedisAuth changes a replication group's AUTH tokens with an
// ElastiCache strategy, applied immediately: ROTATE adds token beside the
// current one (or gives a group without AUTH its first), SET (only after
// ROTATE with the same token) makes it the only one.
func (c *Clients) ModifyRedisAuth(ctx context.Context, groupID, token string, strategy ectypes.AuthTokenUpdateStrategyType) error {
	_, err := c.ElastiCache().ModifyReplicationGroup(ctx, &elasticache.ModifyReplicationGroupInput{
		ReplicationGroupId:      aws.String(groupID),
		AuthToken:               aws.String(token),
		AuthTokenUpdateStrategy: strategy,
		ApplyImmediately:        aws.Bool(true),
	})
	if err != nil {
		// The SDK's error text does not carry the request's token.
		return fmt.Errorf("%s of the AUTH token of replication group %s: %w", strategy, groupID, err)
	}
	return nil
}
