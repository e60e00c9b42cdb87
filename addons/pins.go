// Package addons renders what the add-ons phase installs with Helm: the pinned
// charts, their values as typed data, helm's argv, and the in-cluster
// manifests (ClusterSecretStore, ExternalSecrets). It runs nothing and prints
// nothing; the pipeline runs the argv it builds.
package addons

// Chart is one pinned Helm chart and the release bootstrap makes of it.
type Chart struct {
	// Release is the Helm release name.
	Release string
	// Namespace is where the release lives.
	Namespace string
	// Repo is the chart repository's name and URL (helm repo add).
	RepoName string
	RepoURL  string
	// Chart is the chart's name in the repository.
	Chart string
	// Version is the exact chart version installed.
	Version string
	// AppVersion is the version of the software the chart runs.
	AppVersion string
}

// Ref is the chart as helm names it: repo/chart.
func (c Chart) Ref() string { return c.RepoName + "/" + c.Chart }

// The pins, in install order. Changing a version here is the whole upgrade:
// the IRSA policy of the load balancer controller is kept beside it
// (iam/aws-load-balancer-controller-<AppVersion>.json) because eksctl's
// well-known policy lags behind the controller.
var (
	LoadBalancerController = Chart{
		Release: "aws-load-balancer-controller", Namespace: "kube-system",
		RepoName: "eks", RepoURL: "https://aws.github.io/eks-charts",
		Chart: "aws-load-balancer-controller", Version: "3.4.2", AppVersion: "v3.4.2",
	}
	ExternalSecrets = Chart{
		Release: "external-secrets", Namespace: "external-secrets",
		RepoName: "external-secrets", RepoURL: "https://charts.external-secrets.io",
		Chart: "external-secrets", Version: "1.1.0", AppVersion: "v1.1.0",
	}
	MetricsServer = Chart{
		Release: "metrics-server", Namespace: "kube-system",
		RepoName: "metrics-server", RepoURL: "https://kubernetes-sigs.github.io/metrics-server/",
		Chart: "metrics-server", Version: "3.13.0", AppVersion: "0.8.0",
	}
)

// Charts lists every pinned chart in install order: metrics-server first (the
// HPA needs it, nothing depends on the others), then the load balancer
// controller (its webhook must run before any Service or Ingress is made),
// then External Secrets.
var Charts = []Chart{MetricsServer, LoadBalancerController, ExternalSecrets}

// Service accounts the charts create, annotated with the IRSA roles eksctl
// makes with roleOnly: true.
const (
	LoadBalancerControllerServiceAccount = "aws-load-balancer-controller"
	ExternalSecretsServiceAccount        = "external-secrets"
)
