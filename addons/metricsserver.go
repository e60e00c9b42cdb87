package addons

import "github.com/sovd/bootstrap/internal/config"

// MetricsServer feeds the HPA. It needs nothing from AWS; eksctl's default
// EKS add-on of the same software is left out of the ClusterConfig
// (EKSAddon).
//
// Pin 3.13.1 (2026-06-11; was 3.13.0, moved with `bootstrap upgrade`).
// Checked: the values bootstrap sets (replicas, podDisruptionBudget.enabled,
// podDisruptionBudget.minAvailable) render with helm template and helm lint
// --strict with no unknown key against the chart at 3.13.0 and 3.13.1, as
// RepoURL serves it (kubernetes-sigs/metrics-server charts/metrics-server;
// run 2026-12-02, its output not kept in this repository); the chart has
// no CRDs; its Chart.yaml in kubernetes-sigs/metrics-server
// charts/metrics-server states
// no kubeVersion in the revisions readable here (its Compat). The chart's
// CHANGELOG.md (kubernetes-sigs/metrics-server charts/metrics-server at
// commit 03997999324b20398a98f417dec76fbf3b773e51) says 3.13.1 (2026-02-27)
// moved the image to 0.8.1 and otherwise fixed APIService rendering: no
// value bootstrap sets changed. Not read at the tag here: the 3.13.1
// Chart.yaml itself.
var MetricsServer = Addon{
	Chart: Chart{
		Release: "metrics-server", Namespace: "kube-system",
		RepoName: "bootstrap-metrics-server", RepoURL: "https://kubernetes-sigs.github.io/metrics-server/",
		Chart: "metrics-server", Version: "3.13.1", AppVersion: "0.8.1",
		EKSAddon: "metrics-server",
		Compat: Compat{
			Version: "3.13.1",
			Checked: "kubernetes-sigs/metrics-server charts/metrics-server/Chart.yaml: no kubeVersion (the revisions of the file readable here, older than the pin, state none); CHANGELOG.md at 03997999324b20398a98f417dec76fbf3b773e51: 3.13.1 changed the image (0.8.1) and APIService rendering only",
		},
	},
	Values: metricsServerValues,
}

// MetricsServerValues are the metrics-server chart's values bootstrap sets:
// two replicas and a PDB, so the HPA keeps its metrics through a node drain.
type MetricsServerValues struct {
	Replicas            int        `json:"replicas"`
	PodDisruptionBudget ToggledPDB `json:"podDisruptionBudget"`
}

func metricsServerValues(*config.Profile, Live) any {
	return MetricsServerValues{
		Replicas:            2,
		PodDisruptionBudget: ToggledPDB{Enabled: true, MinAvailable: 1},
	}
}
