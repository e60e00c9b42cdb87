// Package version is `bootstrap version`.
package version

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// Version is set at build time with -ldflags "-X .../version.Version=v1.2.3".
var Version = ""

// String is bootstrap's version: the build-time one, else the module's.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// NewCmd returns the command.
func NewCmd(f *factory.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print bootstrap's version and the versions it pins",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(f.IO.Out, "bootstrap %s\n", String())
			fmt.Fprintf(f.IO.Out, "terraform %s (pinned, >= %s accepted)\n", pipeline.TerraformPinned, pipeline.TerraformMin)
			for _, c := range addons.Charts() {
				fmt.Fprintf(f.IO.Out, "chart %s %s (%s)\n", c.Ref(), c.Version, c.AppVersion)
			}
			return nil
		},
	}
}
