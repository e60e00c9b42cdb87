// Package tfdriver drives the Terraform CLI for the data tier through
// terraform-exec, with the binary installed by hc-install at a pinned,
// signature-checked version.
package tfdriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hashicorp/go-version"
	install "github.com/hashicorp/hc-install"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/hc-install/releases"
	"github.com/hashicorp/hc-install/src"
)

// PinnedVersion is the Terraform release bootstrap installs and runs.
// MinVersion is the oldest a user may choose instead (BOOTSTRAP_TERRAFORM):
// 1.11 brought the write-only arguments that keep secret values out of state.
// It is terraform/stateful/versions.tf's required_version (">= 1.11");
// terraform/stateful's TestMinVersionIsRequiredVersion keeps the two equal.
var (
	PinnedVersion = version.Must(version.NewVersion("1.11.4"))
	MinVersion    = version.Must(version.NewVersion("1.11.0"))
)

// EnvBinary names the environment variable with which a user chooses the
// Terraform binary, instead of the pinned release; a terraform on PATH is
// used only this way (BOOTSTRAP_TERRAFORM=$(command -v terraform)).
const EnvBinary = "BOOTSTRAP_TERRAFORM"

// DefaultInstallDir is where hc-install puts the pinned release: the user's
// cache directory, shared by every environment and by `bootstrap doctor`.
func DefaultInstallDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "bootstrap", "terraform-"+PinnedVersion.String())
}

// Locate returns the Terraform binary bootstrap runs, without installing:
// the one BOOTSTRAP_TERRAFORM names (refused, before anything runs with it,
// when older than MinVersion), else the pinned release that hc-install
// already put in installDir (it checked HashiCorp's signature and the
// checksum when it downloaded it). A terraform merely found on PATH is never
// picked: where it came from is unknown.
func Locate(ctx context.Context, installDir string) (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if err := checkChosen(ctx, p); err != nil {
			return "", err
		}
		return p, nil
	}
	if installDir == "" {
		return "", errNotInstalled
	}
	bin := filepath.Join(installDir, product.Terraform.BinaryName())
	if _, err := os.Stat(bin); err != nil {
		return "", errNotInstalled
	}
	v, err := binaryVersion(ctx, bin)
	if err != nil || !v.Equal(PinnedVersion) {
		return "", fmt.Errorf("%s is not Terraform %s (%v %v): delete it and run again, or set %s", bin, PinnedVersion, v, err, EnvBinary)
	}
	return bin, nil
}

var errNotInstalled = errors.New("the pinned Terraform is not installed yet")

// Find is Locate, and when the pinned release is not installed yet,
// installs it into installDir with hc-install from releases.hashicorp.com
// (verified against HashiCorp's signing key).
func Find(ctx context.Context, installDir string) (string, error) {
	p, err := Locate(ctx, installDir)
	if err == nil || !errors.Is(err, errNotInstalled) {
		return p, err
	}
	if installDir == "" {
		return "", fmt.Errorf("no Terraform: set %s to a Terraform >= %s binary", EnvBinary, MinVersion)
	}
	if err := os.MkdirAll(installDir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", installDir, err)
	}
	path, err := install.NewInstaller().Ensure(ctx, []src.Source{&releases.ExactVersion{
		Product: product.Terraform, Version: PinnedVersion, InstallDir: installDir,
	}})
	if err != nil {
		return "", fmt.Errorf("installing Terraform %s into %s failed: %w (with no access to releases.hashicorp.com, set %s to a Terraform >= %s binary, e.g. %s=$(command -v terraform))",
			PinnedVersion, installDir, err, EnvBinary, MinVersion, EnvBinary)
	}
	return filepath.Clean(path), nil
}

// AtLeastMin reports whether Terraform v may run terraform/stateful, by
// Terraform's own rule for required_version: hashicorp/terraform's
// version/version.go splits the pre-release off the release it reports
// (extractPrerelease; SemVer is the version core), and
// internal/configs/module.go's CheckCoreVersionRequirements checks the
// constraint against that core ("Prerelease versions of terraform will
// match constraints using their version core only"). So 1.11.0-beta1 is
// 1.11.0 here, as it is to Terraform's init.
func AtLeastMin(v *version.Version) bool {
	return !v.Core().LessThan(MinVersion)
}

// checkChosen refuses the binary BOOTSTRAP_TERRAFORM names when its
// `terraform version -json` cannot be read or names a release older than
// MinVersion, before anything runs with it: Terraform itself would refuse
// the root only at init, after bootstrap has begun its run.
func checkChosen(ctx context.Context, bin string) error {
	v, err := binaryVersion(ctx, bin)
	if err != nil {
		return fmt.Errorf("%s=%s: reading its version (terraform version -json): %w (set %s to a Terraform %s or newer binary, or unset it to use the pinned %s)",
			EnvBinary, bin, err, EnvBinary, MinVersion, PinnedVersion)
	}
	if !AtLeastMin(v) {
		return fmt.Errorf("%s=%s is Terraform %s, older than %s, which terraform/stateful requires (write-only arguments): set %s to a Terraform %s or newer binary, or unset it to use the pinned %s",
			EnvBinary, bin, v, MinVersion, EnvBinary, MinVersion, PinnedVersion)
	}
	return nil
}

func binaryVersion(ctx context.Context, bin string) (*version.Version, error) {
	out, err := exec.CommandContext(ctx, bin, "version", "-json").Output()
	if err != nil {
		return nil, err
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, err
	}
	return version.NewVersion(v.Version)
}
