// Package cluster is `bootstrap cluster`: the EKS cluster, its network, node
// group, OIDC provider and IRSA roles, made or reconciled with eksctl.
package cluster

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *factory.PhaseOptions) error) *cobra.Command {
	return factory.NewPhaseCmd(f, "cluster", "Create the EKS cluster with eksctl, or reconcile the one there",
		`Renders the eksctl ClusterConfig (.bootstrap/<env>/cluster.yaml), validates it
with eksctl's own rules, then creates the cluster: a VPC with 3 public and 3
private subnets over 3 zones, a managed node group in the private subnets, the
OIDC provider and the IRSA roles. When the cluster exists it reconciles what can
be reconciled (IRSA roles, node group) instead of failing.`,
		pipeline.ClusterPhase, runF)
}
