package addons

import "github.com/sovd/bootstrap/internal/config"

// MetricsServer feeds the HPA. Chart 3.13.0 runs metrics-server 0.8.0. It
// needs nothing from AWS; eksctl's default EKS add-on of the same software
// is left out of the ClusterConfig (EKSAddon).
var MetricsServer = Addon{
	Chart: Chart{
		Release: "metrics-server", Namespace: "kube-system",
		RepoName: "bootstrap-metrics-server", RepoURL: "https://kubernetes-sigs.github.io/metrics-server/",
		Chart: "metrics-server", Version: "3.13.0", AppVersion: "0.8.0",
		EKSAddon: "metrics-server",
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
