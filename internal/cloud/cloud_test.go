package cloud

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/sovd/bootstrap/internal/testenv"
)

func TestIsPrivate(t *testing.T) {
	t.Parallel()
	tag := func(k string) []ec2types.Tag { return []ec2types.Tag{{Key: aws.String(k), Value: aws.String("1")}} }
	tests := []struct {
		name string
		s    ec2types.Subnet
		want bool
	}{
		{"internal-elb tag", ec2types.Subnet{Tags: tag(TagPrivateELB), MapPublicIpOnLaunch: aws.Bool(true)}, true},
		{"elb tag", ec2types.Subnet{Tags: tag(TagPublicELB)}, false},
		{"untagged, no public IPs", ec2types.Subnet{MapPublicIpOnLaunch: aws.Bool(false)}, true},
		{"untagged, public IPs", ec2types.Subnet{MapPublicIpOnLaunch: aws.Bool(true)}, false},
	}
	for _, tt := range tests {
		if got := isPrivate(tt.s); got != tt.want {
			t.Errorf("%s: isPrivate = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestReadsAgainstMoto builds by hand, in moto, a cluster whose subnets are
// tagged the way eksctl tags them (plus one untagged private subnet, as a
// cluster made by other means has) and reads it back.
func TestReadsAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := New(ctx, testenv.MotoRegion)
	if err != nil {
		t.Fatal(err)
	}

	if acct, err := c.AccountID(ctx); err != nil || acct != testenv.MotoAccountID {
		t.Fatalf("AccountID = %q, %v", acct, err)
	}
	if ok, err := c.ClusterExists(ctx, "absent"); err != nil || ok {
		t.Fatalf("ClusterExists(absent) = %v, %v", ok, err)
	}

	vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	subnet := func(cidr, az, roleTag string, public bool) string {
		in := &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)}
		if roleTag != "" {
			in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSubnet,
				Tags: []ec2types.Tag{{Key: aws.String(roleTag), Value: aws.String("1")}}}}
		}
		s, err := c.EC2.CreateSubnet(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if public {
			if _, err := c.EC2.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: s.Subnet.SubnetId,
				MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
				t.Fatal(err)
			}
		}
		return aws.ToString(s.Subnet.SubnetId)
	}
	privB := subnet("10.9.128.0/19", "us-east-1b", TagPrivateELB, false)
	privA := subnet("10.9.96.0/19", "us-east-1a", TagPrivateELB, false)
	pubA := subnet("10.9.0.0/19", "us-east-1a", TagPublicELB, true)
	untaggedC := subnet("10.9.160.0/19", "us-east-1c", "", false)

	role, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("cluster-service-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EKS.CreateCluster(ctx, &eks.CreateClusterInput{
		Name: aws.String("c1"), RoleArn: role.Role.Arn,
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{pubA, privB, untaggedC, privA}},
	}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.ClusterExists(ctx, "c1"); err != nil || !ok {
		t.Fatalf("ClusterExists(c1) = %v, %v", ok, err)
	}

	n, err := c.ClusterNetwork(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if n.VPCID != aws.ToString(vpc.Vpc.VpcId) {
		t.Errorf("VPCID = %s, want %s", n.VPCID, aws.ToString(vpc.Vpc.VpcId))
	}
	if want := []string{privA, privB, untaggedC}; !slices.Equal(n.PrivateSubnetIDs, want) {
		t.Errorf("private subnets = %v, want %v (by zone)", n.PrivateSubnetIDs, want)
	}
	if !slices.Equal(n.PublicSubnetIDs, []string{pubA}) {
		t.Errorf("public subnets = %v, want [%s]", n.PublicSubnetIDs, pubA)
	}
	if !strings.HasPrefix(n.ClusterSecurityGroupID, "sg-") || !strings.HasPrefix(n.OIDCIssuer, "https://oidc.eks.us-east-1.amazonaws.com/id/") {
		t.Errorf("cluster security group %q, issuer %q", n.ClusterSecurityGroupID, n.OIDCIssuer)
	}
	if _, err := c.ClusterNetwork(ctx, "absent"); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("ClusterNetwork(absent) = %v", err)
	}

	// OIDC provider and roles.
	if ok, err := c.OIDCProviderExists(ctx, n.OIDCIssuer); err != nil || ok {
		t.Fatalf("OIDCProviderExists before = %v, %v", ok, err)
	}
	if _, err := c.IAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(n.OIDCIssuer), ClientIDList: []string{"sts.amazonaws.com"},
		ThumbprintList: []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"},
	}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.OIDCProviderExists(ctx, n.OIDCIssuer); err != nil || !ok {
		t.Fatalf("OIDCProviderExists after = %v, %v", ok, err)
	}
	if arn, err := c.RoleARN(ctx, "no-such-role"); err != nil || arn != "" {
		t.Errorf("RoleARN(no-such-role) = %q, %v", arn, err)
	}
	if arn, err := c.RoleARN(ctx, "cluster-service-role"); err != nil || arn != aws.ToString(role.Role.Arn) {
		t.Errorf("RoleARN = %q, %v", arn, err)
	}

	// Stacks: only the cluster's, deleted ones left out.
	tpl := `{"Resources":{"R":{"Type":"AWS::CloudFormation::WaitConditionHandle"}}}`
	for _, name := range []string{"eksctl-c1-cluster", "eksctl-c1-nodegroup-general", "eksctl-c10-cluster", "other"} {
		if _, err := c.CloudFormation.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(tpl)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CloudFormation.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String("eksctl-c1-nodegroup-general")}); err != nil {
		t.Fatal(err)
	}
	stacks, err := c.Stacks(ctx, "eksctl-c1-")
	if err != nil {
		t.Fatal(err)
	}
	if len(stacks) != 1 || stacks[0].Name != "eksctl-c1-cluster" || stacks[0].Status != "CREATE_COMPLETE" {
		t.Errorf("Stacks = %+v, want eksctl-c1-cluster CREATE_COMPLETE only", stacks)
	}
}
