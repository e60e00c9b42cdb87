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
// environment's secrets, plus the database's master-user secret that RDS
// creates and manages itself (manage_master_user_password). That secret's
// name is rds!db-<uuid>, unknown in advance and outside sovd/<env>/, so it is
// allowed by the tag RDS puts on it, naming the owning DB instance: only the
// master secret of this environment's instance matches, not other rds!
// secrets in the account.
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
				"Sid":      "ReadDatabaseMasterSecret",
				"Effect":   "Allow",
				"Action":   read,
				"Resource": "arn:aws:secretsmanager:" + p.Region + ":" + account + ":secret:rds!db-*",
				"Condition": map[string]any{
					"StringEquals": map[string]any{
						"secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn": "arn:aws:rds:" + p.Region + ":" + account + ":db:" + p.Database.Identifier,
					},
				},
			},
			DecryptSecretsStatement(p),
		},
	}
}
