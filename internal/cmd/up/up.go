// Package up is `bootstrap up`: cluster, data and add-ons in dependency
// order. A re-run after any failure finishes the job.
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
		`Runs bootstrap cluster, data and addons in dependency order. Every step
converges, so a re-run after any failure finishes the job and creates
nothing twice; a failure never destroys what was made.`,
		pipeline.UpSteps, runF)
}
