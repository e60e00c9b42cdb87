package pipeline

import (
	"context"
	"fmt"
)

// UpSteps is `bootstrap up`. The cluster and the data tier are made side by
// side: the data tier needs only the VPC's private subnets, which eksctl
// makes in its first minutes, so it does not wait the twenty minutes of
// eksctl's whole run; the add-ons start when eksctl returns (the node group
// is ready), and what needs both comes last.
func UpSteps() []Step { return UpStepsWith(AddonOptions{}) }

// UpStepsWith is UpSteps with the add-ons' options (tests: local charts and
// control plane).
func UpStepsWith(o AddonOptions) []Step {
	return []Step{
		ReadAccount{},    // sts get-caller-identity, once for every lane
		CheckOwnership{}, // objects with this environment's names carry its tags, or nothing starts
		Parallel{Title: "Creating the cluster and the data tier side by side", Lanes: []Lane{
			{Name: "cluster", Steps: append(ClusterSteps(), AddonReleaseSteps(o)...)}, // eksctl create or reconcile, then helm upgrade --install per pin
			{Name: "data", Steps: DataLaneSteps()},                                    // waits for the subnets only; state bucket, apply, Redis AUTH, rules
		}},
		ReadDataOutputs{},                          // already read by the data lane: nothing to do
		KeepAppDatabaseRole{AWS: o.DB, Options: o}, // a Job in the cluster sets the app role's password in the database; rotation when due
		ApplySecretManifests{Options: o},           // needs the cluster's External Secrets and the data tier's secrets
		WriteAppValues{},                           // database and Redis hosts, IRSA role, repositories
	}
}

// DataLaneSteps is the data tier as `up` runs it beside eksctl.
func DataLaneSteps() []Step {
	return []Step{
		WaitForSubnets{},                       // the VPC and one private subnet per zone, polled with backoff
		EnsureStateBucket{},                    // versioned, encrypted, private
		ApplyData{},                            // with the cluster security group when EKS has made it already
		SetRedisAuth{},                         // AUTH token from sovd/<env>/redis
		GrantClusterAccess{Apply: ApplyData{}}, // when the apply ran without it: wait for the group, apply again
	}
}

// ClusterPhase is `bootstrap cluster`.
func ClusterPhase() []Step {
	return append([]Step{CheckOwnership{}}, ClusterSteps()...) // ownership by tags; check eksctl, create or reconcile, read the network back
}

// DataPhase is `bootstrap data`.
func DataPhase() []Step {
	return append([]Step{CheckOwnership{}}, DataSteps()...) // ownership by tags; state bucket, init/plan/apply of terraform/stateful, Redis AUTH
}

// AddonsPhase is `bootstrap addons`.
func AddonsPhase() []Step {
	steps := []Step{
		ReadAddonInputs{}, // account ID and VPC, unless an earlier phase of the run read them
		ReadDataOutputs{}, // the data tier's outputs, unless this run applied it
	}
	return append(steps, AddonSteps(AddonOptions{})...) // kubeconfig, repos, CRDs, helm upgrade --install per pin, ESO manifests, values overlay
}

// TeardownSteps is `bootstrap teardown`, in the order that leaves nothing
// behind (docs/layout.md, "Teardown order"). The node groups go beside the data
// tier's destroy: neither needs the other, and both must be gone before
// eksctl deletes the VPC the databases sit in.
func TeardownSteps() []Step { return TeardownStepsWith(AddonOptions{}) }

// TeardownStepsWith is TeardownSteps with the add-ons' options.
func TeardownStepsWith(o AddonOptions) []Step {
	var steps []Step
	steps = append(steps, CheckOwnership{ZoneOptional: true})            // nothing is deleted unless its tags say it is this environment's
	steps = append(steps, DeleteLoadBalancers{Kubeconfig: o.Kubeconfig}) // while the controller can still delete their load balancers
	steps = append(steps, WhileClusterExists(AddonTeardownSteps(o))...)  // ESO manifests, helm uninstall, CRDs
	steps = append(steps, DeleteOwnedRecords{})                          // external-dns is gone: its records for this cluster, proven by its TXT records
	steps = append(steps, Parallel{Title: "Destroying the data tier and the node groups side by side", Lanes: []Lane{
		{Name: "data", Steps: DataTeardownSteps()},         // production: protection lifted, final snapshot named
		{Name: "nodes", Steps: []Step{DeleteNodeGroups{}}}, // eksctl delete nodegroup --wait
	}})
	steps = append(steps, WhileClusterExists([]Step{ClaimLogGroup{}})...) // tag the log group while the cluster proves it ours
	steps = append(steps, DeleteCluster{})                                // eksctl delete cluster --wait: control plane, VPC
	steps = append(steps, DeleteLogGroup{})                               // /aws/eks/<cluster>/cluster, which eksctl leaves
	steps = append(steps, SweepLeftovers{})                               // ENIs, security groups, EIPs
	return steps
}

// WhileClusterExists wraps steps that act inside the cluster so that they
// are skipped once EKS no longer has it: a teardown re-run after eksctl
// deleted the cluster (say the sweep failed) finds what lived in it gone
// with it, which is "already gone", not an error.
func WhileClusterExists(steps []Step) []Step {
	out := make([]Step, len(steps))
	for i, s := range steps {
		out[i] = ifClusterExists{Step: s}
	}
	return out
}

type ifClusterExists struct {
	Step Step
	AWS  ClusterAPI
}

func (s ifClusterExists) Name() string { return s.Step.Name() }

func (s ifClusterExists) Run(ctx context.Context, st *State) error {
	// The ownership check's lookup of the cluster (found.go), unless a step
	// since changed the cluster (eksctl's, which forget it): the steps this
	// wraps work inside the cluster and leave it standing.
	exists, seen := st.seenExists(foundCluster + st.Profile.Cluster.Name)
	if !seen {
		api, err := apiOf(ctx, st, s.AWS)
		if err != nil {
			return err
		}
		if exists, err = api.ClusterExists(ctx, st.Profile.Cluster.Name); err != nil {
			return err
		}
	}
	if !exists {
		st.Progress.Info("cluster %s does not exist: nothing of this step is left in it", st.Profile.Cluster.Name)
		return nil
	}
	return s.Step.Run(ctx, st)
}

func (s ifClusterExists) Describe(ctx context.Context, st *State) (Description, error) {
	if d, ok := s.Step.(Describer); ok {
		desc, err := d.Describe(ctx, st)
		// Beside the action's own condition (helm status, say): a run
		// resumed after eksctl deleted the cluster skips it and says why.
		for i := range desc.Actions {
			desc.Actions[i].While = describeCluster(st)
		}
		if len(desc.Actions) > 0 {
			desc.Actions[0].Skipped = fmt.Sprintf("cluster %s does not exist: skipping %q", st.Profile.Cluster.Name, s.Step.Name())
		}
		return desc, err
	}
	return Description{Step: s.Step.Name()}, nil
}
