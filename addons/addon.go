// Package addons renders what the add-ons phase installs with Helm: the pinned
// charts, their values as typed data, helm's and kubectl's argv, the IRSA
// roles they need, and the in-cluster manifests (ClusterSecretStore,
// ExternalSecret). It runs nothing and prints nothing; the pipeline runs the
// argv it builds.
//
// Each add-on is one record (Addon) in a file of its own
// (metricsserver.go, loadbalancercontroller.go, externalsecrets.go, externaldns.go, reloader.go): its
// pin, its values, what its values need from the live environment, its IRSA
// role and policy, and its CRD handling. All lists them in install order;
// the pipeline, eksctl's ClusterConfig (through IRSARoles and
// EKSAddonsReplaced), status, plan and runbook iterate All and never compare
// release names.
package addons

import "github.com/sovd/bootstrap/internal/config"

// Addon is one add-on: a pinned chart and everything bootstrap needs to
// install, bind, check and remove it.
type Addon struct {
	Chart
	// Values are the chart's values bootstrap sets, as typed data, for an
	// environment; live holds placeholders when describing offline.
	Values func(p *config.Profile, live Live) any
	// Needs says what Values reads from live, so a run stops with a clear
	// error before helm runs when it is not known.
	Needs Needs
	// IRSA is the role eksctl makes for the add-on (roleOnly), nil when it
	// needs no AWS identity.
	IRSA *IRSA
	// NeedsAppNamespace says the chart makes objects in the app's namespace
	// (the profile's app.namespace), which must exist before helm runs:
	// the add-ons phase applies it (AppNamespace, the object the External
	// Secrets manifests hold) before the release.
	NeedsAppNamespace bool
}

// Needs is what an add-on's values need from the live environment, each
// with the reason given when it is not known ("" when not needed).
type Needs struct {
	// AccountID: the account the IRSA role ARNs are made of.
	AccountID string
	// VPCID: the cluster's VPC.
	VPCID string
	// HostedZoneID: the hosted zone of app.domain, needed only when the
	// profile has a domain.
	HostedZoneID string
}

// IRSA is an add-on's IAM role for a Kubernetes ServiceAccount. eksctl makes
// the role (iam.serviceAccounts, roleOnly: the ServiceAccount itself is the
// chart's or bootstrap's) with a fixed name, so its ARN is known before it
// exists; the role's trust policy names Namespace/ServiceAccount.
type IRSA struct {
	// Role names the role: its entry in config.AddonRoles.
	Role config.AddonRole
	// Namespace of the ServiceAccount; "" is the chart's namespace.
	Namespace string
	// ServiceAccount is the name of the ServiceAccount that carries the role.
	ServiceAccount string
	// Policy is the role's inline policy for an environment; live holds
	// what only the live system knows (the hosted zone), placeholders
	// offline.
	Policy func(p *config.Profile, live Live) (map[string]any, error)
}

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
	// server-side, before every upgrade, and deletes them after the
	// release in teardown (Helm never does). A chart whose CRDs are
	// templates (External Secrets with installCRDs) has Helm upgrade and
	// delete them like any other resource and needs nothing more.
	CRDsDir bool
	// EKSAddon is the EKS managed add-on that installs the same software,
	// if there is one. The cluster must not have both: Helm refuses to
	// take over the objects the add-on made (their
	// app.kubernetes.io/managed-by is EKS), so eksctl is told not to make
	// it (EKSAddonsReplaced) and a cluster that has it loses it before the
	// release is installed.
	EKSAddon string
	// Compat is what the chart says about the Kubernetes versions it runs
	// on, read from the chart at Version (compat.go); `bootstrap upgrade`'s
	// preflight checks it against the target minor.
	Compat Compat
}

// Ref is the chart as helm names it in its repository: repo/chart.
func (c Chart) Ref() string { return c.RepoName + "/" + c.Chart }

// NameVersion is how `helm list` shows the chart of a release: chart-version.
func (c Chart) NameVersion() string { return c.Chart + "-" + c.Version }

// IRSANamespace is the namespace of the add-on's IRSA ServiceAccount.
func (a Addon) IRSANamespace() string {
	if a.IRSA != nil && a.IRSA.Namespace != "" {
		return a.IRSA.Namespace
	}
	return a.Namespace
}

// EKSAddonsReplaced are the EKS add-ons whose software an add-on installs
// with Helm instead (Chart.EKSAddon): the cluster must not have them as EKS
// add-ons.
func EKSAddonsReplaced() []string {
	var out []string
	for _, a := range All {
		if a.EKSAddon != "" {
			out = append(out, a.EKSAddon)
		}
	}
	return out
}

// WithCRDsDir are the add-ons whose charts ship CRDs in crds/, in install
// order.
func WithCRDsDir() []Addon {
	var out []Addon
	for _, a := range All {
		if a.CRDsDir {
			out = append(out, a)
		}
	}
	return out
}

// Charts are the pins of All, in install order.
func Charts() []Chart {
	out := make([]Chart, len(All))
	for i, a := range All {
		out[i] = a.Chart
	}
	return out
}
