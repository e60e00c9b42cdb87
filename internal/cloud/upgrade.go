package cloud

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
)

// The reads of `bootstrap upgrade` beside those of status: what EKS offers
// for an add-on, and the Redis engine's version.

// LatestAddonVersion is the newest version of an EKS add-on that EKS lists
// as compatible with a Kubernetes version (DescribeAddonVersions), the
// one `eksctl update addon --version latest` moves it to
// (pkg/actions/addon/addon.go getLatestMatchingVersion).
func (c *Clients) LatestAddonVersion(ctx context.Context, addon, kubernetesVersion string) (string, error) {
	out, err := c.EKS.DescribeAddonVersions(ctx, &eks.DescribeAddonVersionsInput{AddonName: aws.String(addon), KubernetesVersion: aws.String(kubernetesVersion)})
	if err != nil {
		return "", fmt.Errorf("listing the versions of EKS add-on %s for Kubernetes %s: %w", addon, kubernetesVersion, err)
	}
	var versions []string
	for _, a := range out.Addons {
		for _, v := range a.AddonVersions {
			versions = append(versions, aws.ToString(v.AddonVersion))
		}
	}
	if len(versions) == 0 {
		return "", fmt.Errorf("EKS lists no version of add-on %s for Kubernetes %s", addon, kubernetesVersion)
	}
	sort.Slice(versions, func(i, j int) bool { return versionLess(versions[j], versions[i]) })
	return versions[0], nil
}

// versionLess orders v1.2.3-eksbuild.4 versions by their numbers.
func versionLess(a, b string) bool {
	na, nb := numbers(a), numbers(b)
	for i := 0; i < len(na) && i < len(nb); i++ {
		if na[i] != nb[i] {
			return na[i] < nb[i]
		}
	}
	return len(na) < len(nb)
}

func numbers(v string) []int {
	var out []int
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// RedisEngineVersion is the engine version of a replication group's
// members ("7.1.0"), "" when the group has none.
func (c *Clients) RedisEngineVersion(ctx context.Context, groupID string) (string, error) {
	out, err := c.ElastiCache().DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{})
	if err != nil {
		return "", fmt.Errorf("describing the cache clusters of %s: %w", groupID, err)
	}
	for _, cl := range out.CacheClusters {
		if aws.ToString(cl.ReplicationGroupId) == groupID {
			return aws.ToString(cl.EngineVersion), nil
		}
	}
	return "", nil
}
