package eksctl

import (
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/internal/config"
)

// The IRSA policies are written with the policy variable
// ${aws:PrincipalAccount} where the account id belongs: IAM resolves it to
// the account of the role using the policy, so the rendered ClusterConfig is
// the same on every machine, offline plan included, and can never name
// another account.
const account = "${aws:PrincipalAccount}"

// SecretsARN is the ARN pattern of the environment's secrets,
// sovd/<env>/* (Secrets Manager appends a random suffix to every name, which
// the trailing * also covers).
func SecretsARN(p *config.Profile) string {
	return "arn:aws:secretsmanager:" + p.Region + ":" + account + ":secret:" + p.Secrets.Prefix + "/*"
}

// DatabaseMasterSecretsARN matches every secret RDS makes for a master
// user (manage_master_user_password names them rds!db-<uuid>, rds!cluster-
// <uuid>) in the profile's region.
func DatabaseMasterSecretsARN(p *config.Profile) string {
	return "arn:aws:secretsmanager:" + p.Region + ":" + account + ":secret:rds!*"
}

// AppPolicy lets the app read its own environment's secrets and nothing else.
func AppPolicy(p *config.Profile) api.InlineDocument {
	return api.InlineDocument{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid":      "ReadEnvironmentSecrets",
				"Effect":   "Allow",
				"Action":   []any{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
				"Resource": SecretsARN(p),
			},
			DecryptSecretsStatement(p),
		},
	}
}

// DecryptSecretsStatement lets a reader of the environment's secrets decrypt
// them with the environment's KMS key (terraform/stateful/kms.tf), which
// Terraform makes after this role: the key is allowed by the tags it
// carries, not by its ARN, and only when Secrets Manager asks on the
// reader's behalf (kms:ViaService), so the role cannot decrypt anything else
// with it.
func DecryptSecretsStatement(p *config.Profile) map[string]any {
	tags := map[string]any{"kms:ViaService": "secretsmanager." + p.Region + ".amazonaws.com"}
	for _, k := range []string{"Environment", "Application", "ManagedBy"} {
		tags["aws:ResourceTag/"+k] = p.AllTags()[k]
	}
	return map[string]any{
		"Sid":       "DecryptEnvironmentSecrets",
		"Effect":    "Allow",
		"Action":    []any{"kms:Decrypt"},
		"Resource":  "arn:aws:kms:" + p.Region + ":" + account + ":key/*",
		"Condition": map[string]any{"StringEquals": tags},
	}
}

// ExternalSecretsPolicy lets the External Secrets Operator read the
// environment's secrets (sovd/<env>/*) and nothing else. The app connects
// to the database as its own role, whose credentials are in
// sovd/<env>/database; the master user's secret, which RDS keeps and
// rotates (rds!db-<uuid>), is read only by bootstrap, for the life of the
// role Job. An explicit deny on every rds! secret keeps it so even if the
// environment's pattern were ever widened.
func ExternalSecretsPolicy(p *config.Profile) api.InlineDocument {
	read := []any{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
	return api.InlineDocument{
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
