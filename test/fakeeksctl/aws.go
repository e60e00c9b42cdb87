package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
)

// env is the AWS clients of one region, from the SDK's default chain
// (AWS_ENDPOINT_URL points it at moto).
type env struct {
	region  string
	account string
	ec2     *ec2.Client
	eks     *eks.Client
	iam     *iam.Client
	cfn     *cloudformation.Client
	logs    *cloudwatchlogs.Client
	// delays is $FAKE_EKSCTL_DELAYS.
	delays delays
}

func newEnv(ctx context.Context, region string) (*env, error) {
	d, err := parseDelays(os.Getenv(envDelays))
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, err
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("checking AWS credentials: %w", err)
	}
	return &env{
		region:  region,
		account: aws.ToString(id.Account),
		ec2:     ec2.NewFromConfig(cfg),
		eks:     eks.NewFromConfig(cfg),
		iam:     iam.NewFromConfig(cfg),
		cfn:     cloudformation.NewFromConfig(cfg),
		logs:    cloudwatchlogs.NewFromConfig(cfg),
		delays:  d,
	}, nil
}

// suffix is CloudFormation's random suffix for generated names.
func suffix() string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// clusterTags are the tags eksctl's stacks carry, and CloudFormation passes
// on to every resource: the cluster name (current and old key), the eksctl
// version, and metadata.tags.
func clusterTags(cfg *api.ClusterConfig, extra map[string]string) map[string]string {
	t := map[string]string{
		api.ClusterNameTag:    cfg.Metadata.Name,
		api.OldClusterNameTag: cfg.Metadata.Name,
		api.EksctlVersionTag:  Version,
	}
	for k, v := range cfg.Metadata.Tags {
		t[k] = v
	}
	for k, v := range extra {
		t[k] = v
	}
	return t
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ec2Tags(resource ec2types.ResourceType, tags map[string]string) []ec2types.TagSpecification {
	spec := ec2types.TagSpecification{ResourceType: resource}
	for _, k := range sortedKeys(tags) {
		spec.Tags = append(spec.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return []ec2types.TagSpecification{spec}
}

func iamTags(tags map[string]string) []iamtypes.Tag {
	var out []iamtypes.Tag
	for _, k := range sortedKeys(tags) {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// stack is a CloudFormation stack record: its name, tags, and the outputs
// that say what it holds (delete reads them back).
func (e *env) stackOutputs(ctx context.Context, name string) (map[string]string, bool, error) {
	out, err := e.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return nil, false, nil
		}
		return nil, false, err
	}
	if len(out.Stacks) == 0 || out.Stacks[0].StackStatus == cfntypes.StackStatusDeleteComplete {
		return nil, false, nil
	}
	outputs := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return outputs, true, nil
}

// createStackRecord makes a stack that holds no resources of its own but
// records, in its outputs, what the fake made for it, as eksctl's stacks
// do in theirs.
func (e *env) createStackRecord(ctx context.Context, name, description string, tags map[string]string, outputs map[string]string) error {
	tpl := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              description + " [created and managed by eksctl]",
		"Resources": map[string]any{
			"Record": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"},
		},
	}
	outs := map[string]any{}
	for k, v := range outputs {
		if v != "" {
			outs[k] = map[string]any{"Value": v}
		}
	}
	if len(outs) > 0 {
		tpl["Outputs"] = outs
	}
	body, _ := json.Marshal(tpl)
	var cfnTags []cfntypes.Tag
	for _, k := range sortedKeys(tags) {
		cfnTags = append(cfnTags, cfntypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := e.cfn.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName:    aws.String(name),
		TemplateBody: aws.String(string(body)),
		Tags:         cfnTags,
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam, cfntypes.CapabilityCapabilityNamedIam},
	})
	if err != nil {
		return fmt.Errorf("creating CloudFormation stack %q: %w", name, err)
	}
	return nil
}

// stacksOf lists the live stacks whose names start with prefix.
func (e *env) stacksOf(ctx context.Context, prefix string) ([]string, error) {
	var names []string
	p := cloudformation.NewListStacksPaginator(e.cfn, &cloudformation.ListStacksInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.StackSummaries {
			if strings.HasPrefix(aws.ToString(s.StackName), prefix) && s.StackStatus != cfntypes.StackStatusDeleteComplete {
				names = append(names, aws.ToString(s.StackName))
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// createRole makes an IAM role; an existing role of the same name is the
// error CloudFormation reports for it.
func (e *env) createRole(ctx context.Context, name string, trust any, tags map[string]string) (string, error) {
	doc, _ := json.Marshal(trust)
	out, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(string(doc)),
		Tags:                     iamTags(tags),
	})
	if err != nil {
		var exists *iamtypes.EntityAlreadyExistsException
		if errors.As(err, &exists) {
			return "", fmt.Errorf("Resource of type 'AWS::IAM::Role' with identifier '%s' already exists.", name)
		}
		return "", fmt.Errorf("creating IAM role %s: %w", name, err)
	}
	return aws.ToString(out.Role.Arn), nil
}

// deleteRole removes a role with its inline and attached policies.
func (e *env) deleteRole(ctx context.Context, name string) error {
	inline, err := e.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		var gone *iamtypes.NoSuchEntityException
		if errors.As(err, &gone) {
			return nil
		}
		return err
	}
	for _, p := range inline.PolicyNames {
		if _, err := e.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p)}); err != nil {
			return err
		}
	}
	attached, err := e.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		return err
	}
	for _, p := range attached.AttachedPolicies {
		if _, err := e.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: p.PolicyArn}); err != nil {
			return err
		}
	}
	_, err = e.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	return err
}

func roleName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func trustService(service string) any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": []string{service}},
			"Action":    []string{"sts:AssumeRole", "sts:TagSession"},
		}},
	}
}

// attachManaged attaches an AWS managed policy, as eksctl's stacks do. A
// moto server started without MOTO_IAM_LOAD_MANAGED_POLICIES=true has none
// of them (AWS always has): the fake says so and goes on, since nothing
// bootstrap reads depends on the attachment.
func (e *env) attachManaged(ctx context.Context, role, policy string) error {
	arn := "arn:aws:iam::aws:policy/" + policy
	_, err := e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)})
	var missing *iamtypes.NoSuchEntityException
	if errors.As(err, &missing) {
		warn("fakeeksctl: %s does not exist here (moto without MOTO_IAM_LOAD_MANAGED_POLICIES=true); not attached to %s", arn, role)
		return nil
	}
	if err != nil {
		return fmt.Errorf("attaching %s to %s: %w", policy, role, err)
	}
	return nil
}
