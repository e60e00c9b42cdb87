package addons

import "github.com/sovd/bootstrap/internal/config"

// ExternalSecrets builds the app's Secret from Secrets Manager in the
// cluster (manifests.go). Chart version equals the operator version; 1.x
// serves external-secrets.io/v1 only (v1beta1 stopped being served in
// 0.17). Its CRDs are chart templates (installCRDs), upgraded and deleted by
// Helm with the release.
var ExternalSecrets = Addon{
	Chart: Chart{
		Release: "external-secrets", Namespace: "external-secrets",
		RepoName: "bootstrap-external-secrets", RepoURL: "https://charts.external-secrets.io",
		Chart: "external-secrets", Version: "1.1.0", AppVersion: "v1.1.0",
	},
	Values: externalSecretsValues,
	// Its values name no role; its store's ServiceAccount, applied after it
	// (ApplySecretManifests), carries the role's ARN.
	Needs: Needs{AccountID: "the IRSA role ARNs need it"},
	IRSA: &IRSA{
		Role:           config.RoleExternalSecrets,
		ServiceAccount: ExternalSecretsStoreServiceAccount,
		Policy: func(p *config.Profile) (map[string]any, error) {
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
// environment's secrets, plus the database's master-user secret that RDS
// creates and manages itself (manage_master_user_password). That secret's
// name is rds!db-<uuid>, unknown in advance and outside sovd/<env>/, so it is
// allowed by the tag RDS puts on it, naming the owning DB instance: only the
// master secret of this environment's instance matches, not other rds!
// secrets in the account.
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
				"Sid":      "ReadDatabaseMasterSecret",
				"Effect":   "Allow",
				"Action":   read,
				"Resource": "arn:aws:secretsmanager:" + p.Region + ":" + policyAccount + ":secret:rds!db-*",
				"Condition": map[string]any{
					"StringEquals": map[string]any{
						"secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn": "arn:aws:rds:" + p.Region + ":" + policyAccount + ":db:" + p.Database.Identifier,
					},
				},
			},
			DecryptSecretsStatement(p),
		},
	}
}
