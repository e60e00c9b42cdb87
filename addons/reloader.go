package addons

import "github.com/sovd/bootstrap/internal/config"

// Reloader makes a password rotation reach running pods. The app's pods read
// DATABASE_URL and REDIS_URL from the Secret External Secrets keeps
// (AppSecretName) once, as environment variables; when External Secrets
// rewrites that Secret (after bootstrap rotated the app's database login,
// internal/dbrole, or the Redis token), Reloader makes a rolling restart of
// the Deployments annotated for it (AppValues: the app's backend). It needs
// nothing from AWS: no IRSA role.
//
// Least privilege, as the chart allows:
//   - reloader.watchGlobally false with reloader.namespaces naming only the
//     app's namespace (the chart's scoped mode): a Role and RoleBinding in
//     that namespace, no ClusterRole, so Reloader reads no Secret of any
//     other namespace (kube-system's included). Global mode with a
//     namespaceSelector would filter what it watches but still grant a
//     ClusterRole that reads every Secret of the cluster. Single-namespace
//     mode (watchGlobally false without namespaces) would need the release
//     in the app's namespace, beside the app and its Helm release.
//   - reloader.ignoreConfigMaps: the app's restart is wanted for one Secret
//     only, so ConfigMaps leave the watched namespace's Role.
//   - The Role in the app's namespace still grants update and patch on
//     Deployments: restarting them is the job. Reading Secrets is
//     list/get/watch only.
//
// Choices:
//   - reloader.reloadStrategy annotations: a restart stamps the pod
//     template with an annotation naming the Secret and its hash, rather
//     than an extra STAKATER_* variable in the app's environment (the
//     default, env-vars).
//   - two replicas with reloader.enableHA (leader election: one acts, the
//     other takes over within the lease) and a PDB of minAvailable 1, as
//     the other add-ons; a rotation that lands while the only replica is
//     being rescheduled would otherwise wait for the next Secret change.
//   - resources: requests of 10m CPU and 128Mi and a memory limit of 512Mi,
//     the figures Reloader's README gives as its defaults ("Default Resource
//     Requests and Limits"; the chart's values.yaml leaves resources empty);
//     its CPU limit of 150m is left out, as it would throttle a controller
//     that idles between Secret changes.
//   - Secrets External Secrets rewrites unchanged (each refresh) restart
//     nothing: Reloader compares a hash of the Secret's data.
//   - reloader.readOnlyRootFileSystem: the chart mounts an emptyDir on /tmp
//     for it.
//
// The watched namespace must exist before helm runs (the Role lives
// there): NeedsAppNamespace.
//
// Pin 2.2.17 (appVersion v1.4.22; stakater/Reloader pull request #1218,
// "Bump Helm chart to 2.2.17 (appVersion v1.4.22)", 2026-09-09; the chart
// is released from deployments/kubernetes/chart/reloader on the master
// branch). Checked, read with the search tool: the chart README's
// parameters (deployments/kubernetes/chart/reloader/README.md, a revision
// of the 2.x line) list reloader.watchGlobally, reloader.ignoreConfigMaps,
// reloader.reloadStrategy (enum default, env-vars, annotations, also in
// values.schema.json), reloader.enableHA, reloader.readOnlyRootFileSystem,
// reloader.deployment.replicas ("limited to 1 when enableHA is false"),
// reloader.deployment.resources and reloader.podDisruptionBudget.enabled;
// templates/poddisruptionbudget.yaml reads
// reloader.podDisruptionBudget.minAvailable. reloader.namespaces (the
// scoped mode: a Role and RoleBinding per listed namespace, no ClusterRole,
// `--namespaces=<list>`) was read in the chart's templates/_helpers.tpl
// and tests/namespaces_flags_test.yaml on master, added by pull request
// #1162, merged into master before 2026-07-14 (pull request #1184 says
// so), so before the 2.2.17 chart was cut from master. NOT read at the
// chart-v2.2.17 tag itself (its Chart.yaml and values.yaml were not
// readable here): check `helm show values` of the pin for
// reloader.namespaces before moving it; without it the chart would watch
// only its own namespace and no rotation would reach the app.
var Reloader = Addon{
	Chart: Chart{
		Release: "reloader", Namespace: "reloader",
		RepoName: "bootstrap-stakater", RepoURL: "https://stakater.github.io/stakater-charts",
		Chart: "reloader", Version: "2.2.17", AppVersion: "v1.4.22",
		Compat: Compat{
			Version: "2.2.17",
			Checked: "stakater/Reloader deployments/kubernetes/chart/reloader/Chart.yaml: no kubeVersion (the revisions of the file readable here, older than the pin, state none; the 2.2.17 file was not readable here)",
		},
	},
	Values:            reloaderValues,
	NeedsAppNamespace: true,
}

// ReloaderValues are the reloader chart's values bootstrap sets; all of
// them sit under its top-level reloader key.
type ReloaderValues struct {
	Reloader ReloaderSettings `json:"reloader"`
}

// ReloaderSettings is the chart's reloader block (see Reloader for why
// each is set).
type ReloaderSettings struct {
	WatchGlobally          bool               `json:"watchGlobally"`
	Namespaces             []string           `json:"namespaces"`
	IgnoreConfigMaps       bool               `json:"ignoreConfigMaps"`
	ReloadStrategy         string             `json:"reloadStrategy"`
	EnableHA               bool               `json:"enableHA"`
	ReadOnlyRootFileSystem bool               `json:"readOnlyRootFileSystem"`
	Deployment             ReloaderDeployment `json:"deployment"`
	PodDisruptionBudget    ToggledPDB         `json:"podDisruptionBudget"`
}

// ReloaderDeployment is reloader.deployment.
type ReloaderDeployment struct {
	Replicas  int       `json:"replicas"`
	Resources Resources `json:"resources"`
}

// Resources is a container's requests and limits.
type Resources struct {
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
}

func reloaderValues(p *config.Profile, _ Live) any {
	return ReloaderValues{Reloader: ReloaderSettings{
		WatchGlobally:          false,
		Namespaces:             []string{p.App.Namespace},
		IgnoreConfigMaps:       true,
		ReloadStrategy:         "annotations",
		EnableHA:               true,
		ReadOnlyRootFileSystem: true,
		Deployment: ReloaderDeployment{
			Replicas: 2,
			Resources: Resources{
				Requests: map[string]string{"cpu": "10m", "memory": "128Mi"},
				Limits:   map[string]string{"memory": "512Mi"},
			},
		},
		PodDisruptionBudget: ToggledPDB{Enabled: true, MinAvailable: 1},
	}}
}
