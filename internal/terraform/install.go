// Package terraform drives the Terraform CLI for the data tier through
// terraform-exec, with the binary found, or installed, by hc-install at a
// pinned version.
package terraform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-version"
	install "github.com/hashicorp/hc-install"
	"github.com/hashicorp/hc-install/fs"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/hc-install/releases"
	"github.com/hashicorp/hc-install/src"
)

// PinnedVersion is the Terraform release bootstrap installs when no suitable
// one is found. MinVersion is the oldest it accepts: 1.11 brought the
// write-only arguments that keep secret values out of state.
var (
	PinnedVersion = version.Must(version.NewVersion("1.11.4"))
	MinVersion    = version.Must(version.NewVersion("1.11.0"))
)

// Find returns the path of a Terraform binary: the pinned version in PATH,
// else any version >= MinVersion in PATH, else the pinned version downloaded
// by hc-install into installDir (which needs releases.hashicorp.com). The
// environment variable BOOTSTRAP_TERRAFORM names an exact binary to use.
func Find(ctx context.Context, installDir string) (string, error) {
	if p := os.Getenv("BOOTSTRAP_TERRAFORM"); p != "" {
		return p, nil
	}
	constraint, err := version.NewConstraint(">= " + MinVersion.String())
	if err != nil {
		return "", err
	}
	sources := []src.Source{
		&fs.ExactVersion{Product: product.Terraform, Version: PinnedVersion},
		&fs.Version{Product: product.Terraform, Constraints: constraint},
	}
	if installDir != "" {
		if err := os.MkdirAll(installDir, 0o755); err != nil {
			return "", fmt.Errorf("creating %s: %w", installDir, err)
		}
		sources = append(sources, &releases.ExactVersion{
			Product: product.Terraform, Version: PinnedVersion, InstallDir: installDir,
		})
	}
	path, err := install.NewInstaller().Ensure(ctx, sources)
	if err != nil {
		return "", fmt.Errorf("no terraform >= %s in PATH and installing %s failed: %w (install Terraform %s or set BOOTSTRAP_TERRAFORM)",
			MinVersion, PinnedVersion, err, PinnedVersion)
	}
	return filepath.Clean(path), nil
}
