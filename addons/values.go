package addons

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/internal/config"
)

// Live is what the add-ons' values need from the live environment. Describe
// fills it with placeholders (<account-id>, <vpc-id>).
type Live struct {
	AccountID string
	VPCID     string
}

// RoleARN is the ARN of an IAM role: eksctl makes the IRSA roles with fixed
// names, so their ARNs are known before they exist.
func RoleARN(accountID, roleName string) string {
	return "arn:aws:iam::" + accountID + ":role/" + roleName
}

// IRSAAnnotation is the ServiceAccount annotation EKS reads the role from.
const IRSAAnnotation = "eks.amazonaws.com/role-arn"

// ServiceAccountValues is the serviceAccount block all three charts share:
// the chart creates and owns the ServiceAccount (eksctl made only the role),
// under a fixed name the role's trust policy names.
type ServiceAccountValues struct {
	Create      bool              `json:"create"`
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// LoadBalancerControllerValues are the aws-load-balancer-controller chart's
// values bootstrap sets. clusterName is required; region and vpcId are set
// explicitly so the controller does not depend on the instance metadata
// service (IMDSv2 hop limits on the nodes break that lookup).
type LoadBalancerControllerValues struct {
	ClusterName    string               `json:"clusterName"`
	Region         string               `json:"region"`
	VPCID          string               `json:"vpcId"`
	ReplicaCount   int                  `json:"replicaCount"`
	ServiceAccount ServiceAccountValues `json:"serviceAccount"`
	// PodDisruptionBudget is rendered as the PDB's spec; the chart makes one
	// when it is set and replicaCount > 1.
	PodDisruptionBudget MaxUnavailable `json:"podDisruptionBudget"`
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

// ExternalSecretsValues are the external-secrets chart's values bootstrap
// sets: its CRDs installed (and upgraded) by the chart, a controller
// ServiceAccount without a role (the role is on the store's own
// ServiceAccount, see ExternalSecretsStoreServiceAccount), and two replicas of the controller and of
// the webhook (whose failurePolicy is Fail: with one replica, a node drain
// blocks every ExternalSecret write).
type ExternalSecretsValues struct {
	InstallCRDs         bool                 `json:"installCRDs"`
	ReplicaCount        int                  `json:"replicaCount"`
	LeaderElect         bool                 `json:"leaderElect"`
	PodDisruptionBudget ToggledPDB           `json:"podDisruptionBudget"`
	ServiceAccount      ServiceAccountValues `json:"serviceAccount"`
	Webhook             ESOWebhookValues     `json:"webhook"`
}

// ESOWebhookValues is the webhook block of the external-secrets chart.
type ESOWebhookValues struct {
	ReplicaCount        int        `json:"replicaCount"`
	PodDisruptionBudget ToggledPDB `json:"podDisruptionBudget"`
}

// MetricsServerValues are the metrics-server chart's values bootstrap sets:
// two replicas and a PDB, so the HPA keeps its metrics through a node drain.
type MetricsServerValues struct {
	Replicas            int        `json:"replicas"`
	PodDisruptionBudget ToggledPDB `json:"podDisruptionBudget"`
}

// Values returns the typed values of a pinned chart for an environment.
func Values(c Chart, p *config.Profile, live Live) (any, error) {
	switch c.Release {
	case LoadBalancerController.Release:
		return LoadBalancerControllerValues{
			ClusterName:  p.Cluster.Name,
			Region:       p.Region,
			VPCID:        live.VPCID,
			ReplicaCount: 2,
			ServiceAccount: ServiceAccountValues{
				Create:      true,
				Name:        LoadBalancerControllerServiceAccount,
				Annotations: map[string]string{IRSAAnnotation: RoleARN(live.AccountID, p.LoadBalancerControllerRole())},
			},
			PodDisruptionBudget: MaxUnavailable{MaxUnavailable: 1},
		}, nil
	case ExternalSecrets.Release:
		pdb := ToggledPDB{Enabled: true, MinAvailable: 1}
		return ExternalSecretsValues{
			InstallCRDs:         true,
			ReplicaCount:        2,
			LeaderElect:         true,
			PodDisruptionBudget: pdb,
			// No role here: see ExternalSecretsStoreServiceAccount.
			ServiceAccount: ServiceAccountValues{Create: true, Name: ExternalSecretsServiceAccount},
			Webhook:        ESOWebhookValues{ReplicaCount: 2, PodDisruptionBudget: pdb},
		}, nil
	case MetricsServer.Release:
		return MetricsServerValues{
			Replicas:            2,
			PodDisruptionBudget: ToggledPDB{Enabled: true, MinAvailable: 1},
		}, nil
	}
	return nil, fmt.Errorf("no values for chart %s: it is not one of the pins in addons/pins.go", c.Release)
}

// ValuesYAML renders the values of a chart as the file given to helm
// --values.
func ValuesYAML(c Chart, p *config.Profile, live Live) ([]byte, error) {
	v, err := Values(c, p, live)
	if err != nil {
		return nil, err
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("rendering the values of %s: %w", c.Release, err)
	}
	return out, nil
}
