// Package data is `bootstrap data`: the Terraform state backend and the data
// tier (RDS PostgreSQL, ElastiCache Redis, S3, ECR, Secrets Manager).
package data

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *factory.PhaseOptions) error) *cobra.Command {
	return factory.NewPhaseCmd(f, "data", "Apply the data tier with Terraform",
		`Ensures the Terraform state bucket (versioned, encrypted, public access
blocked, S3 lock file), then runs init, plan and apply of terraform/stateful
with the VPC, private subnets and cluster security group read from the live
cluster.`,
		pipeline.DataPhase, runF)
}
