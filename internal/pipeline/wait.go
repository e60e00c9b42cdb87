package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
)

// The steps that let `bootstrap up` run the data tier beside eksctl: the
// data lane waits, polling AWS, for what the cluster lane's eksctl makes
// (the VPC's private subnets in its first minutes, the cluster security
// group with the control plane), instead of waiting for eksctl to finish.

// Backoff paces polling: the first wait, the longest wait, and how long to
// keep trying before giving up. A zero field takes its default.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Limit   time.Duration
}

// pollDefaults suit AWS: eksctl makes the subnets in about 2 minutes and
// the control plane in about 12; a check costs one or two API calls.
var pollDefaults = Backoff{Initial: 5 * time.Second, Max: 20 * time.Second, Limit: 45 * time.Minute}

func (b Backoff) orDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = pollDefaults.Initial
	}
	if b.Max <= 0 {
		b.Max = pollDefaults.Max
	}
	if b.Limit <= 0 {
		b.Limit = pollDefaults.Limit
	}
	return b
}

// poll calls check until it reports done, an error, the context ends or
// the backoff's limit passes; waits grow by half each time up to Max.
func poll(ctx context.Context, b Backoff, what string, check func(context.Context) (bool, error)) error {
	b = b.orDefaults()
	deadline := time.Now().Add(b.Limit)
	wait := b.Initial
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("gave up waiting for %s after %s", what, b.Limit)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-t.C:
		}
		if wait += wait / 2; wait > b.Max {
			wait = b.Max
		}
	}
}

// NetworkAPI is what the waiting steps read from AWS; *cloud.Clients is the
// real one.
type NetworkAPI interface {
	NetworkSoFar(ctx context.Context, cluster string) (*cloud.Network, error)
}

// ReadAccount reads the AWS account once, before the lanes of `up` start,
// so that each lane begins knowing it.
type ReadAccount struct{ AWS AccountReader }

// Name implements Step.
func (ReadAccount) Name() string { return "Reading the AWS account" }

// Run implements Step.
func (s ReadAccount) Run(ctx context.Context, st *State) error {
	if st.AccountID != "" {
		return nil
	}
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	_, err = st.LiveAccount(ctx, api)
	return err
}

// Describe implements Describer.
func (ReadAccount) Describe(context.Context, *State) (Description, error) {
	return Description{Actions: []Action{{Tool: "aws", Args: []string{"sts", "get-caller-identity", "--query", "Account", "--output", "text"}, Note: "the account the state bucket's name carries"}}}, nil
}

// WaitForSubnets waits until the cluster's VPC and one private subnet per
// availability zone exist, and puts them in State.Network for the data
// tier. With the cluster already there it returns at once.
type WaitForSubnets struct{ AWS NetworkAPI }

// Name implements Step.
func (WaitForSubnets) Name() string { return "Waiting for the cluster's VPC and private subnets" }

// Run implements Step.
func (s WaitForSubnets) Run(ctx context.Context, st *State) error {
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	p := st.Profile
	want := len(p.AvailabilityZones)
	what := fmt.Sprintf("the VPC and %d private subnets of cluster %s", want, p.Cluster.Name)
	err = poll(ctx, st.Poll, what, func(ctx context.Context) (bool, error) {
		n, err := api.NetworkSoFar(ctx, p.Cluster.Name)
		if err != nil || n.VPCID == "" || len(n.PrivateSubnetIDs) < want {
			return false, err
		}
		st.Network = n
		return true, nil
	})
	if err != nil {
		return err
	}
	st.Progress.Info("VPC %s, private subnets %v", st.Network.VPCID, st.Network.PrivateSubnetIDs)
	return nil
}

// Describe implements Describer.
func (WaitForSubnets) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	return Description{Actions: []Action{{Tool: "aws", Args: []string{"ec2", "describe-subnets", "--region", p.Region,
		"--filters", "Name=tag:" + cloud.TagEksctlCluster + "," + "Values=" + p.Cluster.Name, "Name=tag-key,Values=" + cloud.TagPrivateELB,
		"--query", "Subnets[].[VpcId,SubnetId,AvailabilityZone]", "--output", "text"},
		Note: "the data tier needs only the VPC and its private subnets, which eksctl makes in its first minutes: it can start in a second terminal once this lists one subnet per zone"}}}, nil
}

// GrantClusterAccess admits the cluster security group to PostgreSQL and
// Redis. When the data tier was applied before EKS made that group, it waits
// for the group and applies the root again with it: a fast apply that adds
// the two rules. When the first apply already had the group, there is
// nothing left to do.
type GrantClusterAccess struct {
	// Wait reads the cluster security group.
	Wait NetworkAPI
	// Apply applies the data tier again (ApplyData).
	Apply Step
}

// Name implements Step.
func (GrantClusterAccess) Name() string {
	return "Admitting the cluster security group to PostgreSQL and Redis"
}

// Run implements Step.
func (s GrantClusterAccess) Run(ctx context.Context, st *State) error {
	if st.Network != nil && st.Network.ClusterSecurityGroupID != "" {
		st.Progress.Info("the data tier was applied with cluster security group %s: nothing to add", st.Network.ClusterSecurityGroupID)
		return nil
	}
	api, err := apiOf(ctx, st, s.Wait)
	if err != nil {
		return err
	}
	name := st.Profile.Cluster.Name
	err = poll(ctx, st.Poll, "the cluster security group of "+name, func(ctx context.Context) (bool, error) {
		n, err := api.NetworkSoFar(ctx, name)
		if err != nil || n.ClusterSecurityGroupID == "" {
			return false, err
		}
		st.Network = n
		return true, nil
	})
	if err != nil {
		return err
	}
	st.Progress.Info("cluster security group %s", st.Network.ClusterSecurityGroupID)
	return s.Apply.Run(ctx, st)
}

// Describe implements Describer.
func (GrantClusterAccess) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	rel := "../../" + st.RelPath(StatefulVars) // from terraform/stateful
	return Description{Actions: []Action{
		{Tool: "aws", Args: []string{"eks", "describe-cluster", "--region", p.Region, "--name", p.Cluster.Name,
			"--query", "cluster.resourcesVpcConfig.clusterSecurityGroupId", "--output", "text"},
			Note: "only when the data tier was applied before EKS made the cluster security group: once this prints sg-..., put it in " + st.RelPath(StatefulVars) + " as cluster_security_group_id and apply again; the plan adds the two ingress rules"},
		{Tool: "terraform", Args: []string{"-chdir=" + StatefulRootRef, "plan", "-var-file=" + rel, "-out=" + StatefulPlan}},
		{Tool: "terraform", Args: []string{"-chdir=" + StatefulRootRef, "apply", StatefulPlan}},
	}}, nil
}
