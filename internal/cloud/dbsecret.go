package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// LabelledVersion is a version of a secret with its staging labels and
// value. The caller must register Value's secrets with its Redactor.
type LabelledVersion struct {
	ID      string
	Labels  []string
	Created time.Time
	Value   string
}

// VersionsLabelled reads the versions of a secret that carry any of labels
// (AWSCURRENT, AWSPENDING, ...), values included: label -> version. A
// secret without versions gives an empty map.
func (c *Clients) VersionsLabelled(ctx context.Context, secretID string, labels ...string) (map[string]LabelledVersion, error) {
	sm := c.SecretsManager()
	found := map[string]LabelledVersion{}
	var token *string
	for {
		out, err := sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(secretID), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("listing the versions of secret %s: %w", secretID, err)
		}
		for _, v := range out.Versions {
			for _, l := range v.VersionStages {
				if !slices.Contains(labels, l) {
					continue
				}
				val, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID), VersionId: v.VersionId})
				if err != nil {
					return nil, fmt.Errorf("reading version %s of secret %s: %w", aws.ToString(v.VersionId), secretID, err)
				}
				found[l] = LabelledVersion{ID: aws.ToString(v.VersionId), Labels: v.VersionStages, Created: aws.ToTime(v.CreatedDate), Value: aws.ToString(val.SecretString)}
			}
		}
		// moto answers an empty NextToken on the last page.
		if aws.ToString(out.NextToken) == "" {
			return found, nil
		}
		token = out.NextToken
	}
}

// PutSecretVersion writes a version with the given ID (ClientRequestToken)
// and labels. Writing the same ID with the same value again is a no-op
// (PutSecretValue's idempotency), so a retried run does not add versions.
func (c *Clients) PutSecretVersion(ctx context.Context, secretID, versionID, value string, labels []string) error {
	_, err := c.SecretsManager().PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(secretID),
		ClientRequestToken: aws.String(versionID),
		SecretString:       aws.String(value),
		VersionStages:      labels,
	})
	if err != nil {
		// The SDK's error text does not carry the request's value.
		return fmt.Errorf("writing version %s of secret %s: %w", versionID, secretID, err)
	}
	return nil
}

// DatabaseMasterCredentials reads the RDS-managed master secret (JSON
// username, password). Only bootstrap reads it, for the life of the Job
// that keeps the app's roles; no in-cluster identity may.
func (c *Clients) DatabaseMasterCredentials(ctx context.Context, secretARN string) (user, password string, err error) {
	out, err := c.SecretsManager().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretARN)})
	if err != nil {
		return "", "", fmt.Errorf("reading the database's master secret %s: %w", secretARN, err)
	}
	var v struct{ Username, Password string }
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil || v.Username == "" || v.Password == "" {
		return "", "", errors.New("the database's master secret " + secretARN + " has no username and password")
	}
	return v.Username, v.Password, nil
}
