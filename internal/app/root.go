package app

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/addons"
	"github.com/sovd/bootstrap/internal/cmd/cluster"
	"github.com/sovd/bootstrap/internal/cmd/cost"
	"github.com/sovd/bootstrap/internal/cmd/data"
	"github.com/sovd/bootstrap/internal/cmd/doctor"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/cmd/initfile"
	"github.com/sovd/bootstrap/internal/cmd/plan"
	"github.com/sovd/bootstrap/internal/cmd/runbook"
	"github.com/sovd/bootstrap/internal/cmd/status"
	"github.com/sovd/bootstrap/internal/cmd/teardown"
	"github.com/sovd/bootstrap/internal/cmd/up"
	"github.com/sovd/bootstrap/internal/cmd/upgrade"
	"github.com/sovd/bootstrap/internal/cmd/values"
	verifycmd "github.com/sovd/bootstrap/internal/cmd/verify"
	versioncmd "github.com/sovd/bootstrap/internal/cmd/version"
)

// NewRootCmd builds the command tree.
func NewRootCmd(f *factory.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create and tear down the SOVD web app's AWS environment",
		Long: `bootstrap creates, and tears down, the SOVD web app's AWS environment:
an EKS cluster with IRSA (eksctl), the data tier (Terraform: RDS PostgreSQL,
ElastiCache Redis, S3, ECR, Secrets Manager) and the cluster add-ons (Helm:
AWS Load Balancer Controller, External Secrets Operator, metrics-server).

Start with 'bootstrap plan --env production': it needs no AWS account.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&f.ConfigPath, "config", "", "configuration file (default: bootstrap.yaml if present, else the built-in profiles)")
	root.PersistentFlags().BoolVarP(&f.Verbose, "verbose", "v", false, "stream the output of eksctl, terraform and helm")
	root.PersistentFlags().BoolVarP(&f.Quiet, "quiet", "q", false, "print no progress")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &factory.FlagError{Err: err} })
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		// --config '' would otherwise mean "no flag": the built-in profiles.
		if cmd.Flags().Changed("config") && f.ConfigPath == "" {
			return &factory.FlagError{Err: errors.New("--config is empty: name a file, or leave the flag out to use ./bootstrap.yaml or the built-in profiles")}
		}
		return nil
	}

	root.AddCommand(
		plan.NewCmd(f, nil),
		up.NewCmd(f, nil),
		cluster.NewCmd(f, nil),
		data.NewCmd(f, nil),
		addons.NewCmd(f, nil),
		teardown.NewCmd(f, nil),
		upgrade.NewCmd(f, nil),
		status.NewCmd(f, nil),
		verifycmd.NewCmd(f, nil),
		values.NewCmd(f, nil),
		cost.NewCmd(f, nil),
		runbook.NewCmd(f, nil),
		doctor.NewCmd(f, nil),
		initfile.NewCmd(f, nil),
		versioncmd.NewCmd(f),
	)
	return root
}
