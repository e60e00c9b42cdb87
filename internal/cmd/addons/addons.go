// Package addons is `bootstrap addons`: the cluster add-ons installed with
// Helm and the values overlay for the app's chart.
package addons

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *factory.PhaseOptions) error) *cobra.Command {
	return factory.NewPhaseCmd(f, "addons", "Install the cluster add-ons with Helm",
		`Installs, at pinned chart versions, the AWS Load Balancer Controller, the
External Secrets Operator and metrics-server (helm upgrade --install), a
ClusterSecretStore for AWS Secrets Manager, and writes the values overlay for
the app's chart.`,
		pipeline.AddonsPhase, runF)
}
