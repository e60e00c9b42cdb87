package addons

import "github.com/sovd/bootstrap/internal/config"

// LoadBalancerController makes the ALBs of Ingresses and the NLBs of
// LoadBalancer Services. Since 3.0 the eks-charts chart version equals the
// controller version.
//
// Pin 3.5.0 (2026-08-03; was 3.4.2, moved with `bootstrap upgrade`).
// Checked: the values bootstrap sets (clusterName, region, vpcId,
// replicaCount, serviceAccount, podDisruptionBudget.maxUnavailable) render
// with helm template and helm lint --strict at 3.4.2 and 3.5.0 with no
// unknown key (the chart as RepoURL serves it, aws/eks-charts
// stable/aws-load-balancer-controller; run 2026-12-02, its output not kept
// in this repository), and the IAM policy is byte-identical to
// kubernetes-sigs/aws-load-balancer-controller's
// docs/install/iam_policy.json at the tags v3.4.2, v3.4.3 and v3.5.0 (read
// 2026-12-02; iam/README.md gives the command that compares it with the
// tag), so iam/ holds it as v3.5.0 unchanged; its CRDs come from the pulled chart's crds/ at the pin
// and are applied before the helm upgrade (ApplyChartCRDs); eks-charts'
// Chart.yaml states no kubeVersion in the revisions readable here. Changing the version here
// is the whole upgrade: its IRSA policy is kept beside it
// (iam/aws-load-balancer-controller-<AppVersion>.json, iam.go) because
// eksctl's well-known policy lags behind the controller, and the tests fail
// for a pin without its policy file.
//
// Its CRDs are in the chart's crds/ (CRDsDir). Its role is on the
// ServiceAccount its chart creates and its pods run as.
var LoadBalancerController = Addon{
	Chart: Chart{
		Release: "aws-load-balancer-controller", Namespace: "kube-system",
		RepoName: "bootstrap-eks", RepoURL: "https://aws.github.io/eks-charts",
		Chart: "aws-load-balancer-controller", Version: "3.5.0", AppVersion: loadBalancerControllerVersion,
		CRDsDir: true,
		Compat: Compat{
			Version: "3.5.0",
			Checked: "aws/eks-charts stable/aws-load-balancer-controller/Chart.yaml: no kubeVersion (the revisions of the file readable here, older than the pin, state none)",
		},
	},
	Values: loadBalancerControllerValues,
	Needs: Needs{
		AccountID: "the IRSA role ARNs need it",
		VPCID:     "the load balancer controller's vpcId needs it",
	},
	IRSA: &loadBalancerControllerIRSA,
}

// loadBalancerControllerVersion is the controller's version, the name of
// its policy file in iam/.
const loadBalancerControllerVersion = "v3.5.0"

var loadBalancerControllerIRSA = IRSA{
	Role:           config.RoleLoadBalancerController,
	ServiceAccount: "aws-load-balancer-controller",
	// The pinned policy, scoped to this cluster's resources.
	Policy: func(p *config.Profile, _ Live) (map[string]any, error) {
		return ScopedLoadBalancerControllerPolicy(p.Cluster.Name)
	},
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

func loadBalancerControllerValues(p *config.Profile, live Live) any {
	return LoadBalancerControllerValues{
		ClusterName:         p.Cluster.Name,
		Region:              p.Region,
		VPCID:               live.VPCID,
		ReplicaCount:        2,
		ServiceAccount:      IRSAServiceAccount(loadBalancerControllerIRSA, p, live.AccountID),
		PodDisruptionBudget: MaxUnavailable{MaxUnavailable: 1},
	}
}
