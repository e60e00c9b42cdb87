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
	return factory.NewPhaseCmd(f, "upgrade", "Upgrade the environment to the profile's versions and the pinned charts",
		`Reads the live versions (control plane, node group, EKS add-ons, Helm releases,
PostgreSQL and Redis engines) and brings each to what the profile and the pins
say, in the safe order:

  1. preflight, changing nothing: refuses nodes that would fall more than three
     minors behind the control plane, a pinned chart whose kubeVersion excludes
     the target, APIs the target removes that clients still request (the API
     server's apiserver_requested_deprecated_apis metric), and a PostgreSQL
     major version change;
  2. the control plane, one minor version per eksctl upgrade cluster;
  3. the EKS add-ons, to the newest version EKS lists for the new minor;
  4. the managed node group, a rolling update that respects
     PodDisruptionBudgets (a budget that blocks the drain is named);
  5. the IRSA policies, the CRDs and the Helm releases (a pin bump is an
     upgrade too);
  6. the data tier's minor versions, through Terraform.

Every step reads the live version first and does nothing when it is there:
after an interruption, run the command again.`,
		pipeline.UpgradeSteps, runF)
}
