// Package upgrade is `bootstrap upgrade`: an environment made earlier
// brought to what the profile and the pins say now, in the safe order.
package upgrade

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *factory.PhaseOptions) error) *cobra.Command {
	opts := &factory.PhaseOptions{Verb: "upgrade"}
	var allowMajor bool
	opts.Steps = func() []pipeline.Step { return pipeline.UpgradeStepsWith(pipeline.AddonOptions{}, allowMajor) }
	cmd := &cobra.Command{
		Use:   "upgrade --env ENV [" + pipeline.AllowDatabaseMajorFlag + "]",
		Short: "Upgrade the environment to the profile's versions and the pinned charts",
		Long: `Reads the live versions (control plane, node group, EKS add-ons, Helm releases,
PostgreSQL and Redis engines) and brings each to what the profile and the pins
say, in the safe order:

  1. preflight, changing nothing: refuses nodes that would fall more than three
     minors behind the control plane, a pinned chart whose kubeVersion excludes
     the target, APIs the target removes that clients still request (the API
     server's apiserver_requested_deprecated_apis metric), and a PostgreSQL
     major version change unless --allow-database-major is given;
  2. the control plane, one minor version per eksctl upgrade cluster;
  3. the EKS add-ons, to the newest version EKS lists for the new minor;
  4. the managed node group, a rolling update that respects
     PodDisruptionBudgets (a budget that blocks the drain is named);
  5. the IRSA policies, the CRDs and the Helm releases (a pin bump is an
     upgrade too);
  6. the data tier's minor versions, through Terraform.

A PostgreSQL major upgrade is asked for by raising the major of
database.engineVersion in the profile ("15" to "16") and running with
--allow-database-major: before the data tier's apply, a manual snapshot
<database.identifier>-before-postgres<major>, tagged as this environment's, is
taken and waited for (a re-run finds it and takes no other); the apply then
makes the parameter group of the new family, moves the instance to the new
major and that group at once (apply_immediately), and deletes the old group.

Every step reads the live version first and does nothing when it is there:
after an interruption, run the command again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if allowMajor {
				opts.Again = []string{pipeline.AllowDatabaseMajorFlag}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return factory.RunPhase(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Env, "env", "e", "", "environment (staging, production, or one of bootstrap.yaml)")
	cmd.Flags().BoolVar(&allowMajor, "allow-database-major", false, "allow a PostgreSQL major upgrade when the profile's engineVersion has a higher major than the instance: a manual snapshot first, then the parameter group of the new family and the major in one Terraform apply")
	return cmd
}
