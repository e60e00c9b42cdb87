// Package cloud talks to AWS through the SDK for bootstrap: it reads the
// account, the cluster, the network eksctl made, eksctl's CloudFormation
// stacks and the objects an environment's names point at (with their tags),
// and it makes the few changes done outside eksctl and Terraform: the state
// bucket and the environment lock, the Redis AUTH token, the log group's tags
// and deletion, and the teardown sweep's deletions (what to delete is decided
// by the caller's policy, not here).
//
// Clients come from the SDK's default configuration chain, which honours
// AWS_ENDPOINT_URL: that is how tests point everything at a local moto
// server. There is no test-only code path here.
package cloud

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Clients are the AWS API clients of one region.
type Clients struct {
	Region         string
	Config         aws.Config
	STS            *sts.Client
	EKS            *eks.Client
	EC2            *ec2.Client
	IAM            *iam.Client
	CloudFormation *cloudformation.Client

	// account is the caller's account, read once (bucketOwner).
	account *accountCache
}

// New loads the default AWS configuration (environment, shared files, SSO,
// instance role; AWS_ENDPOINT_URL included) for a region. opts add to the
// loading (a test's middleware that counts the calls, say).
func New(ctx context.Context, region string, opts ...func(*awsconfig.LoadOptions) error) (*Clients, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, append([]func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	return &Clients{
		Region:         region,
		Config:         cfg,
		STS:            sts.NewFromConfig(cfg),
		EKS:            eks.NewFromConfig(cfg),
		EC2:            ec2.NewFromConfig(cfg),
		IAM:            iam.NewFromConfig(cfg),
		CloudFormation: cloudformation.NewFromConfig(cfg),
		account:        &accountCache{},
	}, nil
}

// AccountID is the account of the caller's credentials, read once for these
// clients (their credentials are one identity) and kept.
func (c *Clients) AccountID(ctx context.Context) (string, error) {
	if c.account == nil {
		c.account = &accountCache{}
	}
	c.account.mu.Lock()
	defer c.account.mu.Unlock()
	if c.account.id != "" {
		return c.account.id, nil
	}
	id, err := c.Identity(ctx)
	var credErr *CredentialsError
	if errors.As(err, &credErr) {
		return "", err // one line that says what to do
	}
	if err != nil {
		return "", fmt.Errorf("reading the AWS account (sts get-caller-identity): %w", err)
	}
	c.account.id = id.Account
	return id.Account, nil
}

// ClusterExists reports whether EKS has a cluster of that name in the region.
func (c *Clients) ClusterExists(ctx context.Context, name string) (bool, error) {
	_, err := c.describeCluster(ctx, name)
	var notFound *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

func (c *Clients) describeCluster(ctx context.Context, name string) (*ekstypes.Cluster, error) {
	out, err := c.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("describing EKS cluster %s in %s: %w", name, c.Region, err)
	}
	return out.Cluster, nil
}

// Network is what the data tier and the add-ons need from the cluster.
// internal/pipeline keeps it in its State.
type Network struct {
	VPCID                  string   `json:"vpcId"`
	PrivateSubnetIDs       []string `json:"privateSubnetIds"`
	PublicSubnetIDs        []string `json:"publicSubnetIds"`
	ClusterSecurityGroupID string   `json:"clusterSecurityGroupId"`
	OIDCIssuer             string   `json:"oidcIssuer"`
}

// Subnet role tags eksctl puts on the subnets it makes (and that the load
// balancer controller reads to place load balancers).
const (
	TagPrivateELB = "kubernetes.io/role/internal-elb"
	TagPublicELB  = "kubernetes.io/role/elb"
)

// ClusterNetwork reads the cluster's network from EKS and EC2: its VPC, its
// subnets split into private and public, the cluster security group EKS made
// and the OIDC issuer. A subnet is private when eksctl tagged it for internal
// load balancers, public when tagged for internet-facing ones; untagged
// subnets (a cluster made by other means) are private unless they assign
// public addresses on launch. Lists are ordered by zone, then id.
func (c *Clients) ClusterNetwork(ctx context.Context, name string) (*Network, error) {
	cl, err := c.describeCluster(ctx, name)
	if err != nil {
		return nil, err
	}
	vpcCfg := cl.ResourcesVpcConfig
	if vpcCfg == nil || len(vpcCfg.SubnetIds) == 0 {
		return nil, fmt.Errorf("EKS cluster %s reports no subnets", name)
	}
	n := &Network{
		VPCID:                  aws.ToString(vpcCfg.VpcId),
		ClusterSecurityGroupID: aws.ToString(vpcCfg.ClusterSecurityGroupId),
	}
	if cl.Identity != nil && cl.Identity.Oidc != nil {
		n.OIDCIssuer = aws.ToString(cl.Identity.Oidc.Issuer)
	}

	out, err := c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: vpcCfg.SubnetIds})
	if err != nil {
		return nil, fmt.Errorf("describing the subnets of cluster %s: %w", name, err)
	}
	subnets := byZone(out.Subnets)
	for _, s := range subnets {
		// Every subnet of a cluster is in the cluster's VPC; the VPC is read
		// from them when EKS does not say.
		vpc := aws.ToString(s.VpcId)
		switch {
		case n.VPCID == "":
			n.VPCID = vpc
		case vpc != n.VPCID:
			return nil, fmt.Errorf("subnet %s of cluster %s is in %s, not in the cluster's VPC %s", aws.ToString(s.SubnetId), name, vpc, n.VPCID)
		}
		if isPrivate(s) {
			n.PrivateSubnetIDs = append(n.PrivateSubnetIDs, aws.ToString(s.SubnetId))
		} else {
			n.PublicSubnetIDs = append(n.PublicSubnetIDs, aws.ToString(s.SubnetId))
		}
	}
	var missing []string
	if n.VPCID == "" {
		missing = append(missing, "VPC")
	}
	if len(n.PrivateSubnetIDs) == 0 {
		missing = append(missing, "private subnets")
	}
	if n.ClusterSecurityGroupID == "" {
		missing = append(missing, "cluster security group")
	}
	if n.OIDCIssuer == "" {
		missing = append(missing, "OIDC issuer")
	}
	if len(missing) > 0 {
		return n, fmt.Errorf("EKS cluster %s in %s has no %s; check it with: aws eks describe-cluster --region %s --name %s",
			name, c.Region, strings.Join(missing, ", no "), c.Region, name)
	}
	return n, nil
}

// byZone orders subnets by zone, then id, so lists read the same each time.
func byZone(subnets []ec2types.Subnet) []ec2types.Subnet {
	sort.Slice(subnets, func(i, j int) bool {
		ai, aj := aws.ToString(subnets[i].AvailabilityZone), aws.ToString(subnets[j].AvailabilityZone)
		if ai != aj {
			return ai < aj
		}
		return aws.ToString(subnets[i].SubnetId) < aws.ToString(subnets[j].SubnetId)
	})
	return subnets
}

func isPrivate(s ec2types.Subnet) bool {
	for _, t := range s.Tags {
		switch aws.ToString(t.Key) {
		case TagPrivateELB:
			return true
		case TagPublicELB:
			return false
		}
	}
	return !aws.ToBool(s.MapPublicIpOnLaunch)
}

// Stack is a CloudFormation stack's name and status.
type Stack struct {
	Name   string
	Status string
	Reason string
}

// Stacks lists the stacks whose names start with prefix and that are not
// deleted (eksctl's are eksctl-<cluster>-...).
func (c *Clients) Stacks(ctx context.Context, prefix string) ([]Stack, error) {
	var out []Stack
	p := cloudformation.NewListStacksPaginator(c.CloudFormation, &cloudformation.ListStacksInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing CloudFormation stacks in %s: %w", c.Region, err)
		}
		for _, s := range page.StackSummaries {
			name := aws.ToString(s.StackName)
			if !strings.HasPrefix(name, prefix) || s.StackStatus == cfntypes.StackStatusDeleteComplete {
				continue
			}
			out = append(out, Stack{Name: name, Status: string(s.StackStatus), Reason: aws.ToString(s.StackStatusReason)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// OIDCProviderExists reports whether IAM has an OpenID Connect provider for
// an issuer URL (https://oidc.eks.<region>.amazonaws.com/id/<id>).
func (c *Clients) OIDCProviderExists(ctx context.Context, issuer string) (bool, error) {
	out, err := c.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return false, fmt.Errorf("listing IAM OIDC providers: %w", err)
	}
	host := strings.TrimPrefix(issuer, "https://")
	for _, p := range out.OpenIDConnectProviderList {
		if strings.HasSuffix(aws.ToString(p.Arn), ":oidc-provider/"+host) {
			return true, nil
		}
	}
	return false, nil
}

// RoleARN returns a role's ARN, or "" when there is no such role.
func (c *Clients) RoleARN(ctx context.Context, name string) (string, error) {
	out, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		var notFound *iamtypes.NoSuchEntityException
		if errors.As(err, &notFound) {
			return "", nil
		}
		return "", fmt.Errorf("reading IAM role %s: %w", name, err)
	}
	return aws.ToString(out.Role.Arn), nil
}
