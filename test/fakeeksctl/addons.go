package main

// EKS add-ons as eksctl 0.230.0 makes them during `create cluster` and
// deletes them with `delete addon`. Each imitation names the eksctl file it
// follows (in the module cache: github.com/weaveworks/eksctl@v0.230.0/...),
// so a later eksctl bump is a checklist.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
)

// envKubeconfig names the kubeconfig of the API server that stands in for
// the EKS cluster's (the tests' local control plane). When set, EKS add-ons
// the fake creates also get their in-cluster objects there, as EKS installs
// them, and lose them when the add-on or the cluster is deleted.
const envKubeconfig = "FAKE_EKSCTL_KUBECONFIG"

// addonVersions stands in for EKS's DescribeAddonVersions, which moto does
// not serve: the default version of each add-on for Kubernetes 1.34/1.35 as
// EKS lists it. eksctl picks the default when addons[].version is unset
// (pkg/actions/addon/addon.go, getLatestMatchingVersion).
var addonVersions = map[string]string{
	api.VPCCNIAddon:        "v1.20.4-eksbuild.1",
	api.KubeProxyAddon:     "v1.34.1-eksbuild.2",
	api.CoreDNSAddon:       "v1.12.4-eksbuild.1",
	api.MetricsServerAddon: "v0.8.0-eksbuild.2",
}

// addonsToCreate is pkg/actions/addon/tasks.go CreateAddonTasks: unless
// addonsConfig.disableDefaultAddons, the listed add-ons plus every
// KnownAddons entry with IsDefault that is not excluded in the region and
// not listed (a listed add-on replaces its default, compared without case);
// with defaults disabled, the listed ones only. Those whose KnownAddons entry
// says CreateBeforeNodeGroup come before the node groups, the rest after
// (metrics-server). Auto Mode is not imitated (bootstrap does not use it).
func addonsToCreate(cfg *api.ClusterConfig, region string) (pre, post []*api.Addon) {
	addons := append([]*api.Addon(nil), cfg.Addons...)
	if !cfg.AddonsConfig.DisableDefaultAddons {
		var defaults []string
		for name, known := range api.KnownAddons {
			if known.IsDefault && !slices.Contains(known.ExcludedRegions, region) && !slices.ContainsFunc(cfg.Addons, func(a *api.Addon) bool {
				return strings.EqualFold(a.Name, name)
			}) {
				defaults = append(defaults, name)
			}
		}
		sort.Strings(defaults) // eksctl ranges over a map: any order
		for _, name := range defaults {
			addons = append(addons, &api.Addon{Name: name})
		}
	}
	for _, a := range addons {
		if known, ok := api.KnownAddons[a.Name]; ok && known.CreateBeforeNodeGroup {
			pre = append(pre, a)
		} else {
			post = append(post, a)
		}
	}
	return pre, post
}

// createAddons is pkg/actions/addon/create.go Manager.Create for each add-on:
// one that EKS has already (in a state other than CREATE_FAILED) is
// skipped; the rest are created at their default version.
//
// vpc-cni with OIDC on and no IAM settings of its own: eksctl creates the
// add-on, sets the recommended policy on it (setRecommendedPoliciesForIRSA:
// AmazonEKS_CNI_Policy), and once the OIDC provider exists its "update VPC
// CNI to use IRSA" task (tasks.go, update.go updateWithNewPolicies) makes
// stack eksctl-<cluster>-addon-vpc-cni with a role for kube-system/aws-node
// and points the add-on at it. The fake makes that end state in one go:
// the role stack first, then the add-on with the role. A
// serviceAccountRoleARN given is used as is.
func createAddons(ctx context.Context, e *env, cfg *api.ClusterConfig, addons []*api.Addon) error {
	name := cfg.Metadata.Name
	for _, a := range addons {
		got, err := e.eks.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(name), AddonName: aws.String(a.Name)})
		var nf *ekstypes.ResourceNotFoundException
		switch {
		case err == nil && got.Addon.Status != ekstypes.AddonStatusCreateFailed:
			info("%q addon is already present on the cluster, as an EKS managed addon, skipping creation", a.Name)
			continue
		case err != nil && !errors.As(err, &nf):
			return fmt.Errorf("failed to describe addon: %w", err)
		}
		if a.HasPodIDsSet() || a.UseDefaultPodIdentityAssociations || cfg.AddonsConfig.AutoApplyPodIdentityAssociations {
			return fmt.Errorf("fakeeksctl: pod identity associations of addon %q are not imitated", a.Name)
		}
		version := a.Version
		if version == "" || version == "latest" {
			version = addonVersions[a.CanonicalName()]
		}
		if version == "" {
			return fmt.Errorf("fakeeksctl: no default version known for addon %q", a.Name)
		}
		in := &eks.CreateAddonInput{
			ClusterName:  aws.String(name),
			AddonName:    aws.String(a.Name),
			AddonVersion: aws.String(version),
			Tags:         a.Tags,
		}
		if a.ConfigurationValues != "" {
			in.ConfigurationValues = aws.String(a.ConfigurationValues)
		}
		role, err := addonRole(ctx, e, cfg, a)
		if err != nil {
			return err
		}
		if role != "" {
			in.ServiceAccountRoleArn = aws.String(role)
		}
		info("creating addon: %s", a.Name)
		if _, err := e.eks.CreateAddon(ctx, in); err != nil {
			return fmt.Errorf("failed to create %q addon: %w", a.Name, err)
		}
		if err := applyAddonObjects(ctx, a.CanonicalName(), version); err != nil {
			return err
		}
		info("successfully created addon: %s", a.Name)
	}
	return nil
}

// addonRole is the IAM role an add-on's service account gets (create.go:
// the IRSA cases; only vpc-cni has a known service account location,
// kube-system/aws-node, and recommended IRSA policies among the add-ons
// bootstrap can meet).
func addonRole(ctx context.Context, e *env, cfg *api.ClusterConfig, a *api.Addon) (string, error) {
	if a.ServiceAccountRoleARN != "" {
		return a.ServiceAccountRoleARN, nil
	}
	if a.CanonicalName() != api.VPCCNIAddon || !api.IsEnabled(cfg.IAM.WithOIDC) {
		if a.CanonicalName() == api.VPCCNIAddon {
			warn("recommended policies were found for %q addon, but since OIDC is disabled on the cluster, eksctl cannot configure the requested permissions", a.Name)
		}
		return "", nil
	}
	if len(a.AttachPolicy) > 0 || a.WellKnownPolicies.HasPolicy() {
		return "", fmt.Errorf("fakeeksctl: attachPolicy/wellKnownPolicies of addon %q are not imitated", a.Name)
	}
	policies := a.AttachPolicyARNs
	if len(policies) == 0 {
		policies = []string{"arn:aws:iam::aws:policy/" + api.IAMPolicyAmazonEKSCNIPolicy}
	}
	stack := addonStack(cfg.Metadata.Name, a.Name)
	if out, exists, err := e.stackOutputs(ctx, stack); err != nil {
		return "", err
	} else if exists {
		return out["Role1"], nil
	}
	sa := &api.ClusterIAMServiceAccount{ClusterIAMMeta: api.AWSNodeMeta, AttachPolicyARNs: policies}
	info("creating role using recommended policies for %q addon", a.Name)
	// pkg/actions/addon/create.go createStack: the stack is tagged with the
	// add-on's name beside eksctl's cluster tags.
	arn, err := createIRSARole(ctx, e, cfg, sa, stack, map[string]string{api.AddonNameTag: a.Name})
	if err != nil {
		return "", err
	}
	return arn, nil
}

// addonStack is pkg/cfn/manager/addon.go MakeAddonStackName.
func addonStack(cluster, addon string) string { return "eksctl-" + cluster + "-addon-" + addon }

// deleteAddon is `eksctl delete addon --name N --cluster C [--region R]
// [--preserve]` (pkg/ctl/delete/addon.go, pkg/actions/addon/delete.go):
// EKS's DeleteAddon (an add-on that is not there is said and skipped), then
// the add-on's IAM stack, if any; neither is an error ("could not find addon
// or associated IAM stack(s) to delete"). Without --preserve EKS removes the
// add-on's Kubernetes objects too. eksctl does not wait for EKS to finish.
func deleteAddon(ctx context.Context, f *flags) error {
	switch {
	case f.file != "":
		return errors.New("fakeeksctl: delete addon -f is not imitated; bootstrap deletes one add-on by --cluster and --name")
	case f.name == "":
		return errors.New("--cluster must be set")
	case f.addon == "":
		return errors.New("--name must be set")
	}
	name, region, err := nameAndRegion(f)
	if err != nil {
		return err
	}
	e, err := newEnv(ctx, region)
	if err != nil {
		return err
	}
	cl, err := e.eks.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		return fmt.Errorf("failed to fetch cluster %q version: %v", name, err)
	}
	info("Kubernetes version %q in use by cluster %q", aws.ToString(cl.Cluster.Version), name)
	info("deleting addon: %s", f.addon)
	exists := true
	if _, err := e.eks.DeleteAddon(ctx, &eks.DeleteAddonInput{ClusterName: aws.String(name), AddonName: aws.String(f.addon), Preserve: f.preserve}); err != nil {
		var nf *ekstypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			return fmt.Errorf("failed to delete addon %q: %v", f.addon, err)
		}
		info("addon %q does not exist", f.addon)
		exists = false
	}
	if exists {
		if !f.preserve {
			if err := deleteAddonObjects(ctx, strings.ToLower(f.addon)); err != nil {
				return err
			}
		}
		info("deleted addon: %s", f.addon)
	}
	stack := addonStack(name, f.addon)
	out, hasStack, err := e.stackOutputs(ctx, stack)
	if err != nil {
		return err
	}
	switch {
	case hasStack:
		info("deleting associated IAM stack(s)")
		if arn := out["Role1"]; arn != "" {
			if err := e.deleteRole(ctx, roleName(arn)); err != nil {
				return err
			}
		}
		return e.deleteStack(ctx, stack)
	case exists:
		info("no associated IAM stacks found")
		return nil
	default:
		return errors.New("could not find addon or associated IAM stack(s) to delete")
	}
}

// --- In-cluster objects, on the API server of $FAKE_EKSCTL_KUBECONFIG ---

// eksAddonLabels are the labels EKS puts on an add-on's objects: the
// add-on's chart labels with app.kubernetes.io/managed-by: EKS (EKS's own
// add-on charts, e.g. aws-observability/helm-charts,
// charts/amazon-cloudwatch-observability/templates/_helpers.tpl; and what
// `kubectl get -o yaml` shows for the aws-ebs-csi-driver add-on's
// ServiceAccount). Helm refuses to adopt such objects ("invalid ownership
// metadata; label validation error: missing key app.kubernetes.io/managed-by:
// must be set to Helm"), which is the collision eksctl issue 8652 reports.
func eksAddonLabels(addon, version string) string {
	return fmt.Sprintf(`    app.kubernetes.io/name: %[1]s
    app.kubernetes.io/instance: %[1]s
    app.kubernetes.io/managed-by: EKS
    app.kubernetes.io/version: %[2]s
`, addon, strings.TrimPrefix(strings.SplitN(version, "-", 2)[0], "v"))
}

// addonManifest is what EKS installs for an add-on, in as far as the fake
// plays it: metrics-server's ServiceAccount, RBAC, Service and Deployment in
// kube-system (kwok plays the pods). Its APIService v1beta1.metrics.k8s.io
// is left out: an aggregated API backed by kwok's fake pods breaks API
// discovery on the whole control plane (test/charts/README.md says the
// same of the chart double). The networking add-ons' objects (aws-node,
// kube-proxy DaemonSets, CoreDNS) collide with nothing bootstrap installs
// and are not played.
func addonManifest(addon, version string) string {
	if addon != api.MetricsServerAddon {
		return ""
	}
	l := eksAddonLabels(addon, version)
	return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: metrics-server
  namespace: kube-system
  labels:
` + l + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:metrics-server
  labels:
` + l + `rules:
- apiGroups: [""]
  resources: [nodes/metrics, pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: v1
kind: Service
metadata:
  name: metrics-server
  namespace: kube-system
  labels:
` + l + `spec:
  ports:
  - name: https
    port: 443
    targetPort: https
  selector:
    app.kubernetes.io/name: metrics-server
    app.kubernetes.io/instance: metrics-server
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: metrics-server
  namespace: kube-system
  labels:
` + l + `spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: metrics-server
      app.kubernetes.io/instance: metrics-server
  template:
    metadata:
      labels:
        app.kubernetes.io/name: metrics-server
        app.kubernetes.io/instance: metrics-server
    spec:
      serviceAccountName: metrics-server
      containers:
      - name: metrics-server
        image: 602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/metrics-server:` + strings.SplitN(version, "-", 2)[0] + `
        ports:
        - name: https
          containerPort: 10251
`
}

func kubectl(ctx context.Context, stdin string, args ...string) error {
	kc := os.Getenv(envKubeconfig)
	bin := os.Getenv("FAKE_EKSCTL_KUBECTL")
	if bin == "" {
		bin = "kubectl"
	}
	c := exec.CommandContext(ctx, bin, append(args, "--kubeconfig", kc)...)
	c.Stdin = strings.NewReader(stdin)
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("fakeeksctl: kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// applyAddonObjects installs an add-on's objects as EKS does, when there is
// an API server to install them on.
func applyAddonObjects(ctx context.Context, addon, version string) error {
	m := addonManifest(addon, version)
	if m == "" || os.Getenv(envKubeconfig) == "" {
		return nil
	}
	return kubectl(ctx, m, "apply", "-f", "-")
}

// deleteAddonObjects removes them, as EKS's DeleteAddon without preserve.
func deleteAddonObjects(ctx context.Context, addon string) error {
	if addonManifest(addon, "v0") == "" || os.Getenv(envKubeconfig) == "" {
		return nil
	}
	sel := "app.kubernetes.io/managed-by=EKS,app.kubernetes.io/name=" + addon
	if err := kubectl(ctx, "", "delete", "deployment,service,serviceaccount", "-n", "kube-system", "-l", sel, "--ignore-not-found", "--wait=false"); err != nil {
		return err
	}
	return kubectl(ctx, "", "delete", "clusterrole", "-l", sel, "--ignore-not-found", "--wait=false")
}

// deleteClusterAddons is what a deleted cluster takes with it: EKS deletes
// the add-ons (moto, patched, too), and their objects go with the API
// server; the fake's stand-in API server outlives the cluster, so they are
// deleted there.
func deleteClusterAddons(ctx context.Context, e *env, name string) error {
	list, err := e.eks.ListAddons(ctx, &eks.ListAddonsInput{ClusterName: aws.String(name)})
	if err != nil {
		return err
	}
	for _, a := range list.Addons {
		if err := deleteAddonObjects(ctx, strings.ToLower(a)); err != nil {
			return err
		}
	}
	return nil
}
