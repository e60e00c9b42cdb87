// Package addons renders what the add-ons phase installs with Helm: the pinned
// charts, their values as typed data, helm's and kubectl's argv, and the
// in-cluster manifests (ClusterSecretStore, ExternalSecret). It runs nothing
// and prints nothing; the pipeline runs the argv it builds.
package addons

// Chart is one pinned Helm chart and the release bootstrap makes of it.
type Chart struct {
	// Release is the Helm release name.
	Release string
	// Namespace is where the release lives.
	Namespace string
	// RepoName and RepoURL are the chart repository (helm repo add). The
	// names are bootstrap's own (bootstrap-<repo>): `helm repo add
	// --force-update` rewrites a repository of the same name, and a user's
	// own `eks` or `external-secrets` must stay as the user set it.
	RepoName string
	RepoURL  string
	// Chart is the chart's name in the repository.
	Chart string
	// Version is the exact chart version installed.
	Version string
	// AppVersion is the version of the software the chart runs.
	AppVersion string
	// CRDsDir says the chart ships its CRDs in crds/, which Helm creates on
	// the first install and never upgrades: bootstrap applies them itself,
	// server-side, before every upgrade. A chart whose CRDs are templates
	// (External Secrets with installCRDs) has Helm upgrade them like any
	// other resource and needs nothing more.
	CRDsDir bool
	// EKSAddon is the EKS managed add-on that installs the same software,
	// if there is one. The cluster must not have both: Helm refuses to
	// take over the objects the add-on made (their
	// app.kubernetes.io/managed-by is EKS), so eksctl is told not to make
	// it (eksctl.Render) and a cluster that has it loses it before the
	// release is installed.
	EKSAddon string
}

// Ref is the chart as helm names it in its repository: repo/chart.
func (c Chart) Ref() string { return c.RepoName + "/" + c.Chart }

// NameVersion is how `helm list` shows the chart of a release: chart-version.
func (c Chart) NameVersion() string { return c.Chart + "-" + c.Version }

// The pins. Changing a version here is the whole upgrade: the IRSA policy of
// the load balancer controller is kept beside it
// (iam/aws-load-balancer-controller-<AppVersion>.json) because eksctl's
// well-known policy lags behind the controller.
var (
	// LoadBalancerController: since 3.0 the eks-charts chart version equals
	// the controller version. 3.4.2 is the release eks-charts published in
	// July 2026, and the one whose IAM policy iam/ holds.
	LoadBalancerController = Chart{
		Release: "aws-load-balancer-controller", Namespace: "kube-system",
		RepoName: "bootstrap-eks", RepoURL: "https://aws.github.io/eks-charts",
		Chart: "aws-load-balancer-controller", Version: "3.4.2", AppVersion: "v3.4.2",
		CRDsDir: true,
	}
	// ExternalSecrets: chart version equals the operator version. 1.x serves
	// external-secrets.io/v1 only (v1beta1 stopped being served in 0.17).
	ExternalSecrets = Chart{
		Release: "external-secrets", Namespace: "external-secrets",
		RepoName: "bootstrap-external-secrets", RepoURL: "https://charts.external-secrets.io",
		Chart: "external-secrets", Version: "1.1.0", AppVersion: "v1.1.0",
	}
	// MetricsServer: chart 3.13.0 runs metrics-server 0.8.0.
	MetricsServer = Chart{
		Release: "metrics-server", Namespace: "kube-system",
		RepoName: "bootstrap-metrics-server", RepoURL: "https://kubernetes-sigs.github.io/metrics-server/",
		Chart: "metrics-server", Version: "3.13.0", AppVersion: "0.8.0",
		EKSAddon: "metrics-server",
	}
)

// Charts lists every pinned chart in install order: metrics-server first (the
// HPA needs it, it needs nothing), then the load balancer controller (its
// mutating webhook sees every Service created after it, so it must be
// running before the charts that make Services), then External Secrets
// (whose webhook must be ready before the ClusterSecretStore is applied).
// Teardown goes in the reverse order.
var Charts = []Chart{MetricsServer, LoadBalancerController, ExternalSecrets}

// Service accounts, the IRSA roles eksctl makes with roleOnly: true name
// them in their trust policies.
//
// The load balancer controller's role is on the ServiceAccount its chart
// creates and its pods run as. External Secrets' role is NOT on its
// controller's ServiceAccount (ExternalSecretsServiceAccount, which carries
// no role): External Secrets' AWS provider falls back to the controller's own
// credentials for a store that names no auth, so anyone who may create a
// namespaced SecretStore could read every secret the role can. The role is
// on ExternalSecretsStoreServiceAccount instead, which runs no pod and which
// only the ClusterSecretStore names (auth.jwt.serviceAccountRef): the
// controller requests a token for it (the chart's controller ClusterRole
// grants create on serviceaccounts/token) and assumes the role with it.
const (
	LoadBalancerControllerServiceAccount = "aws-load-balancer-controller"
	ExternalSecretsServiceAccount        = "external-secrets"
	ExternalSecretsStoreServiceAccount   = "external-secrets-secretsmanager"
)
