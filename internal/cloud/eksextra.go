package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// What eksctl and EKS make beside the stacks: the cluster's EKS add-ons and
// its control-plane log group; and the inline policies of the IRSA roles,
// which `eksctl create iamserviceaccount` does not update.

// AddonFacts is an EKS add-on of a cluster as EKS reports it.
type AddonFacts struct {
	Name    string `json:"name"`
	Exists  bool   `json:"exists"`
	Version string `json:"version,omitempty"`
	// Status is EKS's: CREATING, ACTIVE, CREATE_FAILED, UPDATING,
	// DELETING, DELETE_FAILED, DEGRADED, UPDATE_FAILED.
	Status string `json:"status,omitempty"`
	// Issues are the add-on's health issues, "code: message".
	Issues []string `json:"issues,omitempty"`
}

// Healthy is an ACTIVE add-on without health issues.
func (a AddonFacts) Healthy() bool {
	return a.Status == string(ekstypes.AddonStatusActive) && len(a.Issues) == 0
}

// AddonFacts describes one add-on of a cluster; a missing add-on (or
// cluster) is Exists false.
func (c *Clients) AddonFacts(ctx context.Context, cluster, name string) (AddonFacts, error) {
	f := AddonFacts{Name: name}
	out, err := c.EKS.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(cluster), AddonName: aws.String(name)})
	var notFound *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("describing EKS add-on %s of cluster %s: %w", name, cluster, err)
	}
	a := out.Addon
	f.Exists = true
	f.Version = aws.ToString(a.AddonVersion)
	f.Status = string(a.Status)
	if a.Health != nil {
		for _, i := range a.Health.Issues {
			f.Issues = append(f.Issues, string(i.Code)+": "+aws.ToString(i.Message))
		}
	}
	return f, nil
}

// Addons describes every EKS add-on of a cluster, by name; a missing
// cluster has none.
func (c *Clients) Addons(ctx context.Context, cluster string) ([]AddonFacts, error) {
	var names []string
	p := eks.NewListAddonsPaginator(c.EKS, &eks.ListAddonsInput{ClusterName: aws.String(cluster)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		var notFound *ekstypes.ResourceNotFoundException
		if errors.As(err, &notFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listing the EKS add-ons of cluster %s: %w", cluster, err)
		}
		names = append(names, page.Addons...)
	}
	sort.Strings(names)
	out := make([]AddonFacts, 0, len(names))
	for _, n := range names {
		f, err := c.AddonFacts(ctx, cluster, n)
		if err != nil {
			return nil, err
		}
		if f.Exists {
			out = append(out, f)
		}
	}
	return out, nil
}

// ControlPlaneLogGroup is the log group EKS writes a cluster's control-plane
// logs to (docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html).
func ControlPlaneLogGroup(cluster string) string { return "/aws/eks/" + cluster + "/cluster" }

// LogGroupFacts is a CloudWatch log group.
type LogGroupFacts struct {
	Name          string            `json:"name"`
	Exists        bool              `json:"exists"`
	ARN           string            `json:"arn,omitempty"`
	RetentionDays int32             `json:"retentionDays,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
}

func (c *Clients) logs() *cloudwatchlogs.Client { return cloudwatchlogs.NewFromConfig(c.Config) }

// LogGroupFacts reads a log group with its tags.
func (c *Clients) LogGroupFacts(ctx context.Context, name string) (LogGroupFacts, error) {
	f := LogGroupFacts{Name: name}
	logs := c.logs()
	out, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil {
		return f, fmt.Errorf("describing log group %s: %w", name, err)
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) != name {
			continue
		}
		f.Exists = true
		f.ARN = aws.ToString(g.LogGroupArn)
		f.RetentionDays = aws.ToInt32(g.RetentionInDays)
	}
	if !f.Exists {
		return f, nil
	}
	tags, err := logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(f.ARN)})
	if err != nil {
		return f, fmt.Errorf("reading the tags of log group %s: %w", name, err)
	}
	f.Tags = tags.Tags
	return f, nil
}

// TagLogGroup adds tags to a log group.
func (c *Clients) TagLogGroup(ctx context.Context, arn string, tags map[string]string) error {
	if _, err := c.logs().TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags}); err != nil {
		return fmt.Errorf("tagging log group %s: %w", arn, err)
	}
	return nil
}

// DeleteLogGroup deletes a log group; one already gone is success.
func (c *Clients) DeleteLogGroup(ctx context.Context, name string) error {
	_, err := c.logs().DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(name)})
	var gone *logstypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("deleting log group %s: %w", name, err)
	}
	return nil
}

// ClusterTags are an EKS cluster's tags; exists is false when there is no
// such cluster.
func (c *Clients) ClusterTags(ctx context.Context, name string) (tags map[string]string, exists bool, err error) {
	out, err := c.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	var notFound *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("describing EKS cluster %s in %s: %w", name, c.Region, err)
	}
	return out.Cluster.Tags, true, nil
}

// RoleInlinePolicies are a role's inline policy documents by name,
// URL-decoded; exists is false when there is no such role.
func (c *Clients) RoleInlinePolicies(ctx context.Context, role string) (docs map[string]string, exists bool, err error) {
	list, err := c.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	var notFound *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &notFound):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("listing the inline policies of IAM role %s: %w", role, err)
	}
	docs = map[string]string{}
	for _, name := range list.PolicyNames {
		out, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
		if err != nil {
			return nil, true, fmt.Errorf("reading policy %s of IAM role %s: %w", name, role, err)
		}
		doc := aws.ToString(out.PolicyDocument)
		if d, err := url.QueryUnescape(doc); err == nil {
			doc = d
		}
		docs[name] = strings.TrimSpace(doc)
	}
	return docs, true, nil
}
