package cloud

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

// Lookups by the predictable names bootstrap gives its objects, each
// returning the object's tags with it. An interrupted apply can leave an
// object that AWS made but Terraform never recorded (the create call went
// out, the answer was lost); the data step imports such an object, but only
// when its tags prove it is this environment's (Ownership). The same
// lookups let `up` refuse, before it changes anything, a name some other
// environment, team or person already uses. Each returns the zero Found
// when there is no such object.

// FindSecret finds a secret (not one scheduled for deletion).
func (c *Clients) FindSecret(ctx context.Context, name string) (Found, error) {
	out, err := c.SecretsManager().DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		var nf *smtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return Found{}, nil
		}
		return Found{}, fmt.Errorf("describing secret %s: %w", name, err)
	}
	if out.DeletedDate != nil {
		return Found{}, nil
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	arn := aws.ToString(out.ARN)
	return Found{Kind: KindSecret, Name: name, ID: arn, ARN: arn, Tags: tags}, nil
}

// SecretARNByName finds a secret's ARN, or "".
func (c *Clients) SecretARNByName(ctx context.Context, name string) (string, error) {
	f, err := c.FindSecret(ctx, name)
	return f.ID, err
}

// FindSecurityGroup finds a security group by name in a VPC.
func (c *Clients) FindSecurityGroup(ctx context.Context, vpcID, name string) (Found, error) {
	out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpcID}},
		{Name: aws.String("group-name"), Values: []string{name}},
	}})
	if err != nil {
		return Found{}, fmt.Errorf("describing security group %s: %w", name, err)
	}
	if len(out.SecurityGroups) == 0 {
		return Found{}, nil
	}
	g := out.SecurityGroups[0]
	return Found{Kind: KindSecurityGroup, Name: name, ID: aws.ToString(g.GroupId), Tags: tagMap(g.Tags)}, nil
}

// SecurityGroupIDByName finds a security group's id in a VPC, or "".
func (c *Clients) SecurityGroupIDByName(ctx context.Context, vpcID, name string) (string, error) {
	f, err := c.FindSecurityGroup(ctx, vpcID, name)
	return f.ID, err
}

// FindIngressRule finds the rule of a group admitting a port from another
// group.
func (c *Clients) FindIngressRule(ctx context.Context, groupID string, port int32, fromGroupID string) (Found, error) {
	out, err := c.EC2.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{
		{Name: aws.String("group-id"), Values: []string{groupID}},
	}})
	if err != nil {
		return Found{}, fmt.Errorf("describing the rules of %s: %w", groupID, err)
	}
	for _, r := range out.SecurityGroupRules {
		if aws.ToBool(r.IsEgress) || aws.ToInt32(r.FromPort) != port || r.ReferencedGroupInfo == nil {
			continue
		}
		if aws.ToString(r.ReferencedGroupInfo.GroupId) == fromGroupID {
			id := aws.ToString(r.SecurityGroupRuleId)
			return Found{Kind: KindSGRule, Name: fmt.Sprintf("%s port %d from %s", groupID, port, fromGroupID), ID: id, Tags: tagMap(r.Tags)}, nil
		}
	}
	return Found{}, nil
}

// IngressRuleID finds the id of the rule of a group admitting a port from
// another group, or "".
func (c *Clients) IngressRuleID(ctx context.Context, groupID string, port int32, fromGroupID string) (string, error) {
	f, err := c.FindIngressRule(ctx, groupID, port, fromGroupID)
	return f.ID, err
}

func (c *Clients) rdsTags(ctx context.Context, arn string) (map[string]string, error) {
	out, err := rds.NewFromConfig(c.Config).ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("reading the tags of %s: %w", arn, err)
	}
	return rdsTagMap(out.TagList), nil
}

func rdsTagMap(tags []rdstypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// FindDBParameterGroup finds an RDS parameter group.
func (c *Clients) FindDBParameterGroup(ctx context.Context, name string) (Found, error) {
	out, err := rds.NewFromConfig(c.Config).DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
	var nf *rdstypes.DBParameterGroupNotFoundFault
	if errors.As(err, &nf) {
		return Found{}, nil
	}
	if err != nil {
		return Found{}, fmt.Errorf("describing RDS parameter group %s: %w", name, err)
	}
	for _, g := range out.DBParameterGroups {
		if aws.ToString(g.DBParameterGroupName) == name {
			arn := aws.ToString(g.DBParameterGroupArn)
			tags, err := c.rdsTags(ctx, arn)
			return Found{Kind: KindDBParameterGroup, Name: name, ID: name, ARN: arn, Tags: tags}, err
		}
	}
	return Found{}, nil
}

// DBParameterGroupExists reports whether an RDS parameter group exists.
func (c *Clients) DBParameterGroupExists(ctx context.Context, name string) (bool, error) {
	f, err := c.FindDBParameterGroup(ctx, name)
	return f.Exists(), err
}

// FindDBSubnetGroup finds an RDS subnet group.
func (c *Clients) FindDBSubnetGroup(ctx context.Context, name string) (Found, error) {
	out, err := rds.NewFromConfig(c.Config).DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(name)})
	var nf *rdstypes.DBSubnetGroupNotFoundFault
	if errors.As(err, &nf) {
		return Found{}, nil
	}
	if err != nil {
		return Found{}, fmt.Errorf("describing RDS subnet group %s: %w", name, err)
	}
	for _, g := range out.DBSubnetGroups {
		if aws.ToString(g.DBSubnetGroupName) == name {
			arn := aws.ToString(g.DBSubnetGroupArn)
			tags, err := c.rdsTags(ctx, arn)
			return Found{Kind: KindDBSubnetGroup, Name: name, ID: name, ARN: arn, Tags: tags}, err
		}
	}
	return Found{}, nil
}

// FindDBInstance finds an RDS instance, with its status ("creating",
// "available", "failed", ...).
func (c *Clients) FindDBInstance(ctx context.Context, id string) (Found, error) {
	out, err := rds.NewFromConfig(c.Config).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		var nf *rdstypes.DBInstanceNotFoundFault
		if errors.As(err, &nf) {
			return Found{}, nil
		}
		return Found{}, fmt.Errorf("describing DB instance %s: %w", id, err)
	}
	if len(out.DBInstances) == 0 {
		return Found{}, nil
	}
	db := out.DBInstances[0]
	return Found{Kind: KindDBInstance, Name: id, ID: id, ARN: aws.ToString(db.DBInstanceArn),
		Tags: rdsTagMap(db.TagList), Status: aws.ToString(db.DBInstanceStatus), Version: aws.ToString(db.EngineVersion)}, nil
}

func (c *Clients) cacheTags(ctx context.Context, arn string) (map[string]string, error) {
	out, err := c.ElastiCache().ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("reading the tags of %s: %w", arn, err)
	}
	m := map[string]string{}
	for _, t := range out.TagList {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

// FindCacheSubnetGroup finds an ElastiCache subnet group.
func (c *Clients) FindCacheSubnetGroup(ctx context.Context, name string) (Found, error) {
	out, err := c.ElastiCache().DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String(name)})
	var nf *ectypes.CacheSubnetGroupNotFoundFault
	if errors.As(err, &nf) {
		return Found{}, nil
	}
	if err != nil {
		return Found{}, fmt.Errorf("describing ElastiCache subnet group %s: %w", name, err)
	}
	for _, g := range out.CacheSubnetGroups {
		if aws.ToString(g.CacheSubnetGroupName) == name {
			arn := aws.ToString(g.ARN)
			tags, err := c.cacheTags(ctx, arn)
			return Found{Kind: KindCacheSubnetGroup, Name: name, ID: name, ARN: arn, Tags: tags}, err
		}
	}
	return Found{}, nil
}

// FindReplicationGroup finds an ElastiCache replication group, with its
// status ("creating", "available", "create-failed", ...).
func (c *Clients) FindReplicationGroup(ctx context.Context, id string) (Found, error) {
	out, err := c.ElastiCache().DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	if err != nil {
		var nf *ectypes.ReplicationGroupNotFoundFault
		if errors.As(err, &nf) {
			return Found{}, nil
		}
		return Found{}, fmt.Errorf("describing replication group %s: %w", id, err)
	}
	if len(out.ReplicationGroups) == 0 {
		return Found{}, nil
	}
	g := out.ReplicationGroups[0]
	arn := aws.ToString(g.ARN)
	tags, err := c.cacheTags(ctx, arn)
	return Found{Kind: KindReplicationGroup, Name: id, ID: id, ARN: arn, Tags: tags, Status: aws.ToString(g.Status)}, err
}

// FindBucket finds a bucket of this account (ExpectedBucketOwner: a bucket
// of that name in another account is an error, never used).
func (c *Clients) FindBucket(ctx context.Context, name string) (Found, error) {
	ok, err := c.BucketExists(ctx, name)
	if err != nil || !ok {
		return Found{}, err
	}
	owner, err := c.bucketOwner(ctx)
	if err != nil {
		return Found{}, err
	}
	tags := map[string]string{}
	out, err := c.S3().GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name), ExpectedBucketOwner: owner})
	if err != nil {
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchTagSet" {
			return Found{}, fmt.Errorf("reading the tags of bucket %s: %w", name, err)
		}
	} else {
		for _, t := range out.TagSet {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	f := Found{Kind: KindBucket, Name: name, ID: name, ARN: "arn:aws:s3:::" + name, Tags: tags}
	if len(tags) == 0 {
		// An untagged bucket may be one an interrupted apply made and had
		// not tagged yet (pipeline/creating.go): when it was made is read.
		if f.Created, err = c.bucketCreated(ctx, name); err != nil {
			return Found{}, err
		}
	}
	return f, nil
}

// bucketCreated is the CreationDate ListBuckets gives the bucket (S3 has no
// other call that reads it); zero when the listing does not hold it. The
// listing is narrowed to the name's prefix (ListBuckets' Prefix), and the
// name still compared, for an S3 that ignores it.
func (c *Clients) bucketCreated(ctx context.Context, name string) (time.Time, error) {
	p := s3.NewListBucketsPaginator(c.S3(), &s3.ListBucketsInput{Prefix: aws.String(name)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return time.Time{}, fmt.Errorf("listing buckets for the creation date of %s: %w", name, err)
		}
		for _, b := range out.Buckets {
			if aws.ToString(b.Name) == name {
				return aws.ToTime(b.CreationDate), nil
			}
		}
	}
	return time.Time{}, nil
}

// FindRepository finds an ECR repository.
func (c *Clients) FindRepository(ctx context.Context, name string) (Found, error) {
	e := ecr.NewFromConfig(c.Config)
	out, err := e.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	var nf *ecrtypes.RepositoryNotFoundException
	if errors.As(err, &nf) {
		return Found{}, nil
	}
	if err != nil {
		return Found{}, fmt.Errorf("describing ECR repository %s: %w", name, err)
	}
	for _, r := range out.Repositories {
		if aws.ToString(r.RepositoryName) != name {
			continue
		}
		arn := aws.ToString(r.RepositoryArn)
		tl, err := e.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			return Found{}, fmt.Errorf("reading the tags of ECR repository %s: %w", name, err)
		}
		tags := map[string]string{}
		for _, t := range tl.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return Found{Kind: KindRepository, Name: name, ID: name, ARN: arn, Tags: tags}, nil
	}
	return Found{}, nil
}

// ECRRepositoryExists reports whether an ECR repository exists.
func (c *Clients) ECRRepositoryExists(ctx context.Context, name string) (bool, error) {
	f, err := c.FindRepository(ctx, name)
	return f.Exists(), err
}

// FindCluster finds an EKS cluster, with its status.
func (c *Clients) FindCluster(ctx context.Context, name string) (Found, error) {
	out, err := c.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return Found{}, nil
		}
		return Found{}, fmt.Errorf("describing EKS cluster %s in %s: %w", name, c.Region, err)
	}
	cl := out.Cluster
	tags := map[string]string{}
	for k, v := range cl.Tags {
		tags[k] = v
	}
	return Found{Kind: KindCluster, Name: name, ID: name, ARN: aws.ToString(cl.Arn), Tags: tags, Status: string(cl.Status)}, nil
}

// FindRole finds an IAM role.
func (c *Clients) FindRole(ctx context.Context, name string) (Found, error) {
	out, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		var nf *iamtypes.NoSuchEntityException
		if errors.As(err, &nf) {
			return Found{}, nil
		}
		return Found{}, fmt.Errorf("reading IAM role %s: %w", name, err)
	}
	tags := map[string]string{}
	for _, t := range out.Role.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return Found{Kind: KindRole, Name: name, ID: name, ARN: aws.ToString(out.Role.Arn), Tags: tags}, nil
}

// FindLogGroup finds a CloudWatch log group (its ID is its name, as
// Terraform imports aws_cloudwatch_log_group).
func (c *Clients) FindLogGroup(ctx context.Context, name string) (Found, error) {
	g, err := c.LogGroupFacts(ctx, name)
	if err != nil || !g.Exists {
		return Found{}, err
	}
	return Found{Kind: KindLogGroup, Name: name, ID: name, ARN: g.ARN, Tags: g.Tags}, nil
}

// FindKMSKeyByAlias finds the KMS key an alias points at, with the key's
// tags; nothing when there is no such alias or the key is pending deletion
// (a torn-down environment's, which nothing may adopt). Its ID is the key
// ID, as Terraform imports aws_kms_key.
func (c *Clients) FindKMSKeyByAlias(ctx context.Context, alias string) (Found, error) {
	target, err := c.aliasTarget(ctx, alias)
	if err != nil || target == "" {
		return Found{}, err
	}
	k := kms.NewFromConfig(c.Config)
	d, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(target)})
	if err != nil {
		var nf *kmstypes.NotFoundException
		if errors.As(err, &nf) {
			return Found{}, nil
		}
		return Found{}, fmt.Errorf("describing KMS key %s (%s): %w", target, alias, err)
	}
	if d.KeyMetadata.KeyState == kmstypes.KeyStatePendingDeletion {
		return Found{}, nil
	}
	tags, err := c.kmsTags(ctx, target)
	if err != nil {
		return Found{}, err
	}
	return Found{Kind: KindKMSKey, Name: alias, ID: target, ARN: aws.ToString(d.KeyMetadata.Arn), Tags: tags,
		Status: string(d.KeyMetadata.KeyState)}, nil
}

// FindKMSKeysByTags finds the customer managed keys of the region that
// carry every one of tags, not pending deletion; their IDs are key IDs. It
// reads every key's tags (KMS has no search by tag), so it is for the rare
// key made and never aliased, after its alias was looked for.
func (c *Clients) FindKMSKeysByTags(ctx context.Context, tags map[string]string) ([]Found, error) {
	k := kms.NewFromConfig(c.Config)
	var out []Found
	p := kms.NewListKeysPaginator(k, &kms.ListKeysInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing KMS keys: %w", err)
		}
		for _, e := range page.Keys {
			id := aws.ToString(e.KeyId)
			d, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil {
				return nil, fmt.Errorf("describing KMS key %s: %w", id, err)
			}
			m := d.KeyMetadata
			if m.KeyManager != kmstypes.KeyManagerTypeCustomer || m.KeyState == kmstypes.KeyStatePendingDeletion {
				continue
			}
			have, err := c.kmsTags(ctx, id)
			if err != nil {
				return nil, err
			}
			if hasAll(have, tags) {
				out = append(out, Found{Kind: KindKMSKey, Name: tags["Name"], ID: id, ARN: aws.ToString(m.Arn), Tags: have, Status: string(m.KeyState)})
			}
		}
	}
	return out, nil
}

func hasAll(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// FindKMSAlias finds a KMS alias. An alias carries no tags of its own: the
// tags given are those of the key it points at, which prove whose it is.
// Its ID is the alias name, as Terraform imports aws_kms_alias.
func (c *Clients) FindKMSAlias(ctx context.Context, alias string) (Found, error) {
	target, err := c.aliasTarget(ctx, alias)
	if err != nil || target == "" {
		return Found{}, err
	}
	tags, err := c.kmsTags(ctx, target)
	var nf *kmstypes.NotFoundException
	if errors.As(err, &nf) {
		tags, err = map[string]string{}, nil
	}
	if err != nil {
		return Found{}, err
	}
	return Found{Kind: KindKMSAlias, Name: alias, ID: alias, Tags: tags}, nil
}

// aliasTarget is the key ID an alias points at, "" when there is no alias
// of that name.
func (c *Clients) aliasTarget(ctx context.Context, alias string) (string, error) {
	p := kms.NewListAliasesPaginator(kms.NewFromConfig(c.Config), &kms.ListAliasesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("listing KMS aliases: %w", err)
		}
		for _, a := range page.Aliases {
			if aws.ToString(a.AliasName) == alias {
				return aws.ToString(a.TargetKeyId), nil
			}
		}
	}
	return "", nil
}

func (c *Clients) kmsTags(ctx context.Context, keyID string) (map[string]string, error) {
	tags := map[string]string{}
	p := kms.NewListResourceTagsPaginator(kms.NewFromConfig(c.Config), &kms.ListResourceTagsInput{KeyId: aws.String(keyID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the tags of KMS key %s: %w", keyID, err)
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
		}
	}
	return tags, nil
}

// CacheSubnetGroupExists reports whether an ElastiCache subnet group exists.
func (c *Clients) CacheSubnetGroupExists(ctx context.Context, name string) (bool, error) {
	f, err := c.FindCacheSubnetGroup(ctx, name)
	return f.Exists(), err
}

// DBSubnetGroupExists reports whether an RDS subnet group exists.
func (c *Clients) DBSubnetGroupExists(ctx context.Context, name string) (bool, error) {
	f, err := c.FindDBSubnetGroup(ctx, name)
	return f.Exists(), err
}
