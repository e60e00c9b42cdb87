package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
)

// The cluster phase: eksctl creates the cluster from a rendered ClusterConfig,
// or reconciles the one that is there, then the cluster's network is read
// back from AWS for the data tier and the add-ons.

// ClusterFile is the rendered ClusterConfig's name in the run directory.
const ClusterFile = "cluster.yaml"

// ClusterAPI is what the cluster steps read from AWS. *cloud.Clients is the
// real one.
type ClusterAPI interface {
	AccountID(ctx context.Context) (string, error)
	ClusterExists(ctx context.Context, name string) (bool, error)
	Stacks(ctx context.Context, prefix string) ([]cloud.Stack, error)
	ClusterNetwork(ctx context.Context, name string) (*cloud.Network, error)
	RoleInlinePolicies(ctx context.Context, role string) (map[string]string, bool, error)
	ClusterFacts(ctx context.Context, name string) (cloud.ClusterFacts, error)
}

// ClusterSteps is `bootstrap cluster`, in order.
func ClusterSteps() []Step {
	return []Step{
		CheckEksctl{},   // eksctl version >= eksctl.MinVersion
		CreateCluster{}, // render cluster.yaml; create, or reconcile what exists (IRSA policies included)
		ClaimLogGroup{}, // tag /aws/eks/<cluster>/cluster for the environment, so teardown can delete it
		ReadNetwork{},   // VPC, subnets, cluster security group, OIDC issuer -> State.Network
	}
}

// ClusterTeardownSteps deletes the cluster; it belongs after the data tier is
// destroyed (its RDS and ElastiCache sit in the cluster's subnets).
func ClusterTeardownSteps() []Step {
	return []Step{
		DeleteCluster{}, // eksctl delete cluster --wait
	}
}

// RenderCluster renders the profile's ClusterConfig with the IRSA roles and
// the Helm-replaced EKS add-ons of the add-ons' records, built once here and
// handed to eksctl/ as data; eksctl's own validation runs as part of Render.
// live holds what the roles' policies need from the live system (the hosted
// zone of app.domain: clusterLive).
func RenderCluster(p *config.Profile, live addons.Live) (*api.ClusterConfig, error) {
	roles, err := addons.IRSARoles(p, live)
	if err != nil {
		return nil, err
	}
	in := eksctl.Inputs{HelmReplaced: addons.EKSAddonsReplaced()}
	for _, r := range roles {
		in.ServiceAccounts = append(in.ServiceAccounts, eksctl.ServiceAccount(r))
	}
	return eksctl.Render(p, in)
}

// clusterLive is what the IRSA policies need from the live system: the
// hosted zone of app.domain (external-dns's role is limited to it), found by
// CheckOwnership; <hosted-zone-id> while it is not known (plan, runbook).
func clusterLive(st *State) addons.Live {
	l := addons.Live{AccountID: st.Account(), HostedZoneID: st.HostedZoneID}
	if l.HostedZoneID == "" {
		l.HostedZoneID = "<hosted-zone-id>"
	}
	return l
}

// zoneKnown is the error of a run that would write an IRSA policy without
// the hosted zone it names.
func zoneKnown(st *State) error {
	if st.Profile.App.Domain != "" && st.HostedZoneID == "" {
		return fmt.Errorf("the hosted zone of app.domain %s is not known (external-dns's IRSA role is limited to it): "+
			"the run finds it by name before anything is made; set app.hostedZoneID, or create the zone", st.Profile.App.Domain)
	}
	return nil
}

// renderClusterFile renders the profile's ClusterConfig (RenderCluster).
func renderClusterFile(st *State) (path string, content []byte, err error) {
	cfg, err := RenderCluster(st.Profile, clusterLive(st))
	if err != nil {
		return "", nil, err
	}
	content, err = eksctl.Marshal(cfg)
	if err != nil {
		return "", nil, err
	}
	return st.Path(ClusterFile), content, nil
}

// writeClusterFile renders and writes .bootstrap/<env>/cluster.yaml.
func writeClusterFile(st *State) (string, error) {
	if err := zoneKnown(st); err != nil {
		return "", err
	}
	path, content, err := renderClusterFile(st)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		return "", fmt.Errorf("creating the run directory: %w", err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		return "", fmt.Errorf("writing the ClusterConfig: %w", err)
	}
	return path, nil
}

func eksctlCmd(st *State, args []string) proc.Cmd {
	return proc.Cmd{Name: st.Tool("eksctl"), Args: args}
}

func eksctlAction(args []string, note string) Action {
	return Action{Tool: "eksctl", Args: args, Note: note}
}

// CheckEksctl runs `eksctl version` and refuses one older than
// eksctl.MinVersion. Changes nothing; safe to repeat.
type CheckEksctl struct{}

// Name implements Step.
func (CheckEksctl) Name() string { return "Checking the eksctl version" }

// Run implements Step.
func (CheckEksctl) Run(ctx context.Context, st *State) error {
	var out bytes.Buffer
	c := eksctlCmd(st, eksctl.Version())
	c.Stdout = &out
	if err := st.Runner.Run(ctx, c); err != nil {
		return fmt.Errorf("running eksctl (install eksctl %s or newer, or say where it is): %w", eksctl.MinVersion, err)
	}
	return eksctl.CheckVersion(out.String())
}

// Describe implements Describer.
func (CheckEksctl) Describe(context.Context, *State) (Description, error) {
	return Description{Actions: []Action{
		eksctlAction(eksctl.Version(), "eksctl "+eksctl.MinVersion+" or newer"),
	}}, nil
}

// CreateCluster renders the ClusterConfig to .bootstrap/<env>/cluster.yaml and
// brings the cluster to it. With no cluster, `eksctl create cluster -f`
// makes everything. With the cluster there (create is not idempotent), it
// reconciles what eksctl can reconcile: the OIDC provider, the IRSA roles and
// the node groups, each command skipping what exists; then the settings
// eksctl applies only at create, each command only when DescribeCluster
// differs from the file (eksctl.Converge): Secrets encryption is enabled,
// the endpoint access and public CIDRs updated. A Secrets key other than the
// file's, on either side, stops it before anything runs (EKS changes no
// key); the node group's pod IMDS setting is not changed (status reports
// it). A CloudFormation stack left failed by an earlier run stops it with
// the command that clears it.
type CreateCluster struct {
	AWS ClusterAPI
}

// Name implements Step.
func (CreateCluster) Name() string { return "Creating EKS cluster with eksctl" }

// FinishesWhenStopped implements Finisher: eksctl's create, stopped, leaves
// CloudFormation making the cluster while what eksctl makes after it (the
// default add-ons, the node group) never comes.
func (CreateCluster) FinishesWhenStopped() {}

// Run implements Step.
func (s CreateCluster) Run(ctx context.Context, st *State) error {
	p := st.Profile
	path, err := writeClusterFile(st)
	if err != nil {
		return err
	}
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	if _, err := st.LiveAccount(ctx, api); err != nil {
		return err
	}
	if err := settleStacks(ctx, api, st); err != nil {
		return err
	}
	// The ownership check read the cluster already (found.go); eksctl's
	// create or reconcile below changes it and its roles, so they are
	// forgotten after.
	exists, seen := st.seenExists(foundCluster + p.Cluster.Name)
	if !seen {
		if exists, err = api.ClusterExists(ctx, p.Cluster.Name); err != nil {
			return err
		}
	}
	defer st.forget(foundCluster, foundRole)
	if !exists {
		st.Progress.Info("creating cluster %s in %s (about 20 minutes)", p.Cluster.Name, p.Region)
		if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.CreateCluster(path))); err != nil {
			// A failed create leaves its stack behind; say how to clear it.
			if serr := checkStacks(ctx, api, st); serr != nil {
				return fmt.Errorf("%w\n%v", err, serr)
			}
			return err
		}
		return nil
	}
	// What eksctl applies only at create (endpoint access, Secrets
	// encryption) is compared first: a difference no command can converge
	// stops the run before anything changes.
	conv, err := clusterConvergence(ctx, api, st)
	if err != nil {
		return err
	}
	if err := conv.Err(p.Cluster.Name); err != nil {
		return err
	}
	st.Progress.Info("cluster %s exists: reconciling the OIDC provider, IRSA roles and node groups", p.Cluster.Name)
	for _, args := range reconcileArgs(path) {
		if err := st.Runner.Run(ctx, eksctlCmd(st, args)); err != nil {
			if serr := checkStacks(ctx, api, st); serr != nil {
				return fmt.Errorf("%w\n%v", err, serr)
			}
			return err
		}
	}
	if err := reconcileIRSAPolicies(ctx, api, st, path); err != nil {
		return err
	}
	return convergeSettings(ctx, st, conv, path)
}

// clusterConvergence compares the live cluster's endpoint access, public
// CIDRs and Secrets key with the ClusterConfig's (eksctl.Converge decides).
func clusterConvergence(ctx context.Context, api ClusterAPI, st *State) (eksctl.Convergence, error) {
	cfg, err := RenderCluster(st.Profile, clusterLive(st))
	if err != nil {
		return eksctl.Convergence{}, err
	}
	f, err := api.ClusterFacts(ctx, st.Profile.Cluster.Name)
	if err != nil {
		return eksctl.Convergence{}, err
	}
	return eksctl.Converge(eksctl.WantedSettings(cfg), LiveSettings(f)), nil
}

// LiveSettings are the converged settings as DescribeCluster reports them.
func LiveSettings(f cloud.ClusterFacts) eksctl.ClusterSettings {
	return eksctl.ClusterSettings{
		PrivateAccess: f.EndpointPrivateAccess,
		PublicAccess:  f.EndpointPublicAccess,
		PublicCIDRs:   f.PublicAccessCIDRs,
		SecretsKeyARN: f.SecretsKeyARN,
	}
}

// convergeSettings runs what conv says, each command only when its settings
// differ. Encryption goes first: eksctl rewrites every Secret through the
// Kubernetes API after it, which must still be reachable as before; the
// endpoint comes last, so that a narrower one cuts off no command of this
// run.
func convergeSettings(ctx context.Context, st *State, conv eksctl.Convergence, path string) error {
	for _, d := range conv.Differences {
		st.Progress.Info("cluster %s: %s %s, the profile %s", st.Profile.Cluster.Name, d.What, d.Live, d.Want)
	}
	if conv.EnableSecretsEncryption {
		if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.EnableSecretsEncryption(path))); err != nil {
			return fmt.Errorf("enabling Secrets encryption (cluster.kmsKeyARN) on cluster %s: %w", st.Profile.Cluster.Name, err)
		}
	}
	if conv.UpdateVPCConfig {
		if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.UpdateClusterVPCConfig(path))); err != nil {
			return fmt.Errorf("updating the endpoint access (cluster.endpointAccess) of cluster %s: %w", st.Profile.Cluster.Name, err)
		}
	}
	return nil
}

// reconcileIRSAPolicies updates the IRSA roles whose inline policy differs
// from the ClusterConfig at path: create iamserviceaccount skips a role that
// exists, policy and all (say the load balancer controller's after a pin
// bump).
func reconcileIRSAPolicies(ctx context.Context, api ClusterAPI, st *State, path string) error {
	differ, err := irsaPoliciesDiffer(ctx, api, st)
	if err != nil || len(differ) == 0 {
		return err
	}
	st.Progress.Info("the IAM policy of %s differs from the ClusterConfig: updating", strings.Join(differ, ", "))
	if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.UpdateIAMServiceAccounts(path))); err != nil {
		return fmt.Errorf("updating the IRSA roles' policies: %w", err)
	}
	return nil
}

// reconcileArgs are the commands run on an existing cluster, in order: the
// IRSA roles need the OIDC provider.
func reconcileArgs(path string) [][]string {
	return [][]string{
		eksctl.AssociateOIDCProvider(path),
		eksctl.CreateIAMServiceAccounts(path),
		eksctl.CreateNodeGroups(path),
	}
}

// settleStacks waits while a stack of the cluster is being changed: when an
// earlier run was stopped, its eksctl is gone but CloudFormation goes on
// creating (or deleting) the stack, and the re-run continues from what that
// leaves. A stack left failed stops the run with the command that clears it.
func settleStacks(ctx context.Context, api ClusterAPI, st *State) error {
	said := false
	return poll(ctx, st.Poll, "the CloudFormation stacks of cluster "+st.Profile.Cluster.Name+" to settle", func(ctx context.Context) (bool, error) {
		err := checkStacks(ctx, api, st)
		var prob *eksctl.StackProblem
		if errors.As(err, &prob) && prob.Wait {
			if !said {
				st.Progress.Info("stack %s is %s (CloudFormation goes on after an interrupted eksctl): waiting for it", prob.Stack.Name, prob.Stack.Status)
				said = true
				// The cluster may come or go while it settles: what the
				// ownership check read of it is no longer the cluster.
				st.forget(foundCluster, foundRole)
			}
			return false, nil
		}
		return err == nil, err
	})
}

func checkStacks(ctx context.Context, api ClusterAPI, st *State) error {
	name := st.Profile.Cluster.Name
	stacks, err := api.Stacks(ctx, eksctl.StackPrefix(name))
	if err != nil {
		return err
	}
	list := make([]eksctl.Stack, len(stacks))
	for i, s := range stacks {
		list[i] = eksctl.Stack{Name: s.Name, Status: s.Status, Reason: s.Reason}
	}
	if prob := eksctl.CheckStacks(name, st.Profile.Region, list); prob != nil {
		if !prob.Wait && prob.Stack.Name == eksctl.ClusterStack(name) {
			// up applies the data tier beside eksctl, into the VPC of this
			// stack: eksctl cannot delete subnets the databases sit in.
			return fmt.Errorf("%w\nIf the data tier was applied into this cluster's VPC (bootstrap up applies it beside eksctl), that command fails on the subnets the databases use: run `bootstrap teardown --env %s` instead, which destroys the data tier first", prob, st.Profile.Name)
		}
		return prob
	}
	return nil
}

// Describe implements Describer. It needs no AWS: it shows the file and
// both paths, create and reconcile.
func (CreateCluster) Describe(_ context.Context, st *State) (Description, error) {
	_, content, err := renderClusterFile(st)
	if err != nil {
		return Description{}, err
	}
	path := st.RelPath(ClusterFile)
	create := eksctlAction(eksctl.CreateCluster(path), "when the cluster does not exist: VPC with 3 public and 3 private subnets, control plane, OIDC provider, IRSA roles, node group")
	create.Files = []File{{Path: path, Content: string(content)}}
	exists := describeCluster(st)
	create.Unless = exists
	actions := []Action{create}
	notes := []string{
		"when the cluster exists: associate the OIDC provider (skipped if there)",
		"when the cluster exists: create the IRSA roles that are missing",
		"when the cluster exists: create the node groups that are missing",
	}
	for i, args := range reconcileArgs(path) {
		a := eksctlAction(args, notes[i])
		a.If = exists
		actions = append(actions, a)
	}
	update := eksctlAction(eksctl.UpdateIAMServiceAccounts(path),
		"when the cluster exists and an IRSA role's inline policy differs from the file (create iamserviceaccount leaves existing roles as they are)")
	update.If = exists
	actions = append(actions, update)
	if st.Profile.Cluster.KMSKeyARN != "" {
		enc := eksctlAction(eksctl.EnableSecretsEncryption(path),
			"when the cluster exists without Secrets encryption: enable it with cluster.kmsKeyARN and re-encrypt the existing Secrets (EKS cannot change or remove a cluster's key: another key is an error)")
		// True (found) only for a cluster that exists and has no encryption.
		enc.If = describeClusterQuery(st, "!(cluster.encryptionConfig)")
		actions = append(actions, enc)
	}
	vpc := eksctlAction(eksctl.UpdateClusterVPCConfig(path),
		"when the cluster exists: bring its endpoint access and public CIDRs to the file's (eksctl changes only what differs)")
	vpc.If = exists
	actions = append(actions, vpc)
	return Description{Actions: actions}, nil
}

// describeCluster is the command that finds the environment's EKS cluster,
// the runbook's condition for the steps that need it or must not find it.
func describeCluster(st *State) []string {
	return describeClusterQuery(st, "cluster.name")
}

// describeClusterQuery prints what query (JMESPath) finds in the cluster's
// description; it fails when there is no cluster.
func describeClusterQuery(st *State, query string) []string {
	return []string{"aws", "eks", "describe-cluster", "--region", st.Profile.Region, "--name", st.Profile.Cluster.Name, "--query", query, "--output", "text"}
}

// ReadNetwork reads the cluster's VPC, subnets, security group and OIDC
// issuer from EKS and EC2 into State.Network, for the data tier and the
// add-ons. Changes nothing.
type ReadNetwork struct {
	AWS ClusterAPI
}

// Name implements Step.
func (ReadNetwork) Name() string { return "Reading the cluster's network" }

// Run implements Step.
func (s ReadNetwork) Run(ctx context.Context, st *State) error {
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	n, err := api.ClusterNetwork(ctx, st.Profile.Cluster.Name)
	if err != nil {
		return err
	}
	st.Network = &Network{
		VPCID:                  n.VPCID,
		PrivateSubnetIDs:       n.PrivateSubnetIDs,
		PublicSubnetIDs:        n.PublicSubnetIDs,
		ClusterSecurityGroupID: n.ClusterSecurityGroupID,
		OIDCIssuer:             n.OIDCIssuer,
	}
	st.Progress.Info("VPC %s, private subnets %v, cluster security group %s", n.VPCID, n.PrivateSubnetIDs, n.ClusterSecurityGroupID)
	return nil
}

// Describe implements Describer.
func (ReadNetwork) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	return Description{Actions: []Action{
		eksctlAction(eksctl.GetCluster(p.Cluster.Name, p.Region),
			"the VPC, private subnets, cluster security group and OIDC issuer the next phases use (bootstrap reads them from the EKS and EC2 APIs)"),
	}}, nil
}

// DeleteCluster deletes the cluster and every stack eksctl made for it,
// waiting until they are gone. A cluster that is already gone, with no
// stack left, is success.
type DeleteCluster struct {
	AWS ClusterAPI
}

// Name implements Step.
func (DeleteCluster) Name() string { return "Deleting EKS cluster with eksctl" }

// Run implements Step.
func (s DeleteCluster) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	exists, err := api.ClusterExists(ctx, p.Cluster.Name)
	if err != nil {
		return err
	}
	stacks, err := api.Stacks(ctx, eksctl.StackPrefix(p.Cluster.Name))
	if err != nil {
		return err
	}
	if !exists && len(stacks) == 0 {
		st.Progress.Info("cluster %s is already gone", p.Cluster.Name)
		return nil
	}
	defer st.forget(foundCluster, foundRole)
	if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.DeleteCluster(p.Cluster.Name, p.Region))); err != nil {
		return fmt.Errorf("deleting cluster %s: %w", p.Cluster.Name, err)
	}
	return nil
}

// Describe implements Describer.
func (DeleteCluster) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	del := eksctlAction(eksctl.DeleteCluster(p.Cluster.Name, p.Region), "after the data tier is destroyed: its databases sit in the cluster's subnets; while the cluster or one of eksctl's stacks for it is left")
	del.If = []string{"aws", "cloudformation", "describe-stacks", "--region", p.Region,
		"--query", "Stacks[?starts_with(StackName, '" + eksctl.StackPrefix(p.Cluster.Name) + "')].[StackName]", "--output", "text"}
	return Description{Actions: []Action{del}}, nil
}

// NodeGroupAPI is what DeleteNodeGroups reads from AWS.
type NodeGroupAPI interface {
	ClusterExists(ctx context.Context, name string) (bool, error)
	NodeGroupFacts(ctx context.Context, cluster, name string) (cloud.NodeGroupFacts, error)
}

// DeleteNodeGroups deletes the managed node group and waits until it is
// gone, so that teardown can do it beside the data tier's destroy instead of
// inside `eksctl delete cluster`, after it. Pods are not evicted: the
// add-ons are uninstalled and the workloads are going on purpose. A node
// group or cluster already gone is success.
type DeleteNodeGroups struct{ AWS NodeGroupAPI }

// Name implements Step.
func (DeleteNodeGroups) Name() string { return "Deleting the node group with eksctl" }

// Run implements Step.
func (s DeleteNodeGroups) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	exists, err := api.ClusterExists(ctx, p.Cluster.Name)
	if err != nil {
		return err
	}
	ng := p.Cluster.NodeGroup.Name
	if exists {
		f, err := api.NodeGroupFacts(ctx, p.Cluster.Name, ng)
		if err != nil {
			return err
		}
		exists = f.Exists
	}
	if !exists {
		st.Progress.Info("node group %s is already gone", ng)
		return nil
	}
	if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.DeleteNodeGroup(p.Cluster.Name, ng, p.Region))); err != nil {
		return fmt.Errorf("deleting node group %s: %w", ng, err)
	}
	return nil
}

// Describe implements Describer.
func (DeleteNodeGroups) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	del := eksctlAction(eksctl.DeleteNodeGroup(p.Cluster.Name, p.Cluster.NodeGroup.Name, p.Region), "beside the data tier's destroy: neither needs the other; while the node group exists")
	del.If = []string{"aws", "eks", "describe-nodegroup", "--region", p.Region, "--cluster-name", p.Cluster.Name, "--nodegroup-name", p.Cluster.NodeGroup.Name,
		"--query", "nodegroup.nodegroupName", "--output", "text"}
	return Description{Actions: []Action{del}}, nil
}
