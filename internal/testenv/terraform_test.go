package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestTerraformCLIInstallsAWSProviderFromMirror(t *testing.T) {
	t.Parallel()
	tf, env := TerraformCLI(t)

	root := t.TempDir()
	writeFile(t, filepath.Join(root, "main.tf"), `terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
`)
	runTerraform(t, tf, env, root, "init", "-backend=false", "-no-color")

	lock, err := os.ReadFile(filepath.Join(root, ".terraform.lock.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lock), `provider "registry.terraform.io/hashicorp/aws"`) ||
		!strings.Contains(string(lock), `version     = "5.100.`) {
		t.Fatalf("lock file does not pin hashicorp/aws 5.100.x from the mirror:\n%s", lock)
	}
}

// The stateful root is HCL only; this is its cheapest check, with the real
// terraform and provider: every reference, type and provider argument is
// valid. (Applying it against moto is the slow integration test.)
func TestTerraformCLIValidatesStatefulRoot(t *testing.T) {
	t.Parallel()
	tf, env := TerraformCLI(t)
	repo, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	src := filepath.Join(repo, "terraform", "stateful")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tf") || strings.HasSuffix(e.Name(), "_override.tf") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, e.Name()), string(b))
	}

	runTerraform(t, tf, env, root, "init", "-backend=false", "-no-color")
	runTerraform(t, tf, env, root, "validate", "-no-color")
	if out := runTerraform(t, tf, env, root, "fmt", "-check", "-list=true", "-no-color"); strings.TrimSpace(out) != "" {
		t.Errorf("terraform/stateful is not formatted (terraform fmt): %s", out)
	}
}

func TestVersionAtLeast(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		version, min string
		want         bool
	}{
		{"1.11.4", "1.11.0", true},
		{"1.11.0", "1.11.0", true},
		{"1.10.5", "1.11.0", false},
		{"1.12.0-beta1", "1.11.0", true},
		{"2.0.0", "1.11.0", true},
		{"1.9.8", "1.11.0", false},
	} {
		if got := versionAtLeast(c.version, c.min); got != c.want {
			t.Errorf("versionAtLeast(%q, %q) = %v, want %v", c.version, c.min, got, c.want)
		}
	}
}

func runTerraform(t *testing.T, tf string, env []string, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tf, append([]string{"-chdir=" + dir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
