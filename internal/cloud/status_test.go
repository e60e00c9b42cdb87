package cloud

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sovd/bootstrap/internal/testenv"
)

// TestStatusReadsAgainstMoto makes each data-tier component with the SDK
// (instant in moto, unlike Terraform's pollers), and reads it back: absent
// first, then present with the values status compares.
func TestStatusReadsAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := New(ctx, testenv.MotoRegion)
	if err != nil {
		t.Fatal(err)
	}

	// Nothing exists yet: every read says so without an error.
	if f, err := c.ClusterFacts(ctx, "nope"); err != nil || f.Exists {
		t.Errorf("ClusterFacts: %+v %v", f, err)
	}
	if f, err := c.NodeGroupFacts(ctx, "nope", "general"); err != nil || f.Exists {
		t.Errorf("NodeGroupFacts: %+v %v", f, err)
	}
	if f, err := c.RoleFacts(ctx, "nope"); err != nil || f.Exists {
		t.Errorf("RoleFacts: %+v %v", f, err)
	}
	if f, err := c.DBFacts(ctx, "sovd-test"); err != nil || f.Exists {
		t.Errorf("DBFacts: %+v %v", f, err)
	}
	if f, err := c.RedisFacts(ctx, "sovd-test"); err != nil || f.Exists {
		t.Errorf("RedisFacts: %+v %v", f, err)
	}
	if f, err := c.BucketFacts(ctx, "sovd-test-backups"); err != nil || f.Exists {
		t.Errorf("BucketFacts: %+v %v", f, err)
	}
	if f, err := c.RepositoryFacts(ctx, "sovd-backend"); err != nil || f.Exists {
		t.Errorf("RepositoryFacts: %+v %v", f, err)
	}
	if f, err := c.SecretFacts(ctx, "sovd/test/jwt"); err != nil || f.Exists {
		t.Errorf("SecretFacts: %+v %v", f, err)
	}

	// Make them.
	if _, err := rds.NewFromConfig(c.Config).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("sovd-test"), DBInstanceClass: aws.String("db.t3.medium"),
		Engine: aws.String("postgres"), EngineVersion: aws.String("15.7"), AllocatedStorage: aws.Int32(20),
		MasterUsername: aws.String("sovd_admin"), MasterUserPassword: aws.String("not-a-secret-1"),
		MultiAZ: aws.Bool(true), DeletionProtection: aws.Bool(true), BackupRetentionPeriod: aws.Int32(7),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ElastiCache().CreateReplicationGroup(ctx, &elasticache.CreateReplicationGroupInput{
		ReplicationGroupId: aws.String("sovd-test"), ReplicationGroupDescription: aws.String("test"),
		Engine: aws.String("redis"), CacheNodeType: aws.String("cache.t3.small"), NumCacheClusters: aws.Int32(1),
		TransitEncryptionEnabled: aws.Bool(true), AuthToken: aws.String("not-a-secret-token-0123456789"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sovd-test-backups")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3().PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("sovd-test-backups"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sovd-test-plain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ecr.NewFromConfig(c.Config).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("sovd-backend")}); err != nil {
		t.Fatal(err)
	}
	sm := c.SecretsManager()
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("sovd/test/jwt"), SecretString: aws.String(`{"secret":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("sovd/test/redis"), SecretString: aws.String(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("sovd/test/redis"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}

	// Read them back.
	db, err := c.DBFacts(ctx, "sovd-test")
	if err != nil || !db.Exists || db.InstanceClass != "db.t3.medium" || db.EngineVersion != "15.7" || !db.MultiAZ ||
		!db.DeletionProtection || db.BackupRetentionDays != 7 || db.Status == "" {
		t.Errorf("DBFacts: %+v %v", db, err)
	}
	g, err := c.RedisFacts(ctx, "sovd-test")
	if err != nil || !g.Exists || g.NodeType != "cache.t3.small" || !g.AuthTokenEnabled || g.Status == "" {
		t.Errorf("RedisFacts: %+v %v", g, err)
	}
	if b, err := c.BucketFacts(ctx, "sovd-test-backups"); err != nil || !b.Exists || !b.VersioningEnabled() {
		t.Errorf("BucketFacts versioned: %+v %v", b, err)
	}
	if b, err := c.BucketFacts(ctx, "sovd-test-plain"); err != nil || !b.Exists || b.VersioningEnabled() {
		t.Errorf("BucketFacts plain: %+v %v", b, err)
	}
	if r, err := c.RepositoryFacts(ctx, "sovd-backend"); err != nil || !r.Exists || r.URI == "" {
		t.Errorf("RepositoryFacts: %+v %v", r, err)
	}
	if s, err := c.SecretFacts(ctx, "sovd/test/jwt"); err != nil || !s.Exists || !s.HasValue || s.DeletedDate != nil {
		t.Errorf("SecretFacts: %+v %v", s, err)
	}
	if s, err := c.SecretFacts(ctx, "sovd/test/redis"); err != nil || !s.Exists || s.DeletedDate == nil {
		t.Errorf("SecretFacts of a deleted secret: %+v %v", s, err)
	}

	// A cluster with a limited endpoint and encrypted Secrets, and a node
	// group whose launch template lets pods reach IMDS (hop limit 2): what
	// status compares with the profile.
	vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, AvailabilityZone: aws.String(az), CidrBlock: aws.String(fmt.Sprintf("10.9.%d.0/24", i))})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	const key = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	if _, err := c.EKS.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("sovd-test"), RoleArn: aws.String("arn:aws:iam::123456789012:role/eks"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: subnets, EndpointPrivateAccess: aws.Bool(true), EndpointPublicAccess: aws.Bool(true), PublicAccessCidrs: []string{"203.0.113.0/24"}},
		EncryptionConfig:   []ekstypes.EncryptionConfig{{Resources: []string{"secrets"}, Provider: &ekstypes.Provider{KeyArn: aws.String(key)}}},
	}); err != nil {
		t.Fatal(err)
	}
	if cl, err := c.ClusterFacts(ctx, "sovd-test"); err != nil || !cl.EndpointPrivateAccess || !cl.EndpointPublicAccess ||
		strings.Join(cl.PublicAccessCIDRs, ",") != "203.0.113.0/24" || cl.SecretsKeyARN != key {
		t.Errorf("ClusterFacts: %+v %v", cl, err)
	}
	lt, err := c.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("sovd-test-general"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpPutResponseHopLimit: aws.Int32(2), HttpTokens: ec2types.LaunchTemplateHttpTokensStateOptional}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EKS.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String("sovd-test"), NodegroupName: aws.String("general"),
		NodeRole: aws.String("arn:aws:iam::123456789012:role/node"), Subnets: subnets,
		LaunchTemplate: &ekstypes.LaunchTemplateSpecification{Id: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("1")}}); err != nil {
		t.Fatal(err)
	}
	if ng, err := c.NodeGroupFacts(ctx, "sovd-test", "general"); err != nil || ng.PodIMDSHopLimit != 2 || ng.LaunchTemplate == "" {
		t.Errorf("NodeGroupFacts with a launch template: %+v %v", ng, err)
	}
}
