package cloud

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/sovd/bootstrap/internal/testenv"
)

func TestAdoptLookupsAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("moto")
	}
	testenv.Moto(t).Use(t)
	ctx := context.Background()
	c, err := New(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	vpc, err := c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	if id, err := c.SecurityGroupIDByName(ctx, vpcID, "sovd-x-postgres"); err != nil || id != "" {
		t.Fatalf("absent group: %q %v", id, err)
	}
	sg, err := c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("sovd-x-postgres"), Description: aws.String("d"), VpcId: aws.String(vpcID)})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := c.SecurityGroupIDByName(ctx, vpcID, "sovd-x-postgres"); err != nil || id != aws.ToString(sg.GroupId) {
		t.Fatalf("present group: %q %v", id, err)
	}
	if ok, err := c.DBParameterGroupExists(ctx, "sovd-x-postgres15"); err != nil || ok {
		t.Fatalf("absent parameter group: %v %v", ok, err)
	}
	if _, err := rds.NewFromConfig(c.Config).CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("sovd-x-postgres15"), DBParameterGroupFamily: aws.String("postgres15"), Description: aws.String("d")}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.DBParameterGroupExists(ctx, "sovd-x-postgres15"); err != nil || !ok {
		t.Fatalf("present parameter group: %v %v", ok, err)
	}
	if ok, err := c.BucketExists(ctx, "nope-bucket-x"); err != nil || ok {
		t.Fatalf("absent bucket: %v %v", ok, err)
	}
	if arn, err := c.SecretARNByName(ctx, "sovd/x/jwt"); err != nil || arn != "" {
		t.Fatalf("absent secret: %v %v", arn, err)
	}
}
