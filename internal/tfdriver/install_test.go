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
