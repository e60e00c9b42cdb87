package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// The reads of `bootstrap status`: for each component, whether it exists and
// the live values the status command compares with the profile. Each read
// changes nothing. "Not found" is a fact (Exists false), not an error; an
// error means the read itself failed (credentials, permissions, network).

// ClusterFacts is an EKS cluster as EKS reports it.
type ClusterFacts struct {
	Name       string `json:"name"`
	Exists     bool   `json:"exists"`
	Status     string `json:"status,omitempty"`  // CREATING, ACTIVE, UPDATING, DELETING, FAILED
	Version    string `json:"version,omitempty"` // Kubernetes minor, "1.35"
	OIDCIssuer string `json:"oidcIssuer,omitempty"`
	// The settings eksctl applies at create and bootstrap converges on an
	// existing cluster (eksctl.Converge): endpoint access, the public
	// endpoint's CIDRs, the KMS key of Secrets' encryption ("" for none).
	EndpointPrivateAccess bool     `json:"endpointPrivateAccess"`
	EndpointPublicAccess  bool     `json:"endpointPublicAccess"`
	PublicAccessCIDRs     []string `json:"publicAccessCidrs,omitempty"`
	SecretsKeyARN         string   `json:"secretsKeyArn,omitempty"`
}

// ClusterFacts describes a cluster.
func (c *Clients) ClusterFacts(ctx context.Context, name string) (ClusterFacts, error) {
	f := ClusterFacts{Name: name}
	out, err := c.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	var notFound *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("describing EKS cluster %s in %s: %w", name, c.Region, err)
	}
	cl := out.Cluster
	f.Exists = true
	f.Status = string(cl.Status)
	f.Version = aws.ToString(cl.Version)
	if cl.Identity != nil && cl.Identity.Oidc != nil {
		f.OIDCIssuer = aws.ToString(cl.Identity.Oidc.Issuer)
	}
	if v := cl.ResourcesVpcConfig; v != nil {
		f.EndpointPrivateAccess = v.EndpointPrivateAccess
		f.EndpointPublicAccess = v.EndpointPublicAccess
		f.PublicAccessCIDRs = v.PublicAccessCidrs
	}
	for _, e := range cl.EncryptionConfig {
		// EKS's only encrypted resource is secrets (EncryptionConfig in the
		// EKS API reference); eksctl reads the key the same way
		// (pkg/eks/update.go EnableKMSEncryption).
		if slices.Contains(e.Resources, "secrets") && e.Provider != nil {
			f.SecretsKeyARN = aws.ToString(e.Provider.KeyArn)
		}
	}
	return f, nil
}

// NodeGroupFacts is a managed node group as EKS reports it.
type NodeGroupFacts struct {
	Name          string   `json:"name"`
	Exists        bool     `json:"exists"`
	Status        string   `json:"status,omitempty"` // CREATING, ACTIVE, DEGRADED, ...
	InstanceTypes []string `json:"instanceTypes,omitempty"`
	Min           int      `json:"min"`
	Max           int      `json:"max"`
	Desired       int      `json:"desired"`
	// Issues are EKS's health issues of the group ("AsgInstanceLaunchFailures: ...").
	Issues []string `json:"issues,omitempty"`
	// Version is the nodes' Kubernetes minor ("1.34"), ReleaseVersion
	// their AMI release ("1.34.2-20261115").
	Version        string `json:"version,omitempty"`
	ReleaseVersion string `json:"releaseVersion,omitempty"`
	// PodIMDSHopLimit is the HttpPutResponseHopLimit of the node group's
	// launch template: 1 keeps pods from the instance metadata service
	// (eksctl's disablePodIMDS), 2 lets them reach it. 0 when unknown: the
	// node group has no launch template, or the template sets none.
	PodIMDSHopLimit int `json:"podIMDSHopLimit,omitempty"`
	// LaunchTemplate names it ("lt-0123/1"), "" for none.
	LaunchTemplate string `json:"launchTemplate,omitempty"`
}

// NodeGroupFacts describes a managed node group; a missing cluster means a
// missing node group.
func (c *Clients) NodeGroupFacts(ctx context.Context, cluster, name string) (NodeGroupFacts, error) {
	f := NodeGroupFacts{Name: name}
	out, err := c.EKS.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(cluster), NodegroupName: aws.String(name)})
	var notFound *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("describing node group %s of cluster %s: %w", name, cluster, err)
	}
	ng := out.Nodegroup
	f.Exists = true
	f.Status = string(ng.Status)
	f.InstanceTypes = ng.InstanceTypes
	f.Version = aws.ToString(ng.Version)
	f.ReleaseVersion = aws.ToString(ng.ReleaseVersion)
	if lt := ng.LaunchTemplate; lt != nil && aws.ToString(lt.Id) != "" {
		f.LaunchTemplate = aws.ToString(lt.Id) + "/" + aws.ToString(lt.Version)
		in := &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: lt.Id}
		if v := aws.ToString(lt.Version); v != "" {
			in.Versions = []string{v}
		}
		out, err := c.EC2.DescribeLaunchTemplateVersions(ctx, in)
		if err != nil {
			return f, fmt.Errorf("reading launch template %s of node group %s: %w", f.LaunchTemplate, name, err)
		}
		for _, v := range out.LaunchTemplateVersions {
			if d := v.LaunchTemplateData; d != nil && d.MetadataOptions != nil {
				f.PodIMDSHopLimit = int(aws.ToInt32(d.MetadataOptions.HttpPutResponseHopLimit))
			}
		}
	}
	if s := ng.ScalingConfig; s != nil {
		f.Min = int(aws.ToInt32(s.MinSize))
		f.Max = int(aws.ToInt32(s.MaxSize))
		f.Desired = int(aws.ToInt32(s.DesiredSize))
	}
	if ng.Health != nil {
		for _, i := range ng.Health.Issues {
			f.Issues = append(f.Issues, string(i.Code)+": "+aws.ToString(i.Message))
		}
	}
	return f, nil
}

// RoleFacts is an IAM role and the trust policy IRSA depends on.
type RoleFacts struct {
	Name   string `json:"name"`
	Exists bool   `json:"exists"`
	ARN    string `json:"arn,omitempty"`
	// Trust is the URL-decoded assume-role policy document.
	Trust string `json:"-"`
}

// TrustsIssuer reports whether the role's trust policy names the OIDC
// provider of an issuer (https://oidc.eks.<region>.amazonaws.com/id/<id>):
// a role left over from a deleted cluster trusts a provider that is gone.
func (r RoleFacts) TrustsIssuer(issuer string) bool {
	host := strings.TrimPrefix(issuer, "https://")
	return host != "" && strings.Contains(r.Trust, "oidc-provider/"+host)
}

// RoleFacts reads a role.
func (c *Clients) RoleFacts(ctx context.Context, name string) (RoleFacts, error) {
	f := RoleFacts{Name: name}
	out, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var notFound *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &notFound):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("reading IAM role %s: %w", name, err)
	}
	f.Exists = true
	f.ARN = aws.ToString(out.Role.Arn)
	doc := aws.ToString(out.Role.AssumeRolePolicyDocument)
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	f.Trust = doc
	return f, nil
}

// DBFacts is an RDS instance as RDS reports it.
type DBFacts struct {
	Identifier          string `json:"identifier"`
	Exists              bool   `json:"exists"`
	Status              string `json:"status,omitempty"` // available, creating, modifying, ...
	InstanceClass       string `json:"instanceClass,omitempty"`
	EngineVersion       string `json:"engineVersion,omitempty"` // "15.7"
	MultiAZ             bool   `json:"multiAZ"`
	DeletionProtection  bool   `json:"deletionProtection"`
	BackupRetentionDays int    `json:"backupRetentionDays"`
	Endpoint            string `json:"endpoint,omitempty"`
}

// DBFacts describes an RDS instance.
func (c *Clients) DBFacts(ctx context.Context, id string) (DBFacts, error) {
	f := DBFacts{Identifier: id}
	out, err := rds.NewFromConfig(c.Config).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	var notFound *rdstypes.DBInstanceNotFoundFault
	switch {
	case errors.As(err, &notFound):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("describing DB instance %s: %w", id, err)
	case len(out.DBInstances) == 0:
		return f, nil
	}
	db := out.DBInstances[0]
	f.Exists = true
	f.Status = aws.ToString(db.DBInstanceStatus)
	f.InstanceClass = aws.ToString(db.DBInstanceClass)
	f.EngineVersion = aws.ToString(db.EngineVersion)
	f.MultiAZ = aws.ToBool(db.MultiAZ)
	f.DeletionProtection = aws.ToBool(db.DeletionProtection)
	f.BackupRetentionDays = int(aws.ToInt32(db.BackupRetentionPeriod))
	if db.Endpoint != nil {
		f.Endpoint = aws.ToString(db.Endpoint.Address)
	}
	return f, nil
}

// RedisFacts is an ElastiCache replication group as ElastiCache reports it.
type RedisFacts struct {
	ID     string `json:"id"`
	Exists bool   `json:"exists"`
	Status string `json:"status,omitempty"` // available, creating, modifying, ...
	// NodeType is the group's cache node type ("cache.t3.medium").
	NodeType string `json:"nodeType,omitempty"`
	// Nodes is the number of member clusters (primary and replicas).
	Nodes int `json:"nodes"`
	// AutomaticFailover is enabled, disabled, enabling or disabling.
	AutomaticFailover string `json:"automaticFailover,omitempty"`
	AuthTokenEnabled  bool   `json:"authTokenEnabled"`
	TransitEncryption bool   `json:"transitEncryption"`
}

// RedisFacts describes a replication group.
func (c *Clients) RedisFacts(ctx context.Context, id string) (RedisFacts, error) {
	f := RedisFacts{ID: id}
	out, err := c.ElastiCache().DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	var notFound *ectypes.ReplicationGroupNotFoundFault
	switch {
	case errors.As(err, &notFound):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("describing replication group %s: %w", id, err)
	case len(out.ReplicationGroups) == 0:
		return f, nil
	}
	g := out.ReplicationGroups[0]
	f.Exists = true
	f.Status = aws.ToString(g.Status)
	f.NodeType = aws.ToString(g.CacheNodeType)
	f.Nodes = len(g.MemberClusters)
	f.AutomaticFailover = string(g.AutomaticFailover)
	f.AuthTokenEnabled = aws.ToBool(g.AuthTokenEnabled)
	f.TransitEncryption = aws.ToBool(g.TransitEncryptionEnabled)
	return f, nil
}

// BucketFacts is an S3 bucket and its versioning.
type BucketFacts struct {
	Name       string `json:"name"`
	Exists     bool   `json:"exists"`
	Versioning string `json:"versioning,omitempty"` // Enabled, Suspended, or "" (never enabled)
}

// BucketFacts reads a bucket. A bucket another account owns reads as an
// error (403), not as missing.
func (c *Clients) BucketFacts(ctx context.Context, name string) (BucketFacts, error) {
	f := BucketFacts{Name: name}
	ok, err := c.BucketExists(ctx, name)
	if err != nil || !ok {
		return f, err
	}
	f.Exists = true
	out, err := c.S3().GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(name)})
	if err != nil {
		return f, fmt.Errorf("reading the versioning of bucket %s: %w", name, err)
	}
	if out.Status != "" {
		f.Versioning = string(out.Status)
	}
	return f, nil
}

// VersioningEnabled reports whether the bucket keeps old versions.
func (b BucketFacts) VersioningEnabled() bool {
	return b.Versioning == string(s3types.BucketVersioningStatusEnabled)
}

// RepositoryFacts is an ECR repository.
type RepositoryFacts struct {
	Name   string `json:"name"`
	Exists bool   `json:"exists"`
	URI    string `json:"uri,omitempty"`
}

// RepositoryFacts reads an ECR repository.
func (c *Clients) RepositoryFacts(ctx context.Context, name string) (RepositoryFacts, error) {
	f := RepositoryFacts{Name: name}
	out, err := ecr.NewFromConfig(c.Config).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	var notFound *ecrtypes.RepositoryNotFoundException
	switch {
	case errors.As(err, &notFound):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("describing ECR repository %s: %w", name, err)
	case len(out.Repositories) == 0:
		return f, nil
	}
	f.Exists = true
	f.URI = aws.ToString(out.Repositories[0].RepositoryUri)
	return f, nil
}

// SecretFacts is a Secrets Manager secret, without its value.
type SecretFacts struct {
	Name   string `json:"name"`
	Exists bool   `json:"exists"`
	// DeletedDate is set while the secret waits out its recovery window: the
	// name is taken, but nothing can read the secret.
	DeletedDate *time.Time `json:"deletedDate,omitempty"`
	// HasValue says a version is labelled AWSCURRENT.
	HasValue bool `json:"hasValue"`
}

// SecretFacts describes a secret; it never reads the value.
func (c *Clients) SecretFacts(ctx context.Context, name string) (SecretFacts, error) {
	f := SecretFacts{Name: name}
	out, err := c.SecretsManager().DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	var notFound *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("describing secret %s: %w", name, err)
	}
	f.Exists = true
	f.DeletedDate = out.DeletedDate
	for _, stages := range out.VersionIdsToStages {
		for _, s := range stages {
			if s == "AWSCURRENT" {
				f.HasValue = true
			}
		}
	}
	return f, nil
}
