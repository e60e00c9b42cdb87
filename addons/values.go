package addons

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/internal/config"
)

// Live is what the add-ons' values need from the live environment. Describe
// fills it with placeholders (<account-id>, <vpc-id>, <hosted-zone-id>).
type Live struct {
	AccountID string
	VPCID     string
	// HostedZoneID is the Route53 zone of app.domain (found by name at
	// run time); "" without a domain.
	HostedZoneID string
}

// RoleARN is the ARN of an IAM role: eksctl makes the IRSA roles with fixed
// names, so their ARNs are known before they exist.
func RoleARN(accountID, roleName string) string {
	return "arn:aws:iam::" + accountID + ":role/" + roleName
}

// IRSAAnnotation is the ServiceAccount annotation EKS reads the role from.
const IRSAAnnotation = "eks.amazonaws.com/role-arn"

// ServiceAccountValues is the serviceAccount block the charts share: the
// chart creates and owns the ServiceAccount (eksctl made only the role),
// under a fixed name the role's trust policy names.
type ServiceAccountValues struct {
	Create      bool              `json:"create"`
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// IRSAServiceAccount is the serviceAccount block of an add-on whose chart's
// ServiceAccount carries its IRSA role (Addon.IRSA): created by the chart,
// under the name the role's trust policy admits, annotated with the role.
func IRSAServiceAccount(r IRSA, p *config.Profile, accountID string) ServiceAccountValues {
	return ServiceAccountValues{
		Create:      true,
		Name:        r.ServiceAccount,
		Annotations: map[string]string{IRSAAnnotation: RoleARN(accountID, p.Role(r.Role))},
	}
}

// MaxUnavailable is a PodDisruptionBudget spec.
type MaxUnavailable struct {
	MaxUnavailable int `json:"maxUnavailable"`
}

// ToggledPDB is the podDisruptionBudget block of charts that switch it on
// with enabled (external-secrets, metrics-server).
type ToggledPDB struct {
	Enabled      bool `json:"enabled"`
	MinAvailable int  `json:"minAvailable"`
}

// ValuesYAML renders the values of an add-on as the file given to helm
// --values.
func ValuesYAML(a Addon, p *config.Profile, live Live) ([]byte, error) {
	out, err := yaml.Marshal(a.Values(p, live))
	if err != nil {
		return nil, fmt.Errorf("rendering the values of %s: %w", a.Release, err)
	}
	return out, nil
}
