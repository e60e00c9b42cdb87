package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/terraform/stateful"
)

// The add-ons phase: the load balancer controller's CRDs applied
// server-side (Helm never upgrades a chart's crds/), then `helm upgrade
// --install` of each pinned chart in dependency order, skipped when the
// release already runs that chart version with those values, then the
// ClusterSecretStore and the app's ExternalSecret, and the values overlay
// for the app's chart. Teardown runs it backwards and leaves nothing.
//
// Every step converges: a re-run changes nothing that is right (no new Helm
// revision, no new resourceVersion), and a run that failed part-way (helm
// --atomic leaves a failed release as it was) is finished by the next.

// AddonOptions say where the add-on steps find the cluster and the charts.
type AddonOptions struct {
	// Kubeconfig is the cluster's kubeconfig. "" means the run directory's
	// (.bootstrap/<env>/kubeconfig), which WriteKubeconfig writes with
	// eksctl; the tests give the local control plane's.
	Kubeconfig string
	// Charts says where each chart comes from. The zero value is the
	// upstream repositories (what runs on AWS and what the runbook shows);
	// the tests give chart directories of the same shape.
	Charts addons.Source
	// Timeout is helm's --timeout per release, and kubectl's wait when
	// deleting; 0 means addons.DefaultTimeout.
	Timeout time.Duration
	// EKS is what RemoveReplacedAddons reads in AWS (the cluster's EKS
	// add-ons); nil means the run's AWS handle.
	EKS EKSExtraAPI
	// DB is what KeepAppDatabaseRole reads and writes in AWS (the
	// database secret's versions, the master secret); nil means the run's
	// AWS handle.
	DB DBRoleAPI
}

// KubeconfigFile is the kubeconfig's name in the run directory.
const KubeconfigFile = "kubeconfig"

// AppValuesFile is the app chart's values overlay in the run directory.
const AppValuesFile = "values/sovd-webapp.yaml"

func (o AddonOptions) kubeconfig(st *State) string {
	if o.Kubeconfig != "" {
		return o.Kubeconfig
	}
	return st.Path(KubeconfigFile)
}

// describedKubeconfig is the kubeconfig as plans and the runbook show it.
func (o AddonOptions) describedKubeconfig(st *State) string {
	if o.Kubeconfig != "" {
		return o.Kubeconfig
	}
	return st.RelPath(KubeconfigFile)
}

// AddonSteps are the add-on steps proper: everything after the live
// environment has been read (account, network, data tier outputs).
func AddonSteps(o AddonOptions) []Step {
	return append(AddonReleaseSteps(o),
		KeepAppDatabaseRole{AWS: o.DB, Options: o}, // the app's own role in the database, its password in <prefix>/database, rotated when due
		ApplySecretManifests{Options: o},           // app namespace, ClusterSecretStore, the app's ExternalSecret
		WriteAppValues{},                           // .bootstrap/<env>/values/sovd-webapp.yaml
	)
}

// AddonReleaseSteps install the charts: they need the cluster and its
// network, not the data tier, so `up` runs them as soon as eksctl is done.
func AddonReleaseSteps(o AddonOptions) []Step {
	var steps []Step
	if o.Kubeconfig == "" {
		steps = append(steps, WriteKubeconfig{}) // .bootstrap/<env>/kubeconfig, with eksctl
	}
	if len(o.Charts.Repos(addons.Charts())) > 0 {
		steps = append(steps, AddChartRepos{Options: o}) // helm repo add, helm repo update
	}
	steps = append(steps, ApplyChartCRDs{Options: o})       // crds/ of the load balancer controller, server-side
	steps = append(steps, RemoveReplacedAddons{AWS: o.EKS}) // eksctl delete addon metrics-server, when eksctl's defaults made it
	for _, a := range addons.All {
		steps = append(steps, InstallRelease{Options: o, Chart: a}) // metrics-server, load balancer controller, External Secrets
	}
	return steps
}

// AddonTeardownSteps remove what AddonSteps made, in reverse: the app's
// ExternalSecret, store and namespace while External Secrets still runs,
// then each release, then the CRDs Helm leaves behind.
func AddonTeardownSteps(o AddonOptions) []Step {
	var steps []Step
	if o.Kubeconfig == "" {
		steps = append(steps, WriteKubeconfig{})
	}
	steps = append(steps, DeleteSecretManifests{Options: o})
	for i := len(addons.All) - 1; i >= 0; i-- {
		steps = append(steps, UninstallRelease{Options: o, Chart: addons.All[i]})
	}
	if len(o.Charts.Repos(crdCharts())) > 0 {
		steps = append(steps, AddChartRepos{Options: o, charts: crdCharts()})
	}
	steps = append(steps, DeleteChartCRDs{Options: o})
	return steps
}

func helmCmd(st *State, args []string, stdout *bytes.Buffer) proc.Cmd {
	c := proc.Cmd{Name: st.Tool("helm"), Args: args}
	if stdout != nil {
		c.Stdout = stdout
	}
	return c
}

func kubectlCmd(st *State, args []string) proc.Cmd {
	return proc.Cmd{Name: st.Tool("kubectl"), Args: args}
}

func writeFile(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// live is what the add-ons' values need from the live environment. Run
// needs what the add-on's record says it needs (addons.Needs) known;
// Describe shows placeholders.
func live(st *State, a addons.Addon, describe bool) (addons.Live, error) {
	l := addons.Live{AccountID: st.AccountID, VPCID: "<vpc-id>", HostedZoneID: clusterLive(st).HostedZoneID}
	if st.Network != nil && st.Network.VPCID != "" {
		l.VPCID = st.Network.VPCID
	}
	if describe {
		l.AccountID = st.Account()
		return l, nil
	}
	var errs []error
	if why := a.Needs.HostedZoneID; why != "" && st.Profile.App.Domain != "" && st.HostedZoneID == "" {
		errs = append(errs, fmt.Errorf("the hosted zone of app.domain %s is not known (%s): set app.hostedZoneID, or create the zone", st.Profile.App.Domain, why))
	}
	if why := a.Needs.AccountID; why != "" && st.AccountID == "" {
		errs = append(errs, fmt.Errorf("the AWS account ID is not known (%s)", why))
	}
	if why := a.Needs.VPCID; why != "" && (st.Network == nil || st.Network.VPCID == "") {
		errs = append(errs, fmt.Errorf("the cluster's VPC is not known (%s): is cluster %s there? bootstrap cluster --env %s makes it", why, st.Profile.Cluster.Name, st.Profile.Name))
	}
	return l, errors.Join(errs...)
}

// dataOutputs are the data tier's outputs from State.Data, or placeholders
// when describing without them.
func dataOutputs(st *State, describe bool) (stateful.DataOutputs, error) {
	if st.Data == nil {
		if describe {
			return stateful.PlaceholderOutputs(st.Profile), nil
		}
		return stateful.DataOutputs{}, fmt.Errorf("the data tier's Terraform outputs are not read: bootstrap data --env %s applies the data tier and reads them", st.Profile.Name)
	}
	return *st.Data, nil
}

// releaseStatus asks helm for the release of c: nil when there is none.
func releaseStatus(ctx context.Context, st *State, c addons.Chart, kubeconfig string) (*addons.ReleaseStatus, error) {
	var out bytes.Buffer
	if err := st.Runner.Run(ctx, helmCmd(st, addons.List(c, kubeconfig), &out)); err != nil {
		return nil, fmt.Errorf("reading the status of release %s: %w", c.Release, err)
	}
	return addons.ParseList(c, out.Bytes())
}

// WriteKubeconfig writes the cluster's kubeconfig into the run directory with
// eksctl, for helm and kubectl, leaving ~/.kube/config alone. Rewriting it
// is harmless.
type WriteKubeconfig struct{}

// Name implements Step.
func (WriteKubeconfig) Name() string { return "Writing the cluster's kubeconfig" }

// Run implements Step.
func (WriteKubeconfig) Run(ctx context.Context, st *State) error {
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		return fmt.Errorf("creating the run directory: %w", err)
	}
	p := st.Profile
	return st.Runner.Run(ctx, eksctlCmd(st, eksctl.WriteKubeconfig(p.Cluster.Name, p.Region, st.Path(KubeconfigFile))))
}

// Describe implements Describer.
func (WriteKubeconfig) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	return Description{Actions: []Action{eksctlAction(eksctl.WriteKubeconfig(p.Cluster.Name, p.Region, st.RelPath(KubeconfigFile)),
		"a kubeconfig for helm and kubectl, in the run directory")}}, nil
}

// ReadAddonInputs reads what the add-ons' values need from AWS when no
// earlier step of the run has: the account ID (the IRSA role ARNs are made
// of it) and the cluster's VPC (the load balancer controller is told it).
// Changes nothing.
type ReadAddonInputs struct {
	AWS ClusterAPI
	// Zones finds the hosted zone of app.domain (external-dns's values and
	// role name it) unless an earlier step did; nil means the run's handle.
	Zones HostedZoneAPI
}

// Name implements Step.
func (ReadAddonInputs) Name() string { return "Reading the account and the cluster's VPC" }

// Run implements Step.
func (s ReadAddonInputs) Run(ctx context.Context, st *State) error {
	if st.Profile.App.Domain != "" && st.HostedZoneID == "" {
		zones, err := apiOf(ctx, st, s.Zones)
		if err != nil {
			return err
		}
		if err := ResolveHostedZone(ctx, zones, st); err != nil {
			return err
		}
	}
	if st.AccountID != "" && st.Network != nil {
		return nil
	}
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	if _, err := st.LiveAccount(ctx, api); err != nil {
		return err
	}
	if _, err := st.LiveNetwork(ctx, api); err != nil {
		return err
	}
	return nil
}

// Describe implements Describer.
func (ReadAddonInputs) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	return Description{Actions: []Action{
		{Tool: "aws", Args: []string{"sts", "get-caller-identity", "--query", "Account", "--output", "text"},
			Note: "the account ID the IRSA role ARNs are made of (bootstrap asks STS, unless an earlier step of the run did)"},
		eksctlAction(eksctl.GetCluster(p.Cluster.Name, p.Region), "the cluster's VPC ID, for the load balancer controller's vpcId (bootstrap reads it from the EKS API)"),
	}}, nil
}

// AddChartRepos adds the chart repositories of the pins to helm and fetches
// their indexes. Repositories already added are refreshed, not duplicated.
type AddChartRepos struct {
	Options AddonOptions
	// charts are the charts whose repositories are added; nil means all.
	charts []addons.Chart
}

// Name implements Step.
func (AddChartRepos) Name() string { return "Adding the Helm chart repositories" }

func (s AddChartRepos) argv() [][]string {
	charts := s.charts
	if charts == nil {
		charts = addons.Charts()
	}
	var out [][]string
	var names []string
	for _, c := range s.Options.Charts.Repos(charts) {
		out = append(out, addons.RepoAdd(c))
		names = append(names, c.RepoName)
	}
	if len(names) > 0 {
		out = append(out, addons.RepoUpdate(names...))
	}
	return out
}

// Run implements Step.
func (s AddChartRepos) Run(ctx context.Context, st *State) error {
	for _, args := range s.argv() {
		if err := st.Runner.Run(ctx, helmCmd(st, args, nil)); err != nil {
			return fmt.Errorf("adding the chart repositories: %w", err)
		}
	}
	return nil
}

// Describe implements Describer.
func (s AddChartRepos) Describe(context.Context, *State) (Description, error) {
	var actions []Action
	for _, args := range s.argv() {
		actions = append(actions, Action{Tool: "helm", Args: args})
	}
	return Description{Actions: actions}, nil
}

// crdCharts are the charts of the add-ons that ship CRDs in crds/.
func crdCharts() []addons.Chart {
	var out []addons.Chart
	for _, a := range addons.WithCRDsDir() {
		out = append(out, a.Chart)
	}
	return out
}

// pullDir is where a chart is unpacked for its CRDs: one directory per
// chart version, emptied before each pull (helm pull --untar refuses to
// unpack over an existing one).
func pullDir(st *State, c addons.Chart) string { return st.Path(pullDirName(c)) }

func pullDirName(c addons.Chart) string { return filepath.Join("charts", c.Chart+"-"+c.Version) }

// crdsDir fetches (upstream) or finds (local) the crds/ directory of c.
func crdsDir(ctx context.Context, st *State, o AddonOptions, c addons.Chart) (string, error) {
	dir := pullDir(st, c)
	if !o.Charts.IsLocal(c) {
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("emptying %s: %w", dir, err)
		}
		if err := st.Runner.Run(ctx, helmCmd(st, addons.Pull(c, dir), nil)); err != nil {
			return "", fmt.Errorf("fetching chart %s %s for its CRDs: %w", c.Chart, c.Version, err)
		}
	}
	return o.Charts.CRDsDir(c, dir), nil
}

func crdsActions(st *State, o AddonOptions, c addons.Chart) (dir string, actions []Action) {
	pd := st.RelPath(pullDirName(c))
	if !o.Charts.IsLocal(c) {
		actions = append(actions,
			Action{Tool: "rm", Args: []string{"-rf", pd},
				Note: fmt.Sprintf("the %s chart, unpacked for its crds/ directory into an empty directory (helm pull --untar refuses an existing one)", c.Chart)},
			Action{Tool: "helm", Args: addons.Pull(c, pd)})
	}
	return o.Charts.CRDsDir(c, pd), actions
}

// ApplyChartCRDs applies the CRDs of the charts that ship them in crds/
// (the load balancer controller) server-side, before the charts are
// installed or upgraded: Helm creates crds/ on a first install and never
// upgrades them, so an upgraded controller would otherwise run against old
// CRDs. Applying CRDs that are already right changes nothing.
type ApplyChartCRDs struct {
	Options AddonOptions
}

// Name implements Step.
func (ApplyChartCRDs) Name() string { return "Applying the CRDs Helm does not upgrade" }

// Run implements Step.
func (s ApplyChartCRDs) Run(ctx context.Context, st *State) error {
	kc := s.Options.kubeconfig(st)
	for _, c := range crdCharts() {
		dir, err := crdsDir(ctx, st, s.Options, c)
		if err != nil {
			return err
		}
		if err := st.Runner.Run(ctx, kubectlCmd(st, addons.KubectlApply(dir, kc))); err != nil {
			return fmt.Errorf("applying the CRDs of %s %s: %w", c.Chart, c.Version, err)
		}
	}
	return nil
}

// Describe implements Describer.
func (s ApplyChartCRDs) Describe(_ context.Context, st *State) (Description, error) {
	var actions []Action
	for _, c := range crdCharts() {
		dir, pull := crdsActions(st, s.Options, c)
		actions = append(actions, pull...)
		actions = append(actions, Action{Tool: "kubectl", Args: addons.KubectlApply(dir, s.Options.describedKubeconfig(st)),
			Note: "server-side, before helm upgrade: helm installs a chart's crds/ only on the first install and never upgrades them"})
	}
	return Description{Actions: actions}, nil
}

// InstallRelease brings the release of one pinned chart to its pin and
// values with `helm upgrade --install --atomic --wait`. When the release
// already runs that chart version with those values it does nothing, so a
// re-run makes no new revision. A failed upgrade is rolled back by helm
// (--atomic) and leaves the releases installed before it as they were.
type InstallRelease struct {
	Options AddonOptions
	// Chart is the add-on: its record (addons.All).
	Chart addons.Addon
}

// Name implements Step.
func (s InstallRelease) Name() string {
	return fmt.Sprintf("Installing %s %s with Helm", s.Chart.Release, s.Chart.Version)
}

func (s InstallRelease) valuesName() string { return filepath.Join("values", s.Chart.Release+".yaml") }

// Run implements Step.
func (s InstallRelease) Run(ctx context.Context, st *State) error {
	a := s.Chart
	c := a.Chart
	l, err := live(st, a, false)
	if err != nil {
		return fmt.Errorf("values of %s: %w", c.Release, err)
	}
	values := a.Values(st.Profile, l)
	content, err := addons.ValuesYAML(a, st.Profile, l)
	if err != nil {
		return err
	}
	path := st.Path(s.valuesName())
	if err := writeFile(path, content); err != nil {
		return err
	}
	kc := s.Options.kubeconfig(st)
	rel, err := releaseStatus(ctx, st, c, kc)
	if err != nil {
		return err
	}
	if rel != nil && rel.Pending() {
		return fmt.Errorf("release %s in namespace %s is %s: a helm run was interrupted; "+
			"run `helm rollback %s --namespace %s` (or `helm uninstall %s --namespace %s` if it never deployed), then run this again",
			c.Release, c.Namespace, rel.Status, c.Release, c.Namespace, c.Release, c.Namespace)
	}
	if rel != nil && rel.Status == addons.StatusDeployed && rel.Chart == c.NameVersion() {
		var got bytes.Buffer
		if err := st.Runner.Run(ctx, helmCmd(st, addons.GetValues(c, kc), &got)); err != nil {
			return fmt.Errorf("reading the values of release %s: %w", c.Release, err)
		}
		same, err := addons.UpToDate(c, rel, got.Bytes(), values)
		if err != nil {
			return err
		}
		if same {
			st.Progress.Info("%s is already %s with these values (revision %s): nothing to do", c.Release, c.NameVersion(), rel.Revision)
			return nil
		}
	}
	if a.NeedsAppNamespace {
		if err := s.applyAppNamespace(ctx, st, kc); err != nil {
			return err
		}
	}
	args := addons.UpgradeInstall(c, s.Options.Charts.Ref(c), path, s.Options.Timeout, kc)
	if err := st.Runner.Run(ctx, helmCmd(st, args, nil)); err != nil {
		return fmt.Errorf("helm upgrade --install %s (rolled back by --atomic; the releases before it are untouched): %w", c.Release, err)
	}
	return nil
}

// Describe implements Describer.
func (s InstallRelease) Describe(_ context.Context, st *State) (Description, error) {
	a := s.Chart
	c := a.Chart
	l, _ := live(st, a, true)
	content, err := addons.ValuesYAML(a, st.Profile, l)
	if err != nil {
		return Description{}, err
	}
	path := st.RelPath(s.valuesName())
	kc := s.Options.describedKubeconfig(st)
	install := Action{
		Tool:  "helm",
		Args:  addons.UpgradeInstall(c, s.Options.Charts.Ref(c), path, s.Options.Timeout, kc),
		Files: []File{{Path: path, Content: string(content)}},
		Note: fmt.Sprintf("chart %s %s, app %s; skipped when `helm list` shows it deployed at this version and `helm get values` shows these values",
			c.Chart, c.Version, c.AppVersion),
	}
	if !a.NeedsAppNamespace {
		return Description{Actions: []Action{install}}, nil
	}
	content, err = appNamespaceYAML(st)
	if err != nil {
		return Description{}, err
	}
	nsPath := st.RelPath(AppNamespaceFile)
	ns := Action{
		Tool:  "kubectl",
		Args:  addons.KubectlApply(nsPath, kc),
		Files: []File{{Path: nsPath, Content: string(content)}},
		Note:  fmt.Sprintf("namespace %s first: %s's chart makes objects in it", st.Profile.App.Namespace, c.Release),
	}
	return Description{Actions: []Action{ns, install}}, nil
}

// AppNamespaceFile is the app's namespace alone, in the run directory: an
// add-on whose chart makes objects there (addons.Addon.NeedsAppNamespace)
// is installed after it exists, before the External Secrets manifests
// (which hold the same object) are applied.
const AppNamespaceFile = "manifests/app-namespace.yaml"

func appNamespaceYAML(st *State) ([]byte, error) {
	b, err := yaml.Marshal(addons.AppNamespace(st.Profile))
	if err != nil {
		return nil, fmt.Errorf("rendering namespace %s: %w", st.Profile.App.Namespace, err)
	}
	return b, nil
}

// applyAppNamespace applies the app's namespace server-side; applying it
// again changes nothing.
func (s InstallRelease) applyAppNamespace(ctx context.Context, st *State, kubeconfig string) error {
	content, err := appNamespaceYAML(st)
	if err != nil {
		return err
	}
	path := st.Path(AppNamespaceFile)
	if err := writeFile(path, content); err != nil {
		return err
	}
	if err := st.Runner.Run(ctx, kubectlCmd(st, addons.KubectlApply(path, kubeconfig))); err != nil {
		return fmt.Errorf("applying namespace %s (%s's chart makes objects in it): %w", st.Profile.App.Namespace, s.Chart.Release, err)
	}
	return nil
}

// ManifestsFile is the External Secrets manifests' file in the run directory.
const ManifestsFile = "manifests/external-secrets.yaml"

// ApplySecretManifests applies, server-side, the app's namespace, the
// ClusterSecretStore for AWS Secrets Manager and the ExternalSecret that
// builds the app's Secret. External Secrets must be running: its webhook
// validates both. Applying what is there changes nothing.
type ApplySecretManifests struct {
	Options AddonOptions
}

// Name implements Step.
func (ApplySecretManifests) Name() string {
	return "Applying the ClusterSecretStore and the app's ExternalSecret"
}

// Run implements Step.
func (s ApplySecretManifests) Run(ctx context.Context, st *State) error {
	out, err := dataOutputs(st, false)
	if err != nil {
		return err
	}
	if st.AccountID == "" {
		return errors.New("the AWS account ID is not known (the External Secrets role ARN needs it)")
	}
	content, err := addons.Manifests(st.Profile, out, st.AccountID)
	if err != nil {
		return err
	}
	path := st.Path(ManifestsFile)
	if err := writeFile(path, content); err != nil {
		return err
	}
	if err := st.Runner.Run(ctx, kubectlCmd(st, addons.KubectlApply(path, s.Options.kubeconfig(st)))); err != nil {
		return fmt.Errorf("applying the External Secrets manifests: %w", err)
	}
	return nil
}

// Describe implements Describer.
func (s ApplySecretManifests) Describe(_ context.Context, st *State) (Description, error) {
	out, err := dataOutputs(st, true)
	if err != nil {
		return Description{}, err
	}
	content, err := addons.Manifests(st.Profile, out, st.Account())
	if err != nil {
		return Description{}, err
	}
	path := st.RelPath(ManifestsFile)
	return Description{Actions: []Action{{
		Tool:  "kubectl",
		Args:  addons.KubectlApply(path, s.Options.describedKubeconfig(st)),
		Files: []File{{Path: path, Content: string(content)}},
		Note: fmt.Sprintf("namespace %s, the ServiceAccount %s/%s that carries External Secrets' role and runs no pod, ClusterSecretStore %s (Secrets Manager in %s, with that ServiceAccount's token), ExternalSecret %s (DATABASE_URL, REDIS_URL, JWT_SECRET from %s/* only: the app role's login and password from its database secret, never the RDS master secret)",
			st.Profile.App.Namespace, addons.ExternalSecrets.Namespace, addons.ExternalSecretsStoreServiceAccount, addons.SecretStoreName, st.Profile.Region, addons.AppSecretName, st.Profile.Secrets.Prefix),
	}}}, nil
}

// WriteAppValues writes the values overlay for the app's chart
// (.bootstrap/<env>/values/sovd-webapp.yaml) from the data tier's outputs:
// what `bootstrap values` prints. Rewriting it is harmless.
type WriteAppValues struct{}

// Name implements Step.
func (WriteAppValues) Name() string { return "Writing the app's Helm values overlay" }

func appOverlay(st *State, describe bool) (addons.AppValues, error) {
	out, err := dataOutputs(st, describe)
	if err != nil {
		return addons.AppValues{}, err
	}
	acct := st.AccountID
	if describe {
		acct = st.Account()
	} else if acct == "" {
		return addons.AppValues{}, errors.New("the AWS account ID is not known (the app's IRSA role ARN needs it)")
	}
	return addons.AppOverlay(st.Profile, out, acct)
}

// Run implements Step.
func (WriteAppValues) Run(_ context.Context, st *State) error {
	v, err := appOverlay(st, false)
	if err != nil {
		return err
	}
	content, err := v.YAML()
	if err != nil {
		return err
	}
	for _, w := range v.Warnings() {
		st.Progress.Info("warning: %s", w)
	}
	path := st.Path(AppValuesFile)
	if err := writeFile(path, content); err != nil {
		return err
	}
	st.Progress.Info("values for the app's chart: %s (helm upgrade --install ... -f values-production.yaml -f %s)", path, path)
	return nil
}

// Describe implements Describer.
func (WriteAppValues) Describe(_ context.Context, st *State) (Description, error) {
	v, err := appOverlay(st, true)
	if err != nil {
		return Description{}, err
	}
	content, err := v.YAML()
	if err != nil {
		return Description{}, err
	}
	return Description{Actions: []Action{{
		Tool:  "terraform",
		Args:  []string{"-chdir=terraform/stateful", "output", "-json"},
		Files: []File{{Path: st.RelPath(AppValuesFile), Content: string(content)}},
		Note:  "the data tier's outputs the overlay for the app's chart is made of (bootstrap values --env " + st.Profile.Name + " prints it); give it after the chart's values-production.yaml",
	}}}, nil
}

// DeleteSecretManifests deletes the app's ExternalSecret (its Secret goes
// with it), the ClusterSecretStore and the app's namespace. With External
// Secrets already uninstalled their CRDs, and so they, are gone: only the
// namespace is left to delete. What is already gone is success.
type DeleteSecretManifests struct {
	Options AddonOptions
}

// Name implements Step.
func (DeleteSecretManifests) Name() string {
	return "Deleting the app's ExternalSecret, the ClusterSecretStore and the app's namespace"
}

// Run implements Step.
func (s DeleteSecretManifests) Run(ctx context.Context, st *State) error {
	kc := s.Options.kubeconfig(st)
	rel, err := releaseStatus(ctx, st, addons.ExternalSecrets.Chart, kc)
	if err != nil {
		return err
	}
	if rel == nil {
		st.Progress.Info("External Secrets is not installed: its resources went with its CRDs")
		if err := st.Runner.Run(ctx, kubectlCmd(st, addons.KubectlDeleteNamespace(st.Profile.App.Namespace, s.Options.Timeout, kc))); err != nil {
			return fmt.Errorf("deleting namespace %s: %w", st.Profile.App.Namespace, err)
		}
		return nil
	}
	// Only names matter to a delete: render with what is known.
	out, err := dataOutputs(st, true)
	if err != nil {
		return err
	}
	content, err := addons.Manifests(st.Profile, out, st.Account())
	if err != nil {
		return err
	}
	path := st.Path(ManifestsFile)
	if err := writeFile(path, content); err != nil {
		return err
	}
	if err := st.Runner.Run(ctx, kubectlCmd(st, addons.KubectlDelete(path, s.Options.Timeout, kc))); err != nil {
		return fmt.Errorf("deleting the External Secrets manifests: %w", err)
	}
	return nil
}

// Describe implements Describer.
func (s DeleteSecretManifests) Describe(_ context.Context, st *State) (Description, error) {
	return Description{Actions: []Action{{
		Tool: "kubectl",
		Args: addons.KubectlDelete(st.RelPath(ManifestsFile), s.Options.Timeout, s.Options.describedKubeconfig(st)),
		Note: "the file bootstrap addons applied; while External Secrets still runs, so that its webhook admits the deletes",
	}}}, nil
}

// UninstallRelease uninstalls the release of one pinned chart and waits for
// its resources to go, then deletes the namespace it was installed into
// with --create-namespace (never kube-system). A release already gone is
// success.
type UninstallRelease struct {
	Options AddonOptions
	// Chart is the add-on: its record (addons.All).
	Chart addons.Addon
}

// Name implements Step.
func (s UninstallRelease) Name() string { return "Uninstalling " + s.Chart.Release }

// ownNamespace reports whether the release has a namespace of its own.
func ownNamespace(c addons.Chart) bool {
	return c.Namespace != "kube-system" && c.Namespace != "default"
}

// Run implements Step.
func (s UninstallRelease) Run(ctx context.Context, st *State) error {
	c := s.Chart.Chart
	kc := s.Options.kubeconfig(st)
	rel, err := releaseStatus(ctx, st, c, kc)
	if err != nil {
		return err
	}
	if rel == nil {
		st.Progress.Info("release %s is already gone", c.Release)
	} else if err := st.Runner.Run(ctx, helmCmd(st, addons.Uninstall(c, s.Options.Timeout, kc), nil)); err != nil {
		return fmt.Errorf("uninstalling %s: %w", c.Release, err)
	}
	if ownNamespace(c) {
		if err := st.Runner.Run(ctx, kubectlCmd(st, addons.KubectlDeleteNamespace(c.Namespace, s.Options.Timeout, kc))); err != nil {
			return fmt.Errorf("deleting namespace %s: %w", c.Namespace, err)
		}
	}
	return nil
}

// Describe implements Describer.
func (s UninstallRelease) Describe(_ context.Context, st *State) (Description, error) {
	c := s.Chart.Chart
	kc := s.Options.describedKubeconfig(st)
	actions := []Action{{Tool: "helm", Args: addons.Uninstall(c, s.Options.Timeout, kc), Note: "skipped when `helm status` does not find it",
		If: []string{"helm", "status", c.Release, "--namespace", c.Namespace, "--kubeconfig", kc}}}
	if ownNamespace(c) {
		actions = append(actions, Action{Tool: "kubectl", Args: addons.KubectlDeleteNamespace(c.Namespace, s.Options.Timeout, kc),
			Note: "helm install --create-namespace made it; helm uninstall leaves it"})
	}
	return Description{Actions: actions}, nil
}

// DeleteChartCRDs deletes the CRDs ApplyChartCRDs applied: Helm never
// deletes a chart's crds/. It runs after the load balancer controller is
// uninstalled, when teardown's first step has deleted the Ingresses and
// Services whose TargetGroupBindings the controller finalizes.
type DeleteChartCRDs struct {
	Options AddonOptions
}

// Name implements Step.
func (DeleteChartCRDs) Name() string { return "Deleting the CRDs Helm leaves behind" }

// Run implements Step.
func (s DeleteChartCRDs) Run(ctx context.Context, st *State) error {
	kc := s.Options.kubeconfig(st)
	for _, c := range crdCharts() {
		dir, err := crdsDir(ctx, st, s.Options, c)
		if err != nil {
			return err
		}
		if err := st.Runner.Run(ctx, kubectlCmd(st, addons.KubectlDelete(dir, s.Options.Timeout, kc))); err != nil {
			return fmt.Errorf("deleting the CRDs of %s: %w", c.Chart, err)
		}
	}
	return nil
}

// Describe implements Describer.
func (s DeleteChartCRDs) Describe(_ context.Context, st *State) (Description, error) {
	var actions []Action
	for _, c := range crdCharts() {
		dir, pull := crdsActions(st, s.Options, c)
		actions = append(actions, pull...)
		actions = append(actions, Action{Tool: "kubectl", Args: addons.KubectlDelete(dir, s.Options.Timeout, s.Options.describedKubeconfig(st)),
			Note: "helm uninstall never deletes a chart's crds/"})
	}
	return Description{Actions: actions}, nil
}
