package addons

import (
	"embed"
	"encoding/json"
	"fmt"
)

// The load balancer controller's IAM policy, one file per controller version,
// named aws-load-balancer-controller-<AppVersion>.json. It is the upstream
// docs/install/iam_policy.json of that release: the controller's own list of
// the calls it makes, which eksctl's built-in "awsLoadBalancerController"
// well-known policy trails behind. Upgrading the chart pin without adding the
// matching file fails the tests, not a cluster.
//
//go:embed iam/*.json
var iamPolicies embed.FS

// LoadBalancerControllerPolicy returns the IAM policy document for the pinned
// controller version (LoadBalancerController.AppVersion), decoded.
func LoadBalancerControllerPolicy() (map[string]any, error) {
	return loadBalancerControllerPolicy(loadBalancerControllerVersion)
}

func loadBalancerControllerPolicy(appVersion string) (map[string]any, error) {
	name := "iam/aws-load-balancer-controller-" + appVersion + ".json"
	data, err := iamPolicies.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("no IAM policy for aws-load-balancer-controller %s: add addons/%s from the controller's docs/install/iam_policy.json at that tag", appVersion, name)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("addons/%s: %w", name, err)
	}
	return doc, nil
}
