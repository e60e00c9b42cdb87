package stateful

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// outputs is what terraform output -json gives for the production data tier
// (values invented, shapes as outputs.tf declares): the fixture the add-ons'
// tests render from.
func outputs(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseTerraformOutputJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOutputNamesDeclared: every output name the contract reads is declared
// in outputs.tf, beside it.
func TestOutputNamesDeclared(t *testing.T) {
	t.Parallel()
	tf, err := os.ReadFile("outputs.tf")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^output "([^"]+)"`).FindAllSubmatch(tf, -1) {
		declared[string(m[1])] = true
	}
	for _, name := range []string{OutEnvironment, OutRegion, OutDBInstanceID, OutRedisGroupID, OutDBHost, OutDBPort, OutDBName, OutDBUsername, OutDBMasterSecretARN, OutRedisHost, OutRedisPort, OutECRRepositoryURLs, OutCertificateARN} {
		if !declared[name] {
			t.Errorf("output %s is read (outputs.go) but outputs.tf does not declare it", name)
		}
	}
}

func TestParseOutputs(t *testing.T) {
	t.Parallel()
	m := outputs(t, "../../addons/testdata/terraform-output.json")
	out, err := ParseOutputs(m)
	if err != nil {
		t.Fatal(err)
	}
	if out.DBPort != "5432" || out.RedisPort != "6379" {
		t.Errorf("ports as strings: %q %q", out.DBPort, out.RedisPort)
	}
	acct, err := AccountFromRepositoryURL(out.ECRRepositoryURLs)
	if err != nil || acct != "123456789012" {
		t.Errorf("account from ECR URL: %q, %v", acct, err)
	}
	// Every problem at once.
	delete(m, OutDBHost)
	delete(m, OutRedisHost)
	m[OutDBPort] = true
	m[OutCertificateARN] = nil // optional: no domain
	_, err = ParseOutputs(m)
	if err == nil {
		t.Fatal("no error for missing outputs")
	}
	for _, want := range []string{"db_host is missing", "redis_host is missing", "db_port: want a string"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "certificate_arn") {
		t.Errorf("certificate_arn is optional: %v", err)
	}
}
