package addons

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/config"
)

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIRSARecords: every add-on role of config.AddonRoles is one record's,
// and every record's role is listed there (config checks the names of the
// roles it lists); the roles come out in install order, the app's last.
func TestIRSARecords(t *testing.T) {
	t.Parallel()
	var used []config.AddonRole
	for _, a := range All {
		if a.IRSA == nil {
			continue
		}
		if a.IRSA.ServiceAccount == "" || a.IRSA.Policy == nil {
			t.Errorf("add-on %s: its IRSA needs a ServiceAccount and a Policy", a.Release)
		}
		used = append(used, a.IRSA.Role)
	}
	roles := config.AddonRoles()
	if len(used) != len(roles) {
		t.Fatalf("the add-ons' IRSA roles are %v, config.AddonRoles lists %v: list each record's role there (internal/config/types.go) and no other", used, roles)
	}
	for i := range roles {
		if used[i] != roles[i] {
			t.Errorf("IRSA role %d: the add-ons (in install order) have %v, config.AddonRoles lists %v", i, used[i], roles[i])
		}
	}
	p := config.Builtin("production")
	got, err := IRSARoles(p, Live{HostedZoneID: "Z0TEST"})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range roles {
		want = append(want, "sovd-production-"+r.Suffix)
	}
	want = append(want, "sovd-webapp-production")
	names := IRSARoleNames(p)
	if len(got) != len(want) || len(names) != len(want) {
		t.Fatalf("IRSARoles = %d roles, names %v, want %v", len(got), names, want)
	}
	for i, w := range want {
		if got[i].RoleName != w || names[i] != w || len(got[i].Policy) == 0 {
			t.Errorf("role %d = %s (name %s, policy %v), want %s with a policy", i, got[i].RoleName, names[i], got[i].Policy != nil, w)
		}
	}
	// The two whose ServiceAccounts matter most, by name.
	for _, w := range []IRSARole{
		{Namespace: "kube-system", Name: "aws-load-balancer-controller", RoleName: "sovd-production-aws-load-balancer-controller"},
		{Namespace: "external-secrets", Name: "external-secrets-secretsmanager", RoleName: "sovd-production-external-secrets"},
		{Namespace: "production", Name: "sovd-webapp-production-sa", RoleName: "sovd-webapp-production"},
	} {
		found := false
		for _, r := range got {
			found = found || (r.Namespace == w.Namespace && r.Name == w.Name && r.RoleName == w.RoleName)
		}
		if !found {
			t.Errorf("no IRSA role %s for %s/%s", w.RoleName, w.Namespace, w.Name)
		}
	}
}

func TestSecretPolicies(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	app := jsonString(t, AppPolicy(p))
	for _, s := range []string{
		`"Resource":"arn:aws:secretsmanager:us-east-1:${aws:PrincipalAccount}:secret:sovd/staging/*"`,
		`"secretsmanager:GetSecretValue"`,
	} {
		if !strings.Contains(app, s) {
			t.Errorf("app policy lacks %s:\n%s", s, app)
		}
	}
	if strings.Contains(app, "rds!") || strings.Contains(app, `"Resource":"*"`) {
		t.Errorf("app policy reaches beyond sovd/staging/*:\n%s", app)
	}
	eso := jsonString(t, ExternalSecretsPolicy(p))
	if !strings.Contains(eso, `secret:sovd/staging/*`) {
		t.Errorf("external-secrets policy lacks sovd/staging/*:\n%s", eso)
	}
	// What the store can read (issue 16: the RDS master secret is out of
	// the cluster's reach), by IAM's evaluation of Allow and Deny with
	// wildcards; conditions are ignored, which only widens what is allowed.
	acct := "${aws:PrincipalAccount}"
	for _, tc := range []struct {
		arn  string
		read bool
	}{
		{"arn:aws:secretsmanager:us-east-1:" + acct + ":secret:sovd/staging/database-AbCdEf", true},
		{"arn:aws:secretsmanager:us-east-1:" + acct + ":secret:sovd/staging/redis-AbCdEf", true},
		{"arn:aws:secretsmanager:us-east-1:" + acct + ":secret:rds!db-5a9c0e2f-1b2c-4d5e-8f90-a1b2c3d4e5f6-AbCdEf", false},
		{"arn:aws:secretsmanager:us-east-1:" + acct + ":secret:sovd/production/database-AbCdEf", false},
	} {
		for _, action := range []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"} {
			if got := policyAllows(t, ExternalSecretsPolicy(p), action, tc.arn); got != tc.read {
				t.Errorf("external-secrets policy: %s on %s allowed %v, want %v", action, tc.arn, got, tc.read)
			}
		}
	}
	if !strings.Contains(eso, `"Effect":"Deny"`) || !strings.Contains(eso, `secret:rds!*`) {
		t.Errorf("external-secrets policy lacks the deny on rds! secrets:\n%s", eso)
	}
	for _, doc := range []string{app, eso} {
		for _, w := range []string{"PutSecretValue", "DeleteSecret", "CreateSecret", "secretsmanager:*"} {
			if strings.Contains(doc, w) {
				t.Errorf("read-only policy allows %s:\n%s", w, doc)
			}
		}
	}
}

// policyAllows evaluates an identity policy as IAM does for one action and
// resource ("Policy evaluation logic": an explicit Deny wins, else an
// Allow is needed), with * and ? wildcards in Action and Resource.
// Conditions are not evaluated: a conditional Allow counts as allowing.
func policyAllows(t *testing.T, doc map[string]any, action, resource string) bool {
	t.Helper()
	list := func(v any) []string {
		switch x := v.(type) {
		case string:
			return []string{x}
		case []any:
			var out []string
			for _, e := range x {
				out = append(out, e.(string))
			}
			return out
		case []string:
			return x
		}
		t.Fatalf("unexpected %T in a policy", v)
		return nil
	}
	matches := func(patterns []string, s string) bool {
		for _, p := range patterns {
			re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(p)) + "$"
			if regexp.MustCompile(re).MatchString(s) {
				return true
			}
		}
		return false
	}
	allowed := false
	for _, st := range doc["Statement"].([]any) {
		m := st.(map[string]any)
		if !matches(list(m["Action"]), action) || !matches(list(m["Resource"]), resource) {
			continue
		}
		if m["Effect"] == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}
