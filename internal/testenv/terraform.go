package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// MinTerraformVersion is the oldest Terraform the stateful root accepts: the
// first with write-only arguments.
const MinTerraformVersion = "1.11.0"

// ProviderMirrorEnv names the variable that holds the directory of a
// Terraform filesystem mirror with registry.terraform.io/hashicorp/aws in it.
// The Terraform registry is not reachable from tests; the mirror is.
const ProviderMirrorEnv = "BOOTSTRAP_TF_PROVIDER_MIRROR"

// TerraformCLI finds the terraform binary ($BOOTSTRAP_TEST_TERRAFORM, else
// terraform on PATH) and writes a CLI configuration in t.TempDir() that
// installs the AWS provider from the mirror named by
// $BOOTSTRAP_TF_PROVIDER_MIRROR and from nowhere else. It returns the binary's
// path and the environment entries to run it with (append them to the
// environment, e.g. MotoServer.Environ()). Without terraform >= 1.11 or the
// mirror it calls Missing. Under -short it skips the test.
func TerraformCLI(t testing.TB) (terraformPath string, env []string) {
	t.Helper()
	skipShort(t, "terraform")

	name := os.Getenv("BOOTSTRAP_TEST_TERRAFORM")
	if name == "" {
		name = "terraform"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "terraform", fmt.Sprintf("%s not found: %v", name, err))
		return "", nil
	}
	out, err := exec.Command(path, "version", "-json").Output()
	if err != nil {
		t.Fatalf("terraform: %s version -json: %v", path, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("terraform: %s version -json: %v", path, err)
	}
	if !versionAtLeast(v.Version, MinTerraformVersion) {
		Missing(t, "terraform", fmt.Sprintf("%s is %s, need >= %s", path, v.Version, MinTerraformVersion))
		return "", nil
	}

	mirror := os.Getenv(ProviderMirrorEnv)
	if mirror == "" {
		Missing(t, "terraform provider mirror", ProviderMirrorEnv+" is not set")
		return "", nil
	}
	if fi, err := os.Stat(filepath.Join(mirror, "registry.terraform.io", "hashicorp", "aws")); err != nil || !fi.IsDir() {
		Missing(t, "terraform provider mirror", fmt.Sprintf("%s=%s holds no registry.terraform.io/hashicorp/aws", ProviderMirrorEnv, mirror))
		return "", nil
	}
	mirror, err = filepath.Abs(mirror)
	if err != nil {
		t.Fatalf("terraform: %v", err)
	}

	dir := t.TempDir()
	config := filepath.Join(dir, "terraform.tfrc")
	text := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %s
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
`, strconv.Quote(mirror))
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatalf("terraform: %v", err)
	}
	return path, []string{
		"TF_CLI_CONFIG_FILE=" + config,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1", // no version check against checkpoint-api.hashicorp.com
	}
}

// versionAtLeast reports whether version (1.11.4, 1.12.0-beta1) is at least
// min, comparing major.minor.patch numerically.
func versionAtLeast(version, min string) bool {
	parse := func(s string) [3]int {
		var n [3]int
		s, _, _ = strings.Cut(s, "-")
		for i, part := range strings.SplitN(s, ".", 3) {
			n[i], _ = strconv.Atoi(part)
		}
		return n
	}
	a, b := parse(version), parse(min)
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

// UseTerraform points this process, and every program it starts, at the
// terraform TerraformCLI finds: its CLI configuration (the provider mirror)
// in the environment, and BOOTSTRAP_TERRAFORM naming the binary, as
// bootstrap reads it. Like t.Setenv, it cannot be used in parallel tests.
func UseTerraform(t testing.TB) {
	t.Helper()
	path, env := TerraformCLI(t)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("BOOTSTRAP_TERRAFORM", path)
}
