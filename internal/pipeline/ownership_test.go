package pipeline

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/proc/proctest"
	"github.com/sovd/bootstrap/internal/testenv"
)

func TestOwnershipMismatches(t *testing.T) {
	t.Parallel()
	own := cloud.EnvironmentOwnership("sovd", "staging")
	for _, c := range []struct {
		name string
		tags map[string]string
		want string
	}{
		{"all three", map[string]string{"Environment": "staging", "Application": "sovd", "ManagedBy": "bootstrap", "Team": "x"}, ""},
		{"none", nil, "Application missing; Environment missing; ManagedBy missing"},
		{"another environment", map[string]string{"Environment": "production", "Application": "sovd", "ManagedBy": "bootstrap"}, "Environment=production, want staging"},
		{"another application", map[string]string{"Environment": "staging", "Application": "billing", "ManagedBy": "bootstrap"}, "Application=billing, want sovd"},
		{"made by hand", map[string]string{"Environment": "staging", "Application": "sovd"}, "ManagedBy missing"},
	} {
		if got := strings.Join(own.Mismatches(c.tags), "; "); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// The cluster also must not carry another cluster's eksctl tag.
	f := cloud.Found{Kind: cloud.KindCluster, Name: "a", Tags: map[string]string{"Environment": "staging", "Application": "sovd", "ManagedBy": "bootstrap", cloud.TagEksctlCluster: "b"}}
	if m := mismatches(f, own, "a"); len(m) != 1 || !strings.Contains(m[0], "alpha.eksctl.io/cluster-name=b") {
		t.Errorf("cluster with another eksctl name: %v", m)
	}
}

// TestUpRefusesObjectsItDidNotMake: a cluster, a backups bucket, a secret
// and a repository exist under staging's names but without its tags (made
// by someone else); up stops at its ownership check, names each with its
// tags and the command that would tag it, and has changed nothing: no state
// bucket, no VPC, no eksctl run, no tag added.
func TestUpRefusesObjectsItDidNotMake(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := cloud.New(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	st, log := processState(t, "staging", "eksctl-must-not-run")
	st.Runner = proctest.New(t) // any command fails the test
	st.Progress = NewProgress(log, false, false)
	st.Out = &bytes.Buffer{}
	st.Now = time.Now
	p := st.Profile
	acct := testenv.MotoAccountID

	// The foreign objects.
	role, err := iam.NewFromConfig(c.Config).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("someone-eks"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	if err != nil {
		t.Fatal(err)
	}
	vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.50.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String([]string{"10.50.1.0/24", "10.50.2.0/24"}[i]), AvailabilityZone: aws.String(az)})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	if _, err := c.EKS.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String(p.Cluster.Name), RoleArn: role.Role.Arn,
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: subnets}, Tags: map[string]string{"Team": "other"}}); err != nil {
		t.Fatal(err)
	}
	bucket := p.StorageBucketName(acct)
	if _, err := c.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(p.Secrets.Prefix + "/jwt"), SecretString: aws.String(`{"secret":"theirs"}`),
		Tags: []smtypes.Tag{{Key: aws.String("Environment"), Value: aws.String("production")}, {Key: aws.String("Application"), Value: aws.String("sovd")}, {Key: aws.String("ManagedBy"), Value: aws.String("bootstrap")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(c.Config).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(p.App.RoleName), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
		Tags: []iamtypes.Tag{{Key: aws.String("Environment"), Value: aws.String("staging")}, {Key: aws.String("Application"), Value: aws.String("sovd")}, {Key: aws.String("ManagedBy"), Value: aws.String("bootstrap")}, {Key: aws.String("alpha.eksctl.io/cluster-name"), Value: aws.String("another-cluster")}}}); err != nil {
		t.Fatal(err)
	}
	repo := p.Registry.Repositories[0]
	if _, err := ecr.NewFromConfig(c.Config).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo),
		Tags: []ecrtypes.Tag{{Key: aws.String("Application"), Value: aws.String("sovd")}}}); err != nil {
		t.Fatal(err)
	}

	err = Run(ctx, st, "bootstrap up --env staging", UpSteps())
	var oe *OwnershipError
	if !errors.As(err, &oe) {
		t.Fatalf("up: %v, want an OwnershipError\n%s", err, log)
	}
	msg := err.Error()
	for _, want := range []string{
		"EKS cluster " + p.Cluster.Name + ": tags Team=other (Application missing; Environment missing; ManagedBy missing)",
		"S3 bucket " + bucket + ": tags (none)",
		"secret " + p.Secrets.Prefix + "/jwt: tags Application=sovd,Environment=production,ManagedBy=bootstrap (Environment=production, want staging)",
		"ECR repository " + repo + ": tags Application=sovd (Environment missing; ManagedBy missing)",
		"aws eks tag-resource --region us-east-1 --resource-arn arn:aws:eks:",
		"aws s3api put-bucket-tagging --region us-east-1 --bucket " + bucket,
		"aws secretsmanager tag-resource --region us-east-1 --secret-id " + p.Secrets.Prefix + "/jwt --tags Key=Application,Value=sovd Key=Environment,Value=staging Key=ManagedBy,Value=bootstrap",
		"aws ecr tag-resource --region us-east-1 --resource-arn ",
		"IAM role " + p.App.RoleName + ": tags Application=sovd,Environment=staging,ManagedBy=bootstrap,alpha.eksctl.io/cluster-name=another-cluster (alpha.eksctl.io/cluster-name=another-cluster, want " + p.Cluster.Name + ")",
		"infrastructure_setup.md",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q:\n%s", want, msg)
		}
	}
	if len(oe.Objects) != 5 {
		t.Errorf("%d objects named, want 5: %v", len(oe.Objects), oe.Objects)
	}
	// Nothing changed.
	if ok, _ := c.BucketExists(ctx, p.StateBucketName(acct)); ok {
		t.Error("up made the state bucket")
	}
	vpcs, _ := c.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:alpha.eksctl.io/cluster-name"), Values: []string{p.Cluster.Name}}}})
	if len(vpcs.Vpcs) != 0 {
		t.Error("eksctl made a VPC")
	}
	if f, _ := c.FindSecret(ctx, p.Secrets.Prefix+"/jwt"); f.Tags["Environment"] != "production" {
		t.Errorf("the foreign secret's tags changed: %v", f.Tags)
	}
	if v, err := c.SecretField(ctx, p.Secrets.Prefix+"/jwt", "secret"); err != nil || v != "theirs" {
		t.Errorf("the foreign secret's value changed: %v", err)
	}

	// Once tagged deliberately (as the error says), the same objects are
	// this environment's and the check passes. (The role's eksctl tag
	// names another cluster: it is removed instead.)
	if _, err := iam.NewFromConfig(c.Config).UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String(p.App.RoleName), TagKeys: []string{"alpha.eksctl.io/cluster-name"}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range oe.Objects {
		if err := tagAsOwned(ctx, c, f, oe.want(f)); err != nil {
			t.Fatal(err)
		}
	}
	// A new run (pipeline.Run starts each with no cached lookups): the
	// first run's reads must not answer for objects changed since.
	st.seen = nil
	if err := (CheckOwnership{}).Run(ctx, st); err != nil {
		t.Errorf("after tagging: %v", err)
	}
}

// tagAsOwned does what the error's tag command does, through the SDK.
func tagAsOwned(ctx context.Context, c *cloud.Clients, f cloud.Found, o cloud.Ownership) error {
	var err error
	switch f.Kind {
	case cloud.KindCluster:
		_, err = c.EKS.TagResource(ctx, &eks.TagResourceInput{ResourceArn: aws.String(f.ARN), Tags: o})
	case cloud.KindBucket:
		var set []s3types.Tag
		for k, v := range o {
			set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		_, err = c.S3().PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(f.Name), Tagging: &s3types.Tagging{TagSet: set}})
	case cloud.KindSecret:
		var set []smtypes.Tag
		for k, v := range o {
			set = append(set, smtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		_, err = c.SecretsManager().TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(f.Name), Tags: set})
	case cloud.KindRepository:
		var set []ecrtypes.Tag
		for k, v := range o {
			set = append(set, ecrtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		_, err = ecr.NewFromConfig(c.Config).TagResource(ctx, &ecr.TagResourceInput{ResourceArn: aws.String(f.ARN), Tags: set})
	}
	return err
}
