package pipeline

import (
	"context"
	"fmt"
)

// UpSteps is `bootstrap up`, in dependency order: the data tier needs the
// cluster's VPC and security group, the add-ons need the cluster and the
// data tier's outputs.
func UpSteps() []Step {
	var steps []Step
	steps = append(steps, ClusterPhase()...) // VPC, subnets, node group, OIDC, IRSA roles
	steps = append(steps, DataPhase()...)    // RDS, ElastiCache, S3, ECR, Secrets Manager
	steps = append(steps, AddonsPhase()...)  // load balancer controller, External Secrets, metrics-server, values
	return steps
}

// ClusterPhase is `bootstrap cluster`.
func ClusterPhase() []Step {
	return ClusterSteps() // check eksctl, create or reconcile, read the network back
}

// DataPhase is `bootstrap data`.
func DataPhase() []Step {
	return DataSteps() // state bucket, init/plan/apply of terraform/stateful, Redis AUTH
}

// AddonsPhase is `bootstrap addons`.
func AddonsPhase() []Step {
	steps := []Step{
		ReadAddonInputs{AWS: DefaultAWS},     // account ID and VPC, unless an earlier phase of the run read them
		ReadDataOutputs{AWS: DefaultDataAPI}, // the data tier's outputs, unless this run applied it
	}
	return append(steps, AddonSteps(AddonOptions{})...) // kubeconfig, repos, CRDs, helm upgrade --install per pin, ESO manifests, values overlay
}

// TeardownSteps is `bootstrap teardown`, in the order that leaves nothing
// behind (DESIGN.md, "Teardown order").
func TeardownSteps() []Step {
	var steps []Step
	steps = append(steps, DeleteLoadBalancers{AWS: DefaultTeardownAPI}) // while the controller can still delete their load balancers
	steps = append(steps, AddonTeardownSteps(AddonOptions{})...)        // ESO manifests, helm uninstall, CRDs
	steps = append(steps, DataTeardownSteps()...)                       // production: protection lifted, final snapshot named
	steps = append(steps, DeleteCluster{AWS: DefaultAWS})               // eksctl delete cluster --wait
	steps = append(steps, SweepLeftovers{AWS: DefaultTeardownAPI})      // ENIs, security groups, EIPs
	return steps
}

// NotBuilt stands for a step this version of bootstrap does not have yet.
// It never pretends: Run fails, Describe says so.
type NotBuilt struct {
	Title string
	Phase string
}

// Name implements Step.
func (n NotBuilt) Name() string { return n.Title }

// Run implements Step.
func (n NotBuilt) Run(context.Context, *State) error {
	return fmt.Errorf("%s is not built yet in this version of bootstrap; follow docs/runbooks/infrastructure_setup.md for this part", n.Phase)
}

// Describe implements Describer.
func (n NotBuilt) Describe(context.Context, *State) (Description, error) {
	return Description{Step: n.Title, Summary: []string{n.Phase + " is not built yet: nothing to show"}}, nil
}
