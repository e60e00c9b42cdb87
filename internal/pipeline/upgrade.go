package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
)

// The upgrade: an environment made earlier brought to what the profile and
// the pins say now, in the order that keeps it running. Preflight refuses
// what cannot be done safely before anything changes; then the control
// plane one minor at a time, the EKS add-ons to versions EKS lists for the
// new minor, the managed node group (a rolling update that respects
// PodDisruptionBudgets), the IRSA policies, the Helm add-ons (the addons
// steps: CRDs first, then helm upgrade, so a pin bump is an upgrade too),
// and the data tier's minor versions through Terraform (the data steps).
// Every step reads the live version first and does nothing when it is
// already there, so an interrupted upgrade is finished by running it again.

// UpgradeAPI is what the upgrade steps read from AWS. *cloud.Clients is the
// real one.
type UpgradeAPI interface {
	ClusterFacts(ctx context.Context, name string) (cloud.ClusterFacts, error)
	NodeGroupFacts(ctx context.Context, cluster, name string) (cloud.NodeGroupFacts, error)
	AddonFacts(ctx context.Context, cluster, name string) (cloud.AddonFacts, error)
	LatestAddonVersion(ctx context.Context, addon, kubernetesVersion string) (string, error)
	DBFacts(ctx context.Context, id string) (cloud.DBFacts, error)
	RedisEngineVersion(ctx context.Context, groupID string) (string, error)
}

// UpgradeSteps is `bootstrap upgrade`.
func UpgradeSteps() []Step { return UpgradeStepsWith(AddonOptions{}, false) }

// DatabaseMajorUpgradeSteps is `bootstrap upgrade --allow-database-major`:
// the same steps, a PostgreSQL major allowed (dbmajor.go).
func DatabaseMajorUpgradeSteps() []Step { return UpgradeStepsWith(AddonOptions{}, true) }

// UpgradeStepsWith is UpgradeSteps with the add-ons' options (tests: local
// charts and control plane) and whether a PostgreSQL major upgrade is
// allowed: a manual snapshot, then the data tier's apply with
// allow_major_version_upgrade.
func UpgradeStepsWith(o AddonOptions, allowDatabaseMajor bool) []Step {
	steps := []Step{
		CheckOwnership{}, // nothing changes unless its tags say it is this environment's
		CheckEksctl{},    // eksctl version >= eksctl.MinVersion
	}
	if o.Kubeconfig == "" {
		steps = append(steps, WriteKubeconfig{}) // preflight reads the API server's metrics
	}
	steps = append(steps,
		PreflightUpgrade{Options: o, AllowDatabaseMajor: allowDatabaseMajor}, // live versions; refuses skew, pins, removed APIs, a database major unless allowed
		UpgradeControlPlane{},        // eksctl upgrade cluster, one minor per call
		UpdateEKSAddons{},            // eksctl update addon --version latest, for the new minor
		UpgradeNodeGroup{Options: o}, // eksctl upgrade nodegroup: rolling, PodDisruptionBudgets respected
		UpdateIRSAPolicies{},         // the IRSA roles' policies as the pins say
		ReadAddonInputs{},            // account and VPC for the charts' values
		ReadDataOutputs{},            // the data tier's outputs for the secret manifests and the overlay
	)
	for _, s := range AddonSteps(o) { // CRDs, then helm upgrade --install per pin
		if _, dup := s.(WriteKubeconfig); !dup {
			steps = append(steps, s)
		}
	}
	if !allowDatabaseMajor {
		return append(steps, DataSteps()...) // terraform apply: the engines' minor versions as the profile says
	}
	for _, s := range DataSteps() {
		if _, ok := s.(ApplyData); ok {
			steps = append(steps,
				SnapshotBeforeMajor{},               // a manual snapshot, tagged, waited for; not again when it exists
				ApplyData{AllowDatabaseMajor: true}, // the new family's parameter group first, then the major, in one apply
			)
			continue
		}
		steps = append(steps, s)
	}
	return steps
}

// minor parses a Kubernetes version ("1.35", "1.35.2", "v1.35.0-eks-...")
// into its minor number.
func minor(v string) (int, error) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 || parts[0] != "1" {
		return 0, fmt.Errorf("%q is not a Kubernetes 1.x version", v)
	}
	return strconv.Atoi(parts[1])
}

func minorString(m int) string { return "1." + strconv.Itoa(m) }

// LiveVersions are the versions an environment runs, as AWS and Helm report
// them.
type LiveVersions struct {
	ControlPlane string
	NodeGroup    cloud.NodeGroupFacts
	// Addons are the cluster's EKS add-ons that bootstrap lists.
	Addons []cloud.AddonFacts
	// Releases are chart-version by release, for the pinned charts.
	Releases map[string]string
	// Database and Redis are the engines' versions ("15.7", "7.1.0").
	Database, Redis string
}

func readLive(ctx context.Context, api UpgradeAPI, st *State, kubeconfig string) (LiveVersions, error) {
	p := st.Profile
	var live LiveVersions
	cl, err := api.ClusterFacts(ctx, p.Cluster.Name)
	if err != nil {
		return live, err
	}
	if !cl.Exists {
		return live, fmt.Errorf("cluster %s does not exist in %s: there is nothing to upgrade (bootstrap up --env %s makes the environment)", p.Cluster.Name, p.Region, p.Name)
	}
	live.ControlPlane = cl.Version
	if live.NodeGroup, err = api.NodeGroupFacts(ctx, p.Cluster.Name, p.Cluster.NodeGroup.Name); err != nil {
		return live, err
	}
	for _, name := range eksctl.ClusterAddonNames(p.Region, addons.EKSAddonsReplaced()) {
		a, err := api.AddonFacts(ctx, p.Cluster.Name, name)
		if err != nil {
			return live, err
		}
		live.Addons = append(live.Addons, a)
	}
	live.Releases = map[string]string{}
	for _, c := range addons.Charts() {
		rs, err := releaseStatus(ctx, st, c, kubeconfig)
		if err != nil {
			return live, err
		}
		if rs != nil {
			live.Releases[c.Release] = rs.Chart
		}
	}
	db, err := api.DBFacts(ctx, p.Database.Identifier)
	if err != nil {
		return live, err
	}
	live.Database = db.EngineVersion
	if live.Redis, err = api.RedisEngineVersion(ctx, p.Redis.ReplicationGroupID); err != nil {
		return live, err
	}
	return live, nil
}

// Lines are the live versions beside what the profile and pins say.
func (l LiveVersions) Lines(p *config.Profile) []string {
	arrow := func(have, want string) string {
		if have == want {
			return have + " (as the profile says)"
		}
		if have == "" {
			have = "none"
		}
		return have + " -> " + want
	}
	out := []string{
		"control plane: " + arrow(l.ControlPlane, p.Cluster.KubernetesVersion),
		"node group " + p.Cluster.NodeGroup.Name + ": " + arrow(l.NodeGroup.Version, p.Cluster.KubernetesVersion) + ", AMI release " + orNone(l.NodeGroup.ReleaseVersion),
	}
	for _, a := range l.Addons {
		out = append(out, "EKS add-on "+a.Name+": "+orNone(a.Version)+" (to the newest EKS lists for "+p.Cluster.KubernetesVersion+")")
	}
	for _, c := range addons.Charts() {
		out = append(out, "Helm release "+c.Release+": "+arrow(l.Releases[c.Release], c.NameVersion()))
	}
	out = append(out, "PostgreSQL: "+orNone(l.Database)+" (profile: "+p.Database.EngineVersion+")",
		"Redis: "+orNone(l.Redis)+" (profile: "+p.Redis.EngineVersion+")")
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// DeprecatedAPI is one series of the API server's
// apiserver_requested_deprecated_apis metric: a deprecated group-version-
// resource some client requested since the server started, and the
// release that removes it.
type DeprecatedAPI struct {
	Group, Version, Resource, Subresource string
	// RemovedRelease is the Kubernetes minor that stops serving it
	// ("1.32"), "" when none is planned.
	RemovedRelease string
}

func (d DeprecatedAPI) String() string {
	gv := d.Version
	if d.Group != "" {
		gv = d.Group + "/" + d.Version
	}
	r := d.Resource
	if d.Subresource != "" {
		r += "/" + d.Subresource
	}
	return r + " " + gv
}

// ParseDeprecatedAPIs reads the Prometheus text of the API server's
// /metrics for apiserver_requested_deprecated_apis (a gauge set to 1 per
// requested deprecated API, labels group, version, resource, subresource,
// removed_release; kubernetes.io/docs/reference/using-api/deprecation-guide).
func ParseDeprecatedAPIs(metrics []byte) []DeprecatedAPI {
	var out []DeprecatedAPI
	sc := bufio.NewScanner(bytes.NewReader(metrics))
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_requested_deprecated_apis{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 || strings.TrimSpace(line[end+1:]) == "0" {
			continue
		}
		labels := parseLabels(line[len("apiserver_requested_deprecated_apis{"):end])
		out = append(out, DeprecatedAPI{
			Group: labels["group"], Version: labels["version"], Resource: labels["resource"],
			Subresource: labels["subresource"], RemovedRelease: labels["removed_release"],
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		eq := strings.Index(s, `="`)
		if eq < 0 {
			break
		}
		key := strings.TrimLeft(s[:eq], ", ")
		rest := s[eq+2:]
		var val strings.Builder
		i := 0
		for ; i < len(rest); i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
				val.WriteByte(rest[i])
				continue
			}
			if rest[i] == '"' {
				break
			}
			val.WriteByte(rest[i])
		}
		out[key] = val.String()
		if i+1 >= len(rest) {
			break
		}
		s = rest[i+1:]
	}
	return out
}

// Refusal is one reason the upgrade will not start, and what to do.
type Refusal struct {
	Reason string `json:"reason"`
	Fix    string `json:"fix"`
}

// PreflightError is the preflight's refusals, all at once. Nothing has
// changed when it is returned.
type PreflightError struct {
	Env      string
	Refusals []Refusal
}

func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upgrade of environment %s refused before changing anything (%d problem(s)):", e.Env, len(e.Refusals))
	for _, r := range e.Refusals {
		fmt.Fprintf(&b, "\n  - %s\n    fix: %s", r.Reason, r.Fix)
	}
	return b.String()
}

// MaxKubeletSkew is how many minors a kubelet may be older than the API
// server: three since Kubernetes 1.28
// (kubernetes.io/releases/version-skew-policy, "kubelet"); a kubelet
// newer than the API server is not allowed.
const MaxKubeletSkew = 3

// Preflight checks, without changing anything, whether the environment
// can be brought from live to the profile: refusals stop the upgrade;
// warnings are said and do not. addonVersions answers whether EKS lists a
// version of an EKS add-on for the target minor.
// allowMajor is --allow-database-major.
func Preflight(p *config.Profile, live LiveVersions, deprecated []DeprecatedAPI, addonFor func(addon string) error, allowMajor bool) (refusals []Refusal, warnings []string) {
	return preflightWith(p, live, deprecated, addonFor, addons.Compats(), allowMajor)
}

func preflightWith(p *config.Profile, live LiveVersions, deprecated []DeprecatedAPI, addonFor func(addon string) error, compats map[string]addons.Compat, allowMajor bool) (refusals []Refusal, warnings []string) {
	target := p.Cluster.KubernetesVersion
	tm, err := minor(target)
	if err != nil {
		return []Refusal{{Reason: "environments." + p.Name + ".cluster.kubernetesVersion: " + err.Error(), Fix: "set a version such as 1.35"}}, nil
	}
	cm, err := minor(live.ControlPlane)
	if err != nil {
		return []Refusal{{Reason: "the control plane's version as EKS reports it: " + err.Error(), Fix: "check the cluster with `aws eks describe-cluster`"}}, nil
	}
	if tm < cm {
		refusals = append(refusals, Refusal{
			Reason: fmt.Sprintf("the control plane runs %s, newer than the profile's %s: bootstrap upgrade does not roll back", live.ControlPlane, target),
			Fix:    fmt.Sprintf("set environments.%s.cluster.kubernetesVersion to %s", p.Name, live.ControlPlane),
		})
	}
	if ng := live.NodeGroup; ng.Exists {
		nm, err := minor(ng.Version)
		switch {
		case err != nil:
			refusals = append(refusals, Refusal{Reason: "node group " + ng.Name + "'s version as EKS reports it: " + err.Error(), Fix: "check it with `aws eks describe-nodegroup`"})
		case nm > cm:
			refusals = append(refusals, Refusal{
				Reason: fmt.Sprintf("node group %s runs %s, newer than the control plane's %s, which Kubernetes does not allow", ng.Name, ng.Version, live.ControlPlane),
				Fix:    "upgrade the control plane to the nodes' version first (eksctl upgrade cluster), then run bootstrap upgrade again",
			})
		case tm-nm > MaxKubeletSkew:
			refusals = append(refusals, Refusal{
				Reason: fmt.Sprintf("node group %s runs %s: with the control plane at %s its kubelets would be %d minors behind, beyond the %d Kubernetes allows (version skew policy)", ng.Name, ng.Version, target, tm-nm, MaxKubeletSkew),
				Fix:    fmt.Sprintf("upgrade in stages: set kubernetesVersion to %s, run bootstrap upgrade, then set %s and run it again", minorString(nm+MaxKubeletSkew), target),
			})
		}
	}
	for _, c := range addons.Charts() {
		cp, ok := compats[c.NameVersion()]
		if !ok {
			refusals = append(refusals, Refusal{
				Reason: fmt.Sprintf("chart %s has no compatibility facts read at its version (its Chart.Compat)", c.NameVersion()),
				Fix:    "read the chart's Chart.yaml kubeVersion at its tag and set the pin's Compat (Version, KubeVersion, Checked) in its file in addons/",
			})
			continue
		}
		allowed, err := cp.Allows(target)
		switch {
		case err != nil:
			refusals = append(refusals, Refusal{Reason: fmt.Sprintf("chart %s: %v", c.NameVersion(), err), Fix: "state the chart's kubeVersion in a form addons.Compat reads"})
		case !allowed:
			refusals = append(refusals, Refusal{
				Reason: fmt.Sprintf("the pinned chart %s does not support Kubernetes %s (its kubeVersion is %q; Helm would refuse it after the control plane moved)", c.NameVersion(), target, cp.KubeVersion),
				Fix:    fmt.Sprintf("move the %s pin (addons/pins.go) to a version whose kubeVersion admits %s, then run bootstrap upgrade again", c.Chart, target),
			})
		case cp.TestedOn != "":
			if om, err := minor(cp.TestedOn); err == nil && tm > om {
				warnings = append(warnings, fmt.Sprintf("chart %s is tested upstream on Kubernetes %s only, not %s", c.NameVersion(), cp.TestedOn, target))
			}
		}
	}
	for _, a := range live.Addons {
		if !a.Exists || addonFor == nil {
			continue
		}
		if err := addonFor(a.Name); err != nil {
			refusals = append(refusals, Refusal{
				Reason: fmt.Sprintf("EKS add-on %s: %v", a.Name, err),
				Fix:    "choose a Kubernetes version EKS offers the add-on for",
			})
		}
	}
	for _, d := range deprecated {
		rm, err := minor(d.RemovedRelease)
		if err != nil || rm > tm {
			continue
		}
		refusals = append(refusals, Refusal{
			Reason: fmt.Sprintf("clients of the cluster requested %s, which Kubernetes %s no longer serves (removed in %s; the API server's apiserver_requested_deprecated_apis metric)", d, target, d.RemovedRelease),
			Fix:    "move what uses it to the API's replacement (kubernetes.io/docs/reference/using-api/deprecation-guide), let the API server restart or wait until no client requests it, then run bootstrap upgrade again",
		})
	}
	refusals = append(refusals, databaseRefusals(p, live, allowMajor)...)
	return refusals, warnings
}

// databaseRefusals: the data step moves minor versions only. A major
// upgrade of PostgreSQL needs a snapshot first, the parameter group of the
// new family and RDS's allow_major_version_upgrade: not something to do
// as a side effect of an apply, only when asked for with
// --allow-database-major (dbmajor.go). A downgrade is refused always.
func databaseRefusals(p *config.Profile, live LiveVersions, allowMajor bool) []Refusal {
	if live.Database == "" {
		return nil
	}
	have := strings.SplitN(live.Database, ".", 2)[0]
	want := strings.SplitN(p.Database.EngineVersion, ".", 2)[0]
	if have == want {
		return nil
	}
	hm, _ := strconv.Atoi(have)
	wm, _ := strconv.Atoi(want)
	if wm < hm {
		return []Refusal{{
			Reason: fmt.Sprintf("the database runs PostgreSQL %s and the profile says %s: RDS does not downgrade a major version", live.Database, p.Database.EngineVersion),
			Fix:    fmt.Sprintf("set environments.%s.database.engineVersion to %s", p.Name, have),
		}}
	}
	if allowMajor {
		return nil
	}
	return []Refusal{{
		Reason: fmt.Sprintf("the profile moves PostgreSQL from major %s to %s: a major upgrade is made only when asked for explicitly (it cannot be undone in place, and clients and extensions must be ready for %s)", have, want, want),
		Fix:    fmt.Sprintf("run bootstrap upgrade --env %s %s (a manual snapshot %s first, then the parameter group of the postgres%s family and the major in one Terraform apply), or keep environments.%s.database.engineVersion at %s", p.Name, AllowDatabaseMajorFlag, MajorSnapshotID(p), want, p.Name, have),
	}}
}

// PreflightUpgrade reads the live versions and refuses, all reasons at once,
// what the upgrade cannot do safely. It changes nothing.
// AWS nil means the run's AWS handle.
type PreflightUpgrade struct {
	AWS     UpgradeAPI
	Options AddonOptions
	// AllowDatabaseMajor is --allow-database-major.
	AllowDatabaseMajor bool
}

// Name implements Step.
func (PreflightUpgrade) Name() string { return "Checking that the upgrade can be done safely" }

// Run implements Step.
func (s PreflightUpgrade) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	live, err := readLive(ctx, api, st, s.Options.kubeconfig(st))
	if err != nil {
		return err
	}
	for _, l := range live.Lines(p) {
		st.Progress.Info("%s", l)
	}
	var metrics bytes.Buffer
	c := kubectlCmd(st, []string{"get", "--raw", "/metrics", "--kubeconfig", s.Options.kubeconfig(st)})
	c.Stdout = &metrics
	if err := st.Runner.Run(ctx, c); err != nil {
		return fmt.Errorf("reading the API server's metrics (deprecated APIs in use): %w", err)
	}
	addonFor := func(name string) error {
		_, err := api.LatestAddonVersion(ctx, name, p.Cluster.KubernetesVersion)
		return err
	}
	refusals, warnings := Preflight(p, live, ParseDeprecatedAPIs(metrics.Bytes()), addonFor, s.AllowDatabaseMajor)
	for _, w := range warnings {
		st.Progress.Info("warning: %s", w)
	}
	if len(refusals) > 0 {
		return &PreflightError{Env: p.Name, Refusals: refusals}
	}
	return nil
}

// Describe implements Describer. In a live plan it also says what differs.
func (s PreflightUpgrade) Describe(ctx context.Context, st *State) (Description, error) {
	p := st.Profile
	kc := s.Options.describedKubeconfig(st)
	d := Description{Actions: []Action{
		{Tool: "aws", Args: []string{"eks", "describe-cluster", "--name", p.Cluster.Name, "--region", p.Region, "--query", "cluster.version"},
			Note: "the control plane's version; the node group's, the EKS add-ons', the Helm releases' and the engines' are read too"},
		{Tool: "kubectl", Args: []string{"get", "--raw", "/metrics", "--kubeconfig", kc},
			Note: fmt.Sprintf("the API server's apiserver_requested_deprecated_apis metric: no series may have removed_release %s or older; nodes within %d minors of %s; every pin's kubeVersion admits %s; %s", p.Cluster.KubernetesVersion, MaxKubeletSkew, p.Cluster.KubernetesVersion, p.Cluster.KubernetesVersion, s.majorNote(p))},
	}}
	return d, nil
}

func (s PreflightUpgrade) majorNote(p *config.Profile) string {
	if s.AllowDatabaseMajor {
		return "a PostgreSQL major up to " + PostgresMajor(p.Database.EngineVersion) + " allowed (" + AllowDatabaseMajorFlag + ")"
	}
	return "no PostgreSQL major change (that needs " + AllowDatabaseMajorFlag + ")"
}

// UpgradeControlPlane moves the control plane to the profile's version, one
// minor per `eksctl upgrade cluster` (eksctl and EKS refuse more), reading
// the live version before each: re-run after an interruption, it goes on
// from where the cluster is.
// AWS nil means the run's AWS handle.
type UpgradeControlPlane struct{ AWS UpgradeAPI }

// Name implements Step.
func (UpgradeControlPlane) Name() string {
	return "Upgrading the control plane one minor version at a time"
}

// FinishesWhenStopped implements Finisher: EKS goes on with a version update
// that has started; the next run reads where it got to.
func (UpgradeControlPlane) FinishesWhenStopped() {}

// Run implements Step.
func (s UpgradeControlPlane) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	tm, err := minor(p.Cluster.KubernetesVersion)
	if err != nil {
		return err
	}
	for {
		cl, err := api.ClusterFacts(ctx, p.Cluster.Name)
		if err != nil {
			return err
		}
		cm, err := minor(cl.Version)
		if err != nil {
			return err
		}
		if cm >= tm {
			st.Progress.Info("control plane at %s", cl.Version)
			return nil
		}
		next := minorString(cm + 1)
		st.Progress.Info("control plane %s -> %s (about 10 minutes on EKS)", cl.Version, next)
		if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.UpgradeCluster(p.Cluster.Name, p.Region, next))); err != nil {
			return fmt.Errorf("upgrading the control plane to %s: %w", next, err)
		}
	}
}

// Describe implements Describer.
func (UpgradeControlPlane) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	return Description{Actions: []Action{eksctlAction(eksctl.UpgradeCluster(p.Cluster.Name, p.Region, p.Cluster.KubernetesVersion),
		"once per minor version from the live one up to "+p.Cluster.KubernetesVersion+" (eksctl moves one minor per call; nothing when the control plane is there)")}}, nil
}

// UpdateEKSAddons moves each EKS add-on bootstrap lists (vpc-cni,
// kube-proxy, coredns) to the newest version EKS lists for the control
// plane's version, skipping those already there.
// AWS nil means the run's AWS handle.
type UpdateEKSAddons struct{ AWS UpgradeAPI }

// Name implements Step.
func (UpdateEKSAddons) Name() string { return "Updating the EKS add-ons for the new version" }

// Run implements Step.
func (s UpdateEKSAddons) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	cl, err := api.ClusterFacts(ctx, p.Cluster.Name)
	if err != nil {
		return err
	}
	for _, name := range eksctl.ClusterAddonNames(p.Region, addons.EKSAddonsReplaced()) {
		a, err := api.AddonFacts(ctx, p.Cluster.Name, name)
		if err != nil {
			return err
		}
		if !a.Exists {
			st.Progress.Info("EKS add-on %s does not exist: bootstrap cluster --env %s makes it", name, p.Name)
			continue
		}
		latest, err := api.LatestAddonVersion(ctx, name, cl.Version)
		if err != nil {
			return err
		}
		if a.Version == latest {
			continue
		}
		st.Progress.Info("EKS add-on %s %s -> %s", name, a.Version, latest)
		if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.UpdateAddon(p.Cluster.Name, name, p.Region))); err != nil {
			return fmt.Errorf("updating EKS add-on %s: %w", name, err)
		}
	}
	return nil
}

// Describe implements Describer.
func (UpdateEKSAddons) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	var actions []Action
	for _, name := range eksctl.ClusterAddonNames(p.Region, addons.EKSAddonsReplaced()) {
		actions = append(actions, eksctlAction(eksctl.UpdateAddon(p.Cluster.Name, name, p.Region),
			"when "+name+" is not at the newest version EKS lists for the control plane's"))
	}
	return Description{Actions: actions}, nil
}

// UpgradeNodeGroup moves the managed node group to the control plane's
// version. EKS replaces the nodes one by one and drains each with the
// eviction API, so a PodDisruptionBudget that allows no disruption stops
// it; the wait is bounded (eksctl.NodeGroupUpgradeTimeout) and a failure
// names the budgets that block the drain.
// AWS nil means the run's AWS handle.
type UpgradeNodeGroup struct {
	AWS     UpgradeAPI
	Options AddonOptions
}

// Name implements Step.
func (UpgradeNodeGroup) Name() string { return "Upgrading the managed node group (rolling)" }

// FinishesWhenStopped implements Finisher: EKS goes on with a rolling update
// that has started.
func (UpgradeNodeGroup) FinishesWhenStopped() {}

// Run implements Step.
func (s UpgradeNodeGroup) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	cl, err := api.ClusterFacts(ctx, p.Cluster.Name)
	if err != nil {
		return err
	}
	ng, err := api.NodeGroupFacts(ctx, p.Cluster.Name, p.Cluster.NodeGroup.Name)
	if err != nil {
		return err
	}
	if !ng.Exists {
		return fmt.Errorf("node group %s does not exist: bootstrap cluster --env %s makes it", p.Cluster.NodeGroup.Name, p.Name)
	}
	if ng.Version == cl.Version {
		st.Progress.Info("node group %s at %s", ng.Name, ng.Version)
		return nil
	}
	st.Progress.Info("node group %s %s -> %s: nodes replaced one by one, each drained respecting PodDisruptionBudgets", ng.Name, ng.Version, cl.Version)
	err = st.Runner.Run(ctx, eksctlCmd(st, eksctl.UpgradeNodeGroup(p.Cluster.Name, ng.Name, p.Region, cl.Version, eksctl.NodeGroupUpgradeTimeout)))
	if err == nil {
		return nil
	}
	blockers, berr := DrainBlockers(ctx, st, s.Options.kubeconfig(st))
	if berr != nil || len(blockers) == 0 {
		return fmt.Errorf("upgrading node group %s to %s: %w", ng.Name, cl.Version, err)
	}
	return &DrainBlockedError{NodeGroup: ng.Name, Budgets: blockers, Err: err}
}

// Describe implements Describer.
func (UpgradeNodeGroup) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	return Description{Actions: []Action{eksctlAction(
		eksctl.UpgradeNodeGroup(p.Cluster.Name, p.Cluster.NodeGroup.Name, p.Region, p.Cluster.KubernetesVersion, eksctl.NodeGroupUpgradeTimeout),
		"when the nodes are behind the control plane: a rolling update; a PodDisruptionBudget allowing no disruption stops the drain (list them with kubectl get pdb -A)")}}, nil
}

// Budget is a PodDisruptionBudget that allows no disruption of its pods.
type Budget struct {
	Namespace, Name string
	// Pods is how many pods it covers (status.expectedPods).
	Pods int
}

func (b Budget) String() string { return b.Namespace + "/" + b.Name }

// DrainBlockedError is a node group upgrade stopped by PodDisruptionBudgets.
type DrainBlockedError struct {
	NodeGroup string
	Budgets   []Budget
	Err       error
}

func (e *DrainBlockedError) Error() string {
	var names []string
	for _, b := range e.Budgets {
		names = append(names, fmt.Sprintf("PodDisruptionBudget %s (allows 0 disruptions of its %d pod(s))", b, b.Pods))
	}
	return fmt.Sprintf("the drain of node group %s is blocked by %s: scale the workload up or relax the budget (or, knowing the cost, delete it), then run bootstrap upgrade again; eksctl said: %v",
		e.NodeGroup, strings.Join(names, ", "), e.Err)
}

func (e *DrainBlockedError) Unwrap() error { return e.Err }

// DrainBlockers lists the PodDisruptionBudgets that make the eviction API
// refuse every pod they cover: status.disruptionsAllowed 0 with pods
// expected (kubernetes.io/docs/concepts/scheduling-eviction/api-eviction).
func DrainBlockers(ctx context.Context, st *State, kubeconfig string) ([]Budget, error) {
	var out bytes.Buffer
	c := kubectlCmd(st, []string{"get", "poddisruptionbudgets", "--all-namespaces", "--output", "json", "--kubeconfig", kubeconfig})
	c.Stdout = &out
	if err := st.Runner.Run(ctx, c); err != nil {
		return nil, err
	}
	return ParseDrainBlockers(out.Bytes())
}

// ParseDrainBlockers reads `kubectl get pdb -A -o json`.
func ParseDrainBlockers(b []byte) ([]Budget, error) {
	var list struct {
		Items []struct {
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Status struct {
				DisruptionsAllowed int `json:"disruptionsAllowed"`
				ExpectedPods       int `json:"expectedPods"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("reading the PodDisruptionBudgets: %w", err)
	}
	var out []Budget
	for _, p := range list.Items {
		if p.Status.ExpectedPods > 0 && p.Status.DisruptionsAllowed == 0 {
			out = append(out, Budget{Namespace: p.Metadata.Namespace, Name: p.Metadata.Name, Pods: p.Status.ExpectedPods})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// UpdateIRSAPolicies brings the IRSA roles' inline policies to the
// ClusterConfig (a pin bump can change the load balancer controller's):
// `eksctl update iamserviceaccount`, only when one differs.
// AWS nil means the run's AWS handle.
type UpdateIRSAPolicies struct{ AWS ClusterAPI }

// Name implements Step.
func (UpdateIRSAPolicies) Name() string { return "Updating the IRSA roles' policies" }

// Run implements Step.
func (s UpdateIRSAPolicies) Run(ctx context.Context, st *State) error {
	path, err := writeClusterFile(st)
	if err != nil {
		return err
	}
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	// A role the ClusterConfig has and the account lacks is an add-on's
	// added since the cluster was made (external-dns's on an environment
	// an older bootstrap made): create iamserviceaccount makes it and
	// skips the roles that exist.
	missing, err := irsaRolesMissing(ctx, api, st)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		st.Progress.Info("IRSA role %s does not exist: creating it", strings.Join(missing, ", "))
		if err := st.Runner.Run(ctx, eksctlCmd(st, eksctl.CreateIAMServiceAccounts(path))); err != nil {
			return fmt.Errorf("creating the IRSA roles: %w", err)
		}
	}
	return reconcileIRSAPolicies(ctx, api, st, path)
}

// irsaRolesMissing are the IRSA roles of the rendered ClusterConfig that do
// not exist.
func irsaRolesMissing(ctx context.Context, api ClusterAPI, st *State) ([]string, error) {
	cfg, err := RenderCluster(st.Profile, clusterLive(st))
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, sa := range cfg.IAM.ServiceAccounts {
		_, exists, err := api.RoleInlinePolicies(ctx, sa.RoleName)
		if err != nil {
			return nil, err
		}
		if !exists {
			missing = append(missing, sa.RoleName)
		}
	}
	return missing, nil
}

// Describe implements Describer.
func (UpdateIRSAPolicies) Describe(_ context.Context, st *State) (Description, error) {
	path := st.RelPath(ClusterFile)
	return Description{Actions: []Action{
		eksctlAction(eksctl.CreateIAMServiceAccounts(path),
			"when an IRSA role of the ClusterConfig does not exist (an add-on added since the cluster was made); it skips the roles that exist"),
		eksctlAction(eksctl.UpdateIAMServiceAccounts(path),
			"when a role's inline policy differs from the ClusterConfig's (cluster.yaml as the cluster step renders it)")}}, nil
}
