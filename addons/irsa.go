package addons

import (
	"fmt"

	"github.com/sovd/bootstrap/internal/config"
)

// IRSARole is one IAM role for a ServiceAccount that eksctl makes with
// roleOnly: true (the ServiceAccount itself is a chart's or bootstrap's).
// Its fields are those of eksctl.ServiceAccount, so the pipeline hands the
// list to eksctl's rendering as data: eksctl.ServiceAccount(r).
type IRSARole struct {
	Namespace string
	Name      string
	RoleName  string
	// Policy is the role's inline policy document.
	Policy map[string]any
}

// IRSARoleNames are the names of the environment's IRSA roles, in the order
// of IRSARoles: the add-ons' (AddonRoleNames), then the app's.
func IRSARoleNames(p *config.Profile) []string {
	return append(AddonRoleNames(p), p.App.RoleName)
}

// AddonRoleNames are the names of the add-ons' IRSA roles, in install order.
func AddonRoleNames(p *config.Profile) []string {
	var out []string
	for _, a := range All {
		if a.IRSA != nil {
			out = append(out, p.Role(a.IRSA.Role))
		}
	}
	return out
}

// IRSARoles are the environment's IRSA roles with their policies, built from
// the add-ons' records (in install order) and the app's role last. live
// holds what a policy needs from the live system (the hosted zone of
// app.domain), or placeholders.
func IRSARoles(p *config.Profile, live Live) ([]IRSARole, error) {
	var out []IRSARole
	for _, a := range All {
		if a.IRSA == nil {
			continue
		}
		doc, err := a.IRSA.Policy(p, live)
		if err != nil {
			return nil, fmt.Errorf("the IAM policy of %s: %w", a.Release, err)
		}
		out = append(out, IRSARole{Namespace: a.IRSANamespace(), Name: a.IRSA.ServiceAccount, RoleName: p.Role(a.IRSA.Role), Policy: doc})
	}
	return append(out, IRSARole{Namespace: p.App.Namespace, Name: p.App.ServiceAccount, RoleName: p.App.RoleName, Policy: AppPolicy(p)}), nil
}

// The IRSA policies are written with the policy variable
// ${aws:PrincipalAccount} where the account id belongs: IAM resolves it to
// the account of the role using the policy, so the rendered ClusterConfig is
// the same on every machine, offline plan included, and can never name
// another account.
const policyAccount = "${aws:PrincipalAccount}"

// SecretsARN is the ARN pattern of the environment's secrets,
// sovd/<env>/* (Secrets Manager appends a random suffix to every name, which
// the trailing * also covers).
func SecretsARN(p *config.Profile) string {
	return "arn:aws:secretsmanager:" + p.Region + ":" + policyAccount + ":secret:" + p.Secrets.Prefix + "/*"
}

// AppPolicy lets the app read its own environment's secrets and nothing else.
func AppPolicy(p *config.Profile) map[string]any {
	return map[string]any{
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
		"Resource":  "arn:aws:kms:" + p.Region + ":" + policyAccount + ":key/*",
		"Condition": map[string]any{"StringEquals": tags},
	}
}
