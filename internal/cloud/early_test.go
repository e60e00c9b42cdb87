package cloud

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/sovd/bootstrap/internal/testenv"
)

// TestNetworkSoFarAgainstMoto: what the data lane sees while eksctl is
// still at work: nothing, then the tagged VPC and its subnets (no security
// group yet), and an error rather than a guess when two VPCs carry the tag.
func TestNetworkSoFarAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := New(ctx, testenv.MotoRegion)
	if err != nil {
		t.Fatal(err)
	}
	const cluster = "early-cluster"
	if n, err := c.NetworkSoFar(ctx, cluster); err != nil || n.VPCID != "" || len(n.PrivateSubnetIDs) != 0 {
		t.Fatalf("before eksctl: %+v, %v; want nothing and no error", n, err)
	}
	tag := func(rt ec2types.ResourceType, extra ...string) []ec2types.TagSpecification {
		tags := []ec2types.Tag{{Key: aws.String(TagEksctlCluster), Value: aws.String(cluster)}}
		for _, k := range extra {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String("1")})
		}
		return []ec2types.TagSpecification{{ResourceType: rt, Tags: tags}}
	}
	vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.7.0.0/16"), TagSpecifications: tag(ec2types.ResourceTypeVpc)})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	var private []string
	for i, az := range []string{"us-east-1b", "us-east-1a"} {
		s, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String([]string{"10.7.96.0/19", "10.7.128.0/19"}[i]),
			AvailabilityZone: aws.String(az), TagSpecifications: tag(ec2types.ResourceTypeSubnet, TagPrivateELB)})
		if err != nil {
			t.Fatal(err)
		}
		private = append([]string{aws.ToString(s.Subnet.SubnetId)}, private...)
	}
	pub, err := c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.7.0.0/19"),
		AvailabilityZone: aws.String("us-east-1a"), TagSpecifications: tag(ec2types.ResourceTypeSubnet, TagPublicELB)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.NetworkSoFar(ctx, cluster)
	if err != nil {
		t.Fatal(err)
	}
	if n.VPCID != vpcID || !slices.Equal(n.PrivateSubnetIDs, private) || !slices.Equal(n.PublicSubnetIDs, []string{aws.ToString(pub.Subnet.SubnetId)}) || n.ClusterSecurityGroupID != "" {
		t.Errorf("while eksctl makes the control plane: %+v; want %s, private %v (by zone), no security group", n, vpcID, private)
	}

	if _, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/16"), TagSpecifications: tag(ec2types.ResourceTypeVpc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NetworkSoFar(ctx, cluster); err == nil || !strings.Contains(err.Error(), "2 VPCs are tagged") || !strings.Contains(err.Error(), vpcID) {
		t.Errorf("two tagged VPCs: %v; want an error naming them", err)
	}
}
