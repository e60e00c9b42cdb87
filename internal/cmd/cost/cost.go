// Package cost is `bootstrap cost`.
package cost

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
)

// Options are the command's flags.
type Options struct {
	Env    string
	Output factory.Output
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "cost --env ENV",
		Short: "Estimate the monthly cost of an environment",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Output.Check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if _, err := f.Profile(opts.Env); err != nil {
				return err
			}
			return &factory.NotBuiltError{What: "bootstrap cost"}
		},
	}
	cmd.Flags().StringVarP(&opts.Env, "env", "e", "", "environment (staging, production, or one of bootstrap.yaml)")
	factory.AddOutputFlag(cmd, &opts.Output)
	return cmd
}
