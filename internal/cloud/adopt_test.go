package cloud

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
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

	// The data key, found through its alias with the key's tags; the
	// alias carries the key's tags; a key pending deletion is not there.
	const alias = "alias/sovd-x-data"
	if f, err := c.FindKMSKeyByAlias(ctx, alias); err != nil || f.Exists() {
		t.Fatalf("absent alias: %+v %v", f, err)
	}
	k := kms.NewFromConfig(c.Config)
	key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Tags: []kmstypes.Tag{{TagKey: aws.String("Environment"), TagValue: aws.String("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	keyID := aws.ToString(key.KeyMetadata.KeyId)
	if _, err := k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(keyID)}); err != nil {
		t.Fatal(err)
	}
	if f, err := c.FindKMSKeyByAlias(ctx, alias); err != nil || f.ID != keyID || f.Tags["Environment"] != "x" || f.Kind != KindKMSKey {
		t.Errorf("key by alias: %+v %v", f, err)
	}
	if f, err := c.FindKMSAlias(ctx, alias); err != nil || f.ID != alias || f.Tags["Environment"] != "x" || f.Kind != KindKMSAlias {
		t.Errorf("alias: %+v %v", f, err)
	}
	// By tags: every tag asked for must be there; a key without them, or
	// another value, is not found.
	other, err := k.CreateKey(ctx, &kms.CreateKeyInput{Tags: []kmstypes.Tag{{TagKey: aws.String("Environment"), TagValue: aws.String("y")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.FindKMSKeysByTags(ctx, map[string]string{"Environment": "x"}); err != nil || len(got) != 1 || got[0].ID != keyID {
		t.Errorf("keys tagged Environment=x: %+v %v", got, err)
	}
	if got, err := c.FindKMSKeysByTags(ctx, map[string]string{"Environment": "x", "Name": "n"}); err != nil || len(got) != 0 {
		t.Errorf("keys tagged Environment=x and Name=n: %+v %v", got, err)
	}
	if _, err := k.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: other.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.FindKMSKeysByTags(ctx, map[string]string{"Environment": "y"}); err != nil || len(got) != 0 {
		t.Errorf("a key pending deletion was found by its tags: %+v %v", got, err)
	}
	if _, err := k.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyID), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if f, err := c.FindKMSKeyByAlias(ctx, alias); err != nil || f.Exists() {
		t.Errorf("a key pending deletion was found: %+v %v", f, err)
	}

	// A log group by its name, with its tags.
	if f, err := c.FindLogGroup(ctx, "/aws/rds/instance/sovd-x/postgresql"); err != nil || f.Exists() {
		t.Fatalf("absent log group: %+v %v", f, err)
	}
	if _, err := cloudwatchlogs.NewFromConfig(c.Config).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{
		LogGroupName: aws.String("/aws/rds/instance/sovd-x/postgresql"), Tags: map[string]string{"Environment": "x"}}); err != nil {
		t.Fatal(err)
	}
	if f, err := c.FindLogGroup(ctx, "/aws/rds/instance/sovd-x/postgresql"); err != nil || f.ID != "/aws/rds/instance/sovd-x/postgresql" || f.Tags["Environment"] != "x" {
		t.Errorf("log group: %+v %v", f, err)
	}
	// A prefix of another group's name is not that group.
	if f, err := c.FindLogGroup(ctx, "/aws/rds/instance/sovd-x/postgres"); err != nil || f.Exists() {
		t.Errorf("a prefix matched: %+v %v", f, err)
	}
}
