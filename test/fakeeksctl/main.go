// Command fakeeksctl is a test double of eksctl for bootstrap's process tests.
// It is never part of the bootstrap binary.
//
// It takes eksctl's command line for the commands bootstrap runs, loads and
// validates a ClusterConfig file the way eksctl does (strict decoding, then
// eksctl's own defaulting and validation from its API package), and makes in
// AWS what eksctl's CloudFormation stacks would make, through the AWS SDK, so
// that a moto server (AWS_ENDPOINT_URL) holds what a real run leaves behind:
//
//   - create cluster -f: VPC, three public and three private subnets with
//     eksctl's tags, internet gateway, NAT gateways as vpc.nat says, route
//     tables, security groups, the EKS cluster, its OIDC provider, the IRSA
//     roles with their inline policies, the managed node groups, and a
//     CloudFormation stack record for each (eksctl-<cluster>-cluster, ...).
//     A second create fails with CloudFormation's AlreadyExists, as eksctl's.
//     Then, as eksctl 0.230.0 does after the cluster stack: the EKS add-ons
//     (vpc-cni, kube-proxy, coredns before the node groups, metrics-server
//     after them, unless addonsConfig.disableDefaultAddons; the listed ones
//     replace their defaults), with the vpc-cni add-on's IRSA role stack
//     eksctl-<cluster>-addon-vpc-cni when OIDC is on, and the retention of
//     the control-plane log group /aws/eks/<cluster>/cluster, which EKS
//     (moto, patched) makes. With $FAKE_EKSCTL_KUBECONFIG set, the add-ons'
//     Kubernetes objects (metrics-server's) are made on that API server,
//     labelled as EKS labels them (addons.go).
//   - create iamserviceaccount -f [--approve] and create nodegroup -f: create
//     what has no stack or node group yet, skip what exists (an existing
//     role keeps its policy).
//   - update iamserviceaccount -f [--approve]: the policies of the roles
//     whose stack exists, as the file says.
//   - delete addon --cluster --name [--region] [--preserve]: the EKS add-on,
//     its objects (unless --preserve) and its IAM stack.
//   - upgrade cluster (--name/--region or -f) [--version V] [--approve],
//     upgrade nodegroup --cluster --name [--kubernetes-version V]
//     [--release-version R] [--force-upgrade] [--wait] [--timeout],
//     update addon --cluster --name [--version V|latest] [--wait]: the
//     upgrade path, as upgrade.go says with eksctl's file for each rule.
//   - utils associate-iam-oidc-provider -f [--approve]: create the provider
//     unless it is already associated.
//   - utils update-cluster-vpc-config -f [--approve]: the endpoint access
//     and public CIDRs of the file, each with its own EKS
//     UpdateClusterConfig when it differs; utils enable-secrets-encryption
//     -f [--approve] [--timeout]: EKS AssociateEncryptionConfig unless
//     Secrets are encrypted already, then the Secrets rewritten (converge.go
//     says with eksctl's file for each rule).
//   - get cluster --name --region -o json: the EKS description, as a list.
//   - delete cluster (--name/--region or -f) [--wait]: delete what the stacks
//     hold, then the stacks. Node groups already deleted are no matter. The
//     add-ons go with the cluster; the log group stays, as with eksctl.
//   - delete nodegroup --cluster --name [--region] [--wait]
//     [--disable-eviction] [--drain]: the managed node group, its node
//     instance role and its eksctl-<cluster>-nodegroup-<name> stack (or the
//     EKS node group alone when it has no stack). As in eksctl, a node group
//     already gone fails with EKS's ResourceNotFoundException ("No node group
//     found for name: <name>."), and --approve without -f is refused. Nothing
//     is drained: there is no Kubernetes API.
//   - utils write-kubeconfig --cluster --region --kubeconfig: a kubeconfig
//     for the cluster's endpoint whose user runs `aws eks get-token`.
//   - version [-o json]: 0.230.0, or $FAKE_EKSCTL_VERSION.
//
// With $FAKE_EKSCTL_RECORD set to a directory, every call appends its argv
// and the config file it was given to calls.jsonl there, before doing
// anything, failed calls included.
//
// $FAKE_EKSCTL_DELAYS makes the fake take eksctl's time, scaled as the
// caller likes, and make things in the order eksctl's stacks do. Its syntax
// is comma-separated key=duration pairs, durations as Go parses them, e.g.
//
//	FAKE_EKSCTL_DELAYS=network=2s,controlplane=10s,iam=1s,nodegroup=4s,deletenodegroup=4s,deletecluster=3s
//
// Unset or empty means no waiting; a missing key is zero; an unknown or
// repeated key, or a bad or negative duration, fails every AWS command
// before it touches AWS. moto has no CREATING state, so the fake waits first
// and then creates: each thing appears when AWS would have it ready. For
// create cluster, from the start of the command:
//
//   - t = network: VPC, subnets, gateways, route tables, control-plane and
//     shared node security groups;
//   - + controlplane: the EKS cluster (with EKS's cluster security group),
//     its service role and the cluster stack record, then at once the OIDC
//     provider;
//   - + iam: the IRSA roles and their stacks (no wait when there are none);
//   - + nodegroup: the managed node groups, their roles and stacks; the
//     command returns then.
//
// create iamserviceaccount and create nodegroup wait iam and nodegroup
// before creating, when they have something to create. Deletes delete at
// once and then wait, as eksctl waits on CloudFormation: delete nodegroup
// --wait waits deletenodegroup (without --wait, no wait: eksctl returns as
// soon as the stack deletion has started); delete cluster waits
// deletenodegroup after deleting node groups, when there were any (eksctl
// deletes and waits for them before the cluster stack, --wait or not), then
// deletecluster after the rest, with --wait.
//
// SIGINT or SIGTERM ends a wait at once and the fake exits 1 with "Error:
// interrupted while waiting for ...", leaving behind what CloudFormation
// would. The cluster stack is CloudFormation's once eksctl has asked for it:
// stopping eksctl does not stop it, so a signal before it is complete (during
// the network or controlplane wait, or the AWS calls around them) makes the
// fake finish the stack's content at once, without further waits (the
// network if not yet made, the EKS cluster with its cluster security group,
// its service role, the stack record), and then exit 1 without the steps
// eksctl drives itself after the stack: the OIDC provider, the IRSA role
// stacks and the node group stacks are not made. A re-run of create cluster
// then fails with AlreadyExists, and utils associate-iam-oidc-provider,
// create iamserviceaccount and create nodegroup complete the cluster, as for
// real. A signal during the iam or nodegroup wait leaves those stacks not
// made. A second signal kills the fake.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
)

// Version is the eksctl release this fake imitates.
const Version = "0.230.0"

// Call is one recorded invocation.
type Call struct {
	Argv []string `json:"argv"`
	// ConfigFile is the -f argument, Config its content at call time.
	ConfigFile string `json:"configFile,omitempty"`
	Config     string `json:"config,omitempty"`
}

func main() {
	record(os.Args[1:])
	// SIGINT or SIGTERM cancels the work in progress: a sleep of
	// FAKE_EKSCTL_DELAYS ends at once and the AWS calls in flight fail, so
	// the fake exits 1 promptly, except that create cluster first completes
	// the cluster stack, as CloudFormation does (createCluster). A second
	// signal kills it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	root := rootCmd()
	root.SetArgs(os.Args[1:])
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

func record(argv []string) {
	dir := os.Getenv("FAKE_EKSCTL_RECORD")
	if dir == "" {
		return
	}
	c := Call{Argv: argv}
	for i, a := range argv {
		switch {
		case (a == "-f" || a == "--config-file") && i+1 < len(argv):
			c.ConfigFile = argv[i+1]
		case strings.HasPrefix(a, "--config-file="):
			c.ConfigFile = strings.TrimPrefix(a, "--config-file=")
		}
	}
	if c.ConfigFile != "" {
		if b, err := os.ReadFile(c.ConfigFile); err == nil {
			c.Config = string(b)
		}
	}
	line, _ := json.Marshal(c)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "fakeeksctl: recording:", err)
		os.Exit(3)
	}
	f, err := os.OpenFile(filepath.Join(dir, "calls.jsonl"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeeksctl: recording:", err)
		os.Exit(3)
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}

// logf prints a progress line the way eksctl's logger does.
func logf(mark, format string, args ...any) {
	fmt.Printf("%s [%s]  %s\n", time.Now().Format("2006-01-02 15:04:05"), mark, fmt.Sprintf(format, args...))
}

func info(format string, args ...any)    { logf("ℹ", format, args...) }
func success(format string, args ...any) { logf("✔", format, args...) }
func warn(format string, args ...any)    { logf("!", format, args...) }

type flags struct {
	// name is the cluster's (--name, or --cluster where eksctl says so);
	// nodegroup is delete nodegroup's --name.
	file, name, nodegroup, addon, region, output, kubeconfig string
	approve, wait, noEviction, force, drain, preserve        bool
	// version is upgrade cluster's --version, update addon's --version
	// and upgrade nodegroup's --kubernetes-version; release is upgrade
	// nodegroup's --release-version; timeout is --timeout.
	version, release string
	timeout          time.Duration
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{Use: "eksctl", SilenceUsage: true, SilenceErrors: true}
	create := &cobra.Command{Use: "create"}
	get := &cobra.Command{Use: "get"}
	del := &cobra.Command{Use: "delete"}
	utils := &cobra.Command{Use: "utils"}
	update := &cobra.Command{Use: "update"}
	upgrade := &cobra.Command{Use: "upgrade"}
	root.AddCommand(create, get, del, utils, update, upgrade, versionCmd())
	update.AddCommand(
		withFlags("iamserviceaccount", runWith(updateIAMServiceAccounts), "f", "approve"),
		withFlags("addon", updateAddon, "f", "cluster", "addon-name", "version", "region", "wait", "force", "timeout"),
	)
	upgrade.AddCommand(
		withFlags("cluster", upgradeCluster, "f", "name", "region", "version", "approve", "timeout"),
		withFlags("nodegroup", upgradeNodeGroup, "cluster", "nodegroup-name", "region", "kubernetes-version", "release-version", "force-upgrade", "wait-upgrade", "timeout"),
	)

	create.AddCommand(
		withFlags("cluster", runWith(createCluster), "f"),
		withFlags("iamserviceaccount", runWith(createIAMServiceAccounts), "f", "approve"),
		withFlags("nodegroup", runWith(createNodeGroups), "f"),
	)
	utils.AddCommand(
		withFlags("associate-iam-oidc-provider", runWith(associateOIDC), "f", "approve"),
		withFlags("write-kubeconfig", writeKubeconfig, "f", "cluster", "region", "kubeconfig"),
		withFlags("update-cluster-vpc-config", runWith(updateClusterVPCConfig), "f", "approve"),
		withFlags("enable-secrets-encryption", runWith(enableSecretsEncryption), "f", "approve", "timeout"),
	)
	get.AddCommand(withFlags("cluster", getCluster, "f", "name", "region", "output"))
	del.AddCommand(
		withFlags("cluster", deleteCluster, "f", "name", "region", "wait", "disable-nodegroup-eviction", "force"),
		withFlags("nodegroup", deleteNodeGroup, "f", "cluster", "nodegroup-name", "region", "approve", "wait", "disable-eviction", "drain"),
		withFlags("addon", deleteAddon, "f", "cluster", "addon-name", "region", "preserve"),
	)
	return root
}

func runWith(do func(context.Context, *env, *api.ClusterConfig, *flags) error) func(context.Context, *flags) error {
	return func(ctx context.Context, f *flags) error { return run(ctx, f, do) }
}

func withFlags(use string, do func(context.Context, *flags) error, names ...string) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:  use,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return do(c.Context(), f) },
	}
	fs := c.Flags()
	for _, n := range names {
		switch n {
		case "f":
			fs.StringVarP(&f.file, "config-file", "f", "", "load configuration from a file")
		case "name":
			fs.StringVarP(&f.name, "name", "n", "", "EKS cluster name")
		case "cluster":
			fs.StringVarP(&f.name, "cluster", "c", "", "EKS cluster name")
		case "nodegroup-name":
			fs.StringVarP(&f.nodegroup, "name", "n", "", "Name of the nodegroup to delete")
		case "addon-name":
			fs.StringVar(&f.addon, "name", "", "Addon name")
		case "preserve":
			fs.BoolVar(&f.preserve, "preserve", false, "Delete the addon from the API but preserve its Kubernetes resources")
		case "kubeconfig":
			fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path to write kubeconfig")
		case "region":
			fs.StringVarP(&f.region, "region", "r", "", "AWS region")
		case "output":
			fs.StringVarP(&f.output, "output", "o", "table", "output format (table, json, yaml)")
		case "approve":
			fs.BoolVar(&f.approve, "approve", false, "apply the changes")
		case "wait":
			fs.BoolVarP(&f.wait, "wait", "w", false, "wait for deletion of all resources")
		case "disable-nodegroup-eviction":
			fs.BoolVar(&f.noEviction, "disable-nodegroup-eviction", false, "drain with delete")
		case "disable-eviction":
			fs.BoolVar(&f.noEviction, "disable-eviction", false, "drain with delete")
		case "drain":
			fs.BoolVar(&f.drain, "drain", true, "drain and cordon all nodes in the nodegroup before deletion")
		case "force":
			fs.BoolVar(&f.force, "force", false, "continue on errors")
		case "version":
			fs.StringVar(&f.version, "version", "", "Kubernetes version (upgrade cluster) or add-on version (update addon)")
		case "kubernetes-version":
			fs.StringVar(&f.version, "kubernetes-version", "", "Kubernetes version")
		case "release-version":
			fs.StringVar(&f.release, "release-version", "", "AMI version of the EKS optimized AMI to use")
		case "force-upgrade":
			fs.BoolVar(&f.force, "force-upgrade", false, "Force the update if the existing node group's pods are unable to be drained due to a pod disruption budget issue")
		case "wait-upgrade":
			fs.BoolVar(&f.wait, "wait", true, "nodegroup upgrade to complete")
		case "timeout":
			fs.DurationVar(&f.timeout, "timeout", 0, "maximum waiting time for any long-running operation")
		}
	}
	return c
}

func versionCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:  "version",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := Version
			if env := os.Getenv("FAKE_EKSCTL_VERSION"); env != "" {
				v = env
			}
			switch output {
			case "":
				fmt.Println(v)
			case "json":
				b, _ := json.Marshal(map[string]any{"Version": v, "PreReleaseID": "", "Metadata": map[string]string{"BuildDate": "", "GitCommit": ""}})
				fmt.Println(string(b))
			default:
				return fmt.Errorf("unknown output: %s", output)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "output format (json)")
	return c
}
