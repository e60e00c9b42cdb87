// Package up is `bootstrap up`: the cluster and the data tier side by side,
// then the add-ons. A re-run after any failure finishes the job.
package up

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *factory.PhaseOptions) error) *cobra.Command {
	return factory.NewPhaseCmd(f, "up", "Create the whole environment: cluster, data tier, add-ons",
		`Runs bootstrap cluster, data and addons, the data tier beside eksctl: it
starts as soon as eksctl has made the VPC's private subnets, and admits the
cluster security group in a second, fast apply once EKS has made it. The
add-ons start when eksctl returns. Every step converges, so a re-run after
any failure finishes the job and creates nothing twice; a failure never
destroys what was made.`,
		pipeline.UpSteps, runF)
}
