package cloud

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Lookups by the predictable names bootstrap gives data-tier resources. An
// interrupted apply can leave a resource that AWS made but Terraform never
// recorded (the create call went out, the answer was lost); these find it
// so that it is imported instead of failing the next apply with "already
// exists". Each returns the id Terraform imports it by, or "" when absent.

// SecretARNByName finds a secret (not one scheduled for deletion).
func (c *Clients) SecretARNByName(ctx context.Context, name string) (string, error) {
	out, err := c.SecretsManager().DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		var nf *smtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return "", nil
		}
		return "", fmt.Errorf("describing secret %s: %w", name, err)
	}
	if out.DeletedDate != nil {
		return "", nil
	}
	return aws.ToString(out.ARN), nil
}

// SecurityGroupIDByName finds a security group in a VPC.
func (c *Clients) SecurityGroupIDByName(ctx context.Context, vpcID, name string) (string, error) {
	out, err := c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpcID}},
		{Name: aws.String("group-name"), Values: []string{name}},
	}})
	if err != nil {
		return "", fmt.Errorf("describing security group %s: %w", name, err)
	}
	if len(out.SecurityGroups) == 0 {
		return "", nil
	}
	return aws.ToString(out.SecurityGroups[0].GroupId), nil
}

// IngressRuleID finds the rule of a group admitting a port from another
// group.
func (c *Clients) IngressRuleID(ctx context.Context, groupID string, port int32, fromGroupID string) (string, error) {
	out, err := c.EC2.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{
		{Name: aws.String("group-id"), Values: []string{groupID}},
	}})
	if err != nil {
		return "", fmt.Errorf("describing the rules of %s: %w", groupID, err)
	}
	for _, r := range out.SecurityGroupRules {
		if aws.ToBool(r.IsEgress) || aws.ToInt32(r.FromPort) != port || r.ReferencedGroupInfo == nil {
			continue
		}
		if aws.ToString(r.ReferencedGroupInfo.GroupId) == fromGroupID {
			return aws.ToString(r.SecurityGroupRuleId), nil
		}
	}
	return "", nil
}

// DBParameterGroupExists reports whether an RDS parameter group exists.
func (c *Clients) DBParameterGroupExists(ctx context.Context, name string) (bool, error) {
	out, err := rds.NewFromConfig(c.Config).DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
	var nf *rdstypes.DBParameterGroupNotFoundFault
	if errors.As(err, &nf) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, g := range out.DBParameterGroups {
		if aws.ToString(g.DBParameterGroupName) == name {
			return true, nil
		}
	}
	return false, nil
}

// DBSubnetGroupExists reports whether an RDS subnet group exists.
func (c *Clients) DBSubnetGroupExists(ctx context.Context, name string) (bool, error) {
	out, err := rds.NewFromConfig(c.Config).DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String(name)})
	var nf *rdstypes.DBSubnetGroupNotFoundFault
	if errors.As(err, &nf) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, g := range out.DBSubnetGroups {
		if aws.ToString(g.DBSubnetGroupName) == name {
			return true, nil
		}
	}
	return false, nil
}

// CacheSubnetGroupExists reports whether an ElastiCache subnet group exists.
func (c *Clients) CacheSubnetGroupExists(ctx context.Context, name string) (bool, error) {
	out, err := c.ElastiCache().DescribeCacheSubnetGroups(ctx, &elasticache.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String(name)})
	var nf *ectypes.CacheSubnetGroupNotFoundFault
	if errors.As(err, &nf) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, g := range out.CacheSubnetGroups {
		if aws.ToString(g.CacheSubnetGroupName) == name {
			return true, nil
		}
	}
	return false, nil
}

// ECRRepositoryExists reports whether an ECR repository exists.
func (c *Clients) ECRRepositoryExists(ctx context.Context, name string) (bool, error) {
	out, err := ecr.NewFromConfig(c.Config).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	var nf *ecrtypes.RepositoryNotFoundException
	if errors.As(err, &nf) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, r := range out.Repositories {
		if aws.ToString(r.RepositoryName) == name {
			return true, nil
		}
	}
	return false, nil
}
