package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// The data tier's reads and writes outside Terraform: the state bucket that
// must exist before terraform init, and the Redis AUTH token, which
// ElastiCache cannot take write-only and so is set here, from Secrets
// Manager, never passing through Terraform state.

// S3 is an S3 client of these clients' configuration. Every request it
// sends on a bucket carries ExpectedBucketOwner, the caller's account: a
// bucket bootstrap relies on (state, backups, the lock object's) that has
// the predictable name but belongs to another account is refused by S3 with
// 403 instead of being read, written or emptied.
func (c *Clients) S3() *s3.Client {
	return s3.NewFromConfig(c.Config, func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(expectedBucketOwner{c}, middleware.Before)
		})
	})
}

// expectedBucketOwner sets ExpectedBucketOwner on every S3 input that has
// the field and leaves it unset (CreateBucket, ListBuckets have none).
type expectedBucketOwner struct{ c *Clients }

func (expectedBucketOwner) ID() string { return "bootstrap.ExpectedBucketOwner" }

func (m expectedBucketOwner) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	v := reflect.ValueOf(in.Parameters)
	if v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		f := v.Elem().FieldByName("ExpectedBucketOwner")
		if f.IsValid() && f.CanSet() && f.Type() == reflect.TypeOf((*string)(nil)) && f.IsNil() {
			owner, err := m.c.bucketOwner(ctx)
			if err != nil {
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
			f.Set(reflect.ValueOf(owner))
		}
	}
	return next.HandleInitialize(ctx, in)
}

// SecretsManager is a Secrets Manager client.
func (c *Clients) SecretsManager() *secretsmanager.Client {
	return secretsmanager.NewFromConfig(c.Config)
}

// ElastiCache is an ElastiCache client.
func (c *Clients) ElastiCache() *elasticache.Client { return elasticache.NewFromConfig(c.Config) }

// EnsureStateBucket makes the Terraform state bucket if it is missing and
// (re)applies its settings: versioning (state history survives a bad write),
// default encryption, all public access blocked, tags. Safe to repeat.
func (c *Clients) EnsureStateBucket(ctx context.Context, name string, tags map[string]string) (created bool, err error) {
	s3c := c.S3()
	_, err = s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	if err != nil {
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || (apiErr.ErrorCode() != "NotFound" && apiErr.ErrorCode() != "NoSuchBucket") {
			return false, fmt.Errorf("state bucket %s: %w (if another account owns the name, set state.bucket in bootstrap.yaml)", name, err)
		}
		in := &s3.CreateBucketInput{Bucket: aws.String(name)}
		if c.Region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(c.Region)}
		}
		if _, err := s3c.CreateBucket(ctx, in); err != nil {
			var owned *s3types.BucketAlreadyOwnedByYou
			if !errors.As(err, &owned) {
				return false, fmt.Errorf("creating state bucket %s: %w", name, err)
			}
		} else {
			created = true
		}
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(name),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	}); err != nil {
		return created, fmt.Errorf("enabling versioning on state bucket %s: %w", name, err)
	}
	if _, err := s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(name),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
		}}},
	}); err != nil {
		return created, fmt.Errorf("encrypting state bucket %s: %w", name, err)
	}
	if _, err := s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket: aws.String(name),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true),
			IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
		},
	}); err != nil {
		return created, fmt.Errorf("blocking public access to state bucket %s: %w", name, err)
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tagSet := make([]s3types.Tag, 0, len(keys))
	for _, k := range keys {
		tagSet = append(tagSet, s3types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if _, err := s3c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &s3types.Tagging{TagSet: tagSet}}); err != nil {
		return created, fmt.Errorf("tagging state bucket %s: %w", name, err)
	}
	return created, nil
}

// SecretField reads one field of a JSON secret. The caller must register the
// value with its Redactor before anything could print it.
func (c *Clients) SecretField(ctx context.Context, secretID, field string) (string, error) {
	out, err := c.SecretsManager().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		return "", fmt.Errorf("reading secret %s: %w", secretID, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &m); err != nil {
		return "", fmt.Errorf("secret %s is not a JSON object", secretID)
	}
	v, ok := m[field].(string)
	if !ok || v == "" {
		return "", fmt.Errorf("secret %s has no %q", secretID, field)
	}
	return v, nil
}

// RedisAuthEnabled reports whether a replication group has an AUTH token.
func (c *Clients) RedisAuthEnabled(ctx context.Context, groupID string) (bool, error) {
	out, err := c.ElastiCache().DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(groupID)})
	if err != nil {
		return false, fmt.Errorf("describing replication group %s: %w", groupID, err)
	}
	if len(out.ReplicationGroups) == 0 {
		return false, fmt.Errorf("replication group %s not found", groupID)
	}
	return aws.ToBool(out.ReplicationGroups[0].AuthTokenEnabled), nil
}

// BucketExists reports whether a bucket exists and is reachable.
func (c *Clients) BucketExists(ctx context.Context, name string) (bool, error) {
	_, err := c.S3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	if err == nil {
		return true, nil
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NotFound" || apiErr.ErrorCode() == "NoSuchBucket") {
		return false, nil
	}
	return false, fmt.Errorf("checking bucket %s: %w", name, err)
}

// DBInstanceStatus is an RDS instance's status ("creating", "available",
// "failed", ...), or "" when it does not exist.
func (c *Clients) DBInstanceStatus(ctx context.Context, id string) (string, error) {
	out, err := rds.NewFromConfig(c.Config).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		var nf *rdstypes.DBInstanceNotFoundFault
		if errors.As(err, &nf) {
			return "", nil
		}
		return "", fmt.Errorf("describing DB instance %s: %w", id, err)
	}
	if len(out.DBInstances) == 0 {
		return "", nil
	}
	return aws.ToString(out.DBInstances[0].DBInstanceStatus), nil
}

// ReplicationGroupStatus is a replication group's status ("creating",
// "available", "create-failed", ...), or "" when it does not exist.
func (c *Clients) ReplicationGroupStatus(ctx context.Context, id string) (string, error) {
	out, err := c.ElastiCache().DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	if err != nil {
		var nf *ectypes.ReplicationGroupNotFoundFault
		if errors.As(err, &nf) {
			return "", nil
		}
		return "", fmt.Errorf("describing replication group %s: %w", id, err)
	}
	if len(out.ReplicationGroups) == 0 {
		return "", nil
	}
	return aws.ToString(out.ReplicationGroups[0].Status), nil
}
