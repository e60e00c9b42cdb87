package tfdriver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTerraform writes a script that answers `version -json` as Terraform
// does, claiming version v.
func fakeTerraform(t *testing.T, dir, v string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\necho '{\"terraform_version\":\"" + v + "\"}'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// A terraform on PATH, even of the pinned version, is not picked: only the
// binary BOOTSTRAP_TERRAFORM names or the pinned release in the install
// directory.
func TestLocatePrefersThePinnedRelease(t *testing.T) {
	ctx := context.Background()
	onPath := fakeTerraform(t, t.TempDir(), PinnedVersion.String())
	t.Setenv("PATH", filepath.Dir(onPath)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(EnvBinary, "")

	empty := t.TempDir()
	if p, err := Locate(ctx, empty); err == nil {
		t.Errorf("Locate picked %s with nothing installed; a terraform on PATH must not be used", p)
	}
	if p, err := Locate(ctx, ""); err == nil {
		t.Errorf("Locate without an install dir picked %s", p)
	}

	installed := t.TempDir()
	pinned := fakeTerraform(t, installed, PinnedVersion.String())
	if p, err := Locate(ctx, installed); err != nil || p != pinned {
		t.Errorf("Locate = %q, %v; want the pinned release %s", p, err, pinned)
	}

	other := t.TempDir()
	fakeTerraform(t, other, "1.12.0")
	if _, err := Locate(ctx, other); err == nil || !strings.Contains(err.Error(), EnvBinary) {
		t.Errorf("a binary of another version in the install dir must be refused with a hint, got %v", err)
	}

	t.Setenv(EnvBinary, onPath)
	if p, err := Locate(ctx, installed); err != nil || p != onPath {
		t.Errorf("with %s set, Locate = %q, %v; want %s", EnvBinary, p, err, onPath)
	}
}

// A binary BOOTSTRAP_TERRAFORM names is asked its version (`terraform
// version -json`, the fake answering as Terraform's does) and refused below
// MinVersion, with the variable, the version found, the minimum and the fix
// in the error; nothing but the version is run with a refused binary.
func TestLocateChecksTheChosenBinary(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		version string // "" is a binary whose output is not Terraform's JSON
		ok      bool
	}{
		{MinVersion.String(), true},
		{"1.11.4", true},
		{"1.12.0-beta1", true},
		{"2.0.0", true},
		{"1.11.0-rc1", true}, // Terraform checks the version core (AtLeastMin)
		{"1.10.5", false},
		{"1.10.5-rc1", false},
		{"0.15.5", false},
		{"", false},
	} {
		name := c.version
		if name == "" {
			name = "not json"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			calls := filepath.Join(dir, "calls")
			bin := filepath.Join(dir, "terraform")
			answer := `echo '{"terraform_version":"` + c.version + `","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}'`
			if c.version == "" {
				answer = "echo 'Terraform v1.11.4'"
			}
			script := "#!/bin/sh\necho \"$*\" >>" + calls + "\n" + answer + "\n"
			if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv(EnvBinary, bin)
			p, err := Locate(ctx, t.TempDir())
			if c.ok {
				if err != nil || p != bin {
					t.Fatalf("Locate = %q, %v; want %s accepted", p, err, bin)
				}
			} else {
				if err == nil {
					t.Fatalf("Locate accepted Terraform %q, older than %s", c.version, MinVersion)
				}
				for _, want := range []string{EnvBinary + "=" + bin, c.version, MinVersion.String(), "or unset it"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not name %q", err, want)
					}
				}
			}
			got, err := os.ReadFile(calls)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "version -json\n" {
				t.Errorf("the chosen binary was run as %q; want only `version -json`", got)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		t.Setenv(EnvBinary, filepath.Join(t.TempDir(), "terraform"))
		if _, err := Locate(ctx, t.TempDir()); err == nil || !strings.Contains(err.Error(), EnvBinary) {
			t.Errorf("a missing binary must be refused naming %s, got %v", EnvBinary, err)
		}
	})
}
