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
	steps = append(steps, DeleteLoadBalancers{AWS: DefaultTeardownAPI})              // while the controller can still delete their load balancers
	steps = append(steps, WhileClusterExists(AddonTeardownSteps(AddonOptions{}))...) // ESO manifests, helm uninstall, CRDs
	steps = append(steps, DataTeardownSteps()...)                                    // production: protection lifted, final snapshot named
	steps = append(steps, DeleteCluster{AWS: DefaultAWS})                            // eksctl delete cluster --wait
	steps = append(steps, SweepLeftovers{AWS: DefaultTeardownAPI})                   // ENIs, security groups, EIPs
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

// WhileClusterExists wraps steps that act inside the cluster so that they
// are skipped once EKS no longer has it: a teardown re-run after eksctl
// deleted the cluster (say the sweep failed) finds what lived in it gone
// with it, which is "already gone", not an error.
func WhileClusterExists(steps []Step) []Step {
	out := make([]Step, len(steps))
	for i, s := range steps {
		out[i] = ifClusterExists{Step: s, AWS: DefaultAWS}
	}
	return out
}

type ifClusterExists struct {
	Step Step
	AWS  OpenAWS
}

func (s ifClusterExists) Name() string { return s.Step.Name() }

func (s ifClusterExists) Run(ctx context.Context, st *State) error {
	api, err := s.AWS(ctx, st.Profile.Region)
	if err != nil {
		return err
	}
	exists, err := api.ClusterExists(ctx, st.Profile.Cluster.Name)
	if err != nil {
		return err
	}
	if !exists {
		st.Progress.Info("cluster %s does not exist: nothing of this step is left in it", st.Profile.Cluster.Name)
		return nil
	}
	return s.Step.Run(ctx, st)
}

func (s ifClusterExists) Describe(ctx context.Context, st *State) (Description, error) {
	if d, ok := s.Step.(Describer); ok {
		return d.Describe(ctx, st)
	}
	return Description{Step: s.Step.Name()}, nil
}
