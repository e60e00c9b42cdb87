package cloud

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Ownership: bootstrap adopts, modifies, empties or deletes an AWS object
// only when its tags prove that this environment of this application made
// it. A matching name alone proves nothing: another environment of the same
// account, another team, or a person may have made an object of that name.

// Tag keys bootstrap puts on everything it makes (config.Profile.AllTags,
// Terraform's default_tags, eksctl's metadata.tags).
const (
	TagEnvironment = "Environment"
	TagApplication = "Application"
	TagManagedBy   = "ManagedBy"
	// TagScope marks an account-wide component that no environment owns
	// (the shared ECR registry): Scope=account instead of an Environment.
	TagScope = "Scope"

	ManagedByBootstrap = "bootstrap"
	ScopeAccount       = "account"
)

// Ownership is the tags an object must carry, every one with exactly this
// value, to be this owner's.
type Ownership map[string]string

// EnvironmentOwnership is what proves an object is one environment's.
func EnvironmentOwnership(application, env string) Ownership {
	return Ownership{TagEnvironment: env, TagApplication: application, TagManagedBy: ManagedByBootstrap}
}

// AccountOwnership is what proves an account-wide component (the shared
// registry) is the application's: no Environment, Scope=account.
func AccountOwnership(application string) Ownership {
	return Ownership{TagScope: ScopeAccount, TagApplication: application, TagManagedBy: ManagedByBootstrap}
}

// Mismatches lists, sorted, each required tag the given tags lack or carry
// with another value ("Environment=production, want staging"). None means
// owned.
func (o Ownership) Mismatches(tags map[string]string) []string {
	var out []string
	for _, k := range o.keys() {
		v, ok := tags[k]
		switch {
		case !ok:
			out = append(out, k+" missing")
		case v != o[k]:
			out = append(out, fmt.Sprintf("%s=%s, want %s", k, v, o[k]))
		}
	}
	return out
}

// Owns reports whether the tags prove ownership.
func (o Ownership) Owns(tags map[string]string) bool { return len(o.Mismatches(tags)) == 0 }

func (o Ownership) keys() []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// String is k=v, sorted, comma-separated.
func (o Ownership) String() string { return TagsString(o) }

// TagsString renders tags as k=v, sorted, comma-separated; "(none)" for none.
func TagsString(tags map[string]string) string {
	if len(tags) == 0 {
		return "(none)"
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	return strings.Join(parts, ",")
}

// Found is an object found by its predictable name: what Terraform imports
// it by, its ARN, its tags, and (databases, replication groups) its status.
// The zero Found (ID "") means there is no such object.
type Found struct {
	// Kind names the type in messages ("secret", "S3 bucket").
	Kind Kind
	// Name is what bootstrap looked it up by.
	Name   string
	ID     string
	ARN    string
	Tags   map[string]string
	Status string
	// Version is a DB instance's engine version ("" for other kinds).
	Version string
	// Created is when an untagged S3 bucket was made (ListBuckets'
	// CreationDate); zero for other kinds and for tagged buckets.
	Created time.Time
}

// Exists reports whether the object was found.
func (f Found) Exists() bool { return f.ID != "" }

// TagCommand is the aws CLI command that gives the object the owner's tags,
// for a person who has checked that it is this owner's (runbook,
// troubleshooting: "Objects bootstrap did not make").
func (f Found) TagCommand(region string, o Ownership) string {
	var kv, keyValue, s3Set []string
	for _, k := range o.keys() {
		kv = append(kv, k+"="+o[k])
		keyValue = append(keyValue, "Key="+k+",Value="+o[k])
		s3Set = append(s3Set, "{Key="+k+",Value="+o[k]+"}")
	}
	r := " --region " + region + " "
	switch f.Kind {
	case KindSecret:
		return "aws secretsmanager tag-resource" + r + "--secret-id " + f.Name + " --tags " + strings.Join(keyValue, " ")
	case KindSecurityGroup, KindSGRule:
		return "aws ec2 create-tags" + r + "--resources " + f.ID + " --tags " + strings.Join(keyValue, " ")
	case KindDBInstance, KindDBSubnetGroup, KindDBParameterGroup:
		return "aws rds add-tags-to-resource" + r + "--resource-name " + f.ARN + " --tags " + strings.Join(keyValue, " ")
	case KindCacheSubnetGroup, KindReplicationGroup:
		return "aws elasticache add-tags-to-resource" + r + "--resource-name " + f.ARN + " --tags " + strings.Join(keyValue, " ")
	case KindBucket:
		// put-bucket-tagging replaces the whole set: add any tags it has.
		return "aws s3api put-bucket-tagging" + r + "--bucket " + f.Name + " --tagging 'TagSet=[" + strings.Join(s3Set, ",") + "]'"
	case KindRepository:
		return "aws ecr tag-resource" + r + "--resource-arn " + f.ARN + " --tags " + strings.Join(keyValue, " ")
	case KindCluster:
		return "aws eks tag-resource" + r + "--resource-arn " + f.ARN + " --tags " + strings.Join(kv, ",")
	case KindRole:
		return "aws iam tag-role --role-name " + f.Name + " --tags " + strings.Join(keyValue, " ")
	}
	return ""
}

// Kinds of objects found by name.
const (
	KindSecret           Kind = "secret"
	KindSGRule           Kind = "security group rule"
	KindDBInstance       Kind = "RDS instance"
	KindDBSubnetGroup    Kind = "RDS subnet group"
	KindDBParameterGroup Kind = "RDS parameter group"
	KindCacheSubnetGroup Kind = "ElastiCache subnet group"
	KindReplicationGroup Kind = "ElastiCache replication group"
	KindBucket           Kind = "S3 bucket"
	KindRepository       Kind = "ECR repository"
	KindCluster          Kind = "EKS cluster"
	KindRole             Kind = "IAM role"
	KindLogGroup         Kind = "log group"
	KindKMSKey           Kind = "KMS key"
	KindKMSAlias         Kind = "KMS alias"
)

// accountCache is the caller's account, read once per Clients (AccountID):
// the run's account check and every S3 request's ExpectedBucketOwner share
// one sts get-caller-identity.
type accountCache struct {
	mu sync.Mutex
	id string
}

// bucketOwner is the account every bucket bootstrap relies on must belong
// to: S3 then refuses (403) a request on a bucket of the same name in
// another account instead of reading or writing it.
func (c *Clients) bucketOwner(ctx context.Context) (*string, error) {
	id, err := c.AccountID(ctx)
	if err != nil {
		return nil, err
	}
	return aws.String(id), nil
}
