package addons

import "github.com/sovd/bootstrap/internal/config"

// ExternalSecrets builds the app's Secret from Secrets Manager in the
// cluster (manifests.go). Chart version equals the operator version. Its
// CRDs are chart templates (installCRDs), upgraded and deleted by Helm with
// the release.
//
// Pin 2.9.0 (2026-08-08; was 1.1.0, whose 1.x line ended at 1.3.2 on
// 2026-02-03; moved with `bootstrap upgrade`). Checked: the values bootstrap
// sets (installCRDs, replicaCount, leaderElect, podDisruptionBudget,
// serviceAccount, webhook.replicaCount, webhook.podDisruptionBudget) render
// with helm template and helm lint --strict at 1.1.0 and 2.9.0 with no
// unknown key (the chart as RepoURL serves it, external-secrets/external-secrets
// deploy/charts/external-secrets; run 2026-12-02, its output not kept in
// this repository);
// external-secrets.io/v1, the only API bootstrap's manifests use, is
// served and stored in both; the CRDs stay templates under
// templates/crds/ (installCRDs), so Helm upgrades them; Chart.yaml's
// kubeVersion is ">= 1.19.0-0" in the 2.x revision read
// (deploy/charts/external-secrets/Chart.yaml at 2.0.0) and
// docs/introduction/stability-support.md there lists the 2.0 line with
// Kubernetes 1.34. Not read at the helm-chart-2.9.0 tag itself here: its
// CRD bytes (test/charts keeps the 1.x v1 CRDs, see its README).
var ExternalSecrets = Addon{
	Chart: Chart{
		Release: "external-secrets", Namespace: "external-secrets",
		RepoName: "bootstrap-external-secrets", RepoURL: "https://charts.external-secrets.io",
		Chart: "external-secrets", Version: "2.9.0", AppVersion: "v2.9.0",
		Compat: Compat{
			Version: "2.9.0", KubeVersion: ">= 1.19.0-0", TestedOn: "1.34",
			Checked: "external-secrets/external-secrets deploy/charts/external-secrets/Chart.yaml at 2.0.0 (kubeVersion >= 1.19.0-0; the 2.9.0 file was not readable here); docs/introduction/stability-support.md there lists ESO 2.0 with Kubernetes 1.34",
		},
	},
	Values: externalSecretsValues,
	// Its values name no role; its store's ServiceAccount, applied after it
	// (ApplySecretManifests), carries the role's ARN.
	Needs: Needs{AccountID: "the IRSA role ARNs need it"},
	IRSA: &IRSA{
		Role:           config.RoleExternalSecrets,
		ServiceAccount: ExternalSecretsStoreServiceAccount,
		Policy: func(p *config.Profile, _ Live) (map[string]any, error) {
			return ExternalSecretsPolicy(p), nil
		},
	},
}

// The ServiceAccounts of External Secrets. Its IRSA role is NOT on its
// controller's ServiceAccount (ExternalSecretsServiceAccount, which carries
// no role): External Secrets' AWS provider falls back to the controller's
// own credentials for a store that names no auth, so anyone who may create
// a namespaced SecretStore could read every secret the role can. The role
// is on ExternalSecretsStoreServiceAccount instead, which runs no pod and
// which only the ClusterSecretStore names (auth.jwt.serviceAccountRef): the
// controller requests a token for it (the chart's controller ClusterRole
// grants create on serviceaccounts/token) and assumes the role with it.
const (
	ExternalSecretsServiceAccount      = "external-secrets"
	ExternalSecretsStoreServiceAccount = "external-secrets-secretsmanager"
)

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

func externalSecretsValues(*config.Profile, Live) any {
	pdb := ToggledPDB{Enabled: true, MinAvailable: 1}
	return ExternalSecretsValues{
		InstallCRDs:         true,
		ReplicaCount:        2,
		LeaderElect:         true,
		PodDisruptionBudget: pdb,
		// No role here: see ExternalSecretsStoreServiceAccount.
		ServiceAccount: ServiceAccountValues{Create: true, Name: ExternalSecretsServiceAccount},
		Webhook:        ESOWebhookValues{ReplicaCount: 2, PodDisruptionBudget: pdb},
	}
}

// ExternalSecretsPolicy lets the External Secrets Operator read the
// environment's secrets (sovd/<env>/*) and nothing else. The app connects
// to the database as its own role, whose credentials are in
// sovd/<env>/database; the master user's secret, which RDS keeps and
// rotates (rds!db-<uuid>), is read only by bootstrap, for the life of the
// role Job. An explicit deny on every rds! secret keeps it so even if the
// environment's pattern were ever widened.
func ExternalSecretsPolicy(p *config.Profile) map[string]any {
	read := []any{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid":      "ReadEnvironmentSecrets",
				"Effect":   "Allow",
				"Action":   read,
				"Resource": SecretsARN(p),
			},
			map[string]any{
				"Sid":      "NeverDatabaseMasterSecrets",
				"Effect":   "Deny",
				"Action":   []any{"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"},
				"Resource": DatabaseMasterSecretsARN(p),
			},
			DecryptSecretsStatement(p),
		},
	}
}

// DatabaseMasterSecretsARN matches every secret RDS makes for a master
// user (manage_master_user_password names them rds!db-<uuid>, rds!cluster-
// <uuid>) in the profile's region.
func DatabaseMasterSecretsARN(p *config.Profile) string {
	return "arn:aws:secretsmanager:" + p.Region + ":" + policyAccount + ":secret:rds!*"
}
