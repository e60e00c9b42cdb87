package status

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/cost"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// Facts is everything status read about one environment. Compare turns it
// into rows; nothing here talks to AWS or helm, so the rules are
// table-tested from fixed facts.
type Facts struct {
	AccountID    string
	Cluster      pipeline.ClusterFacts
	NodeGroup    pipeline.NodeGroupFacts
	Roles        []pipeline.RoleFacts // the three IRSA roles, in Profile order
	Database     pipeline.DBFacts
	Redis        pipeline.RedisFacts
	Storage      pipeline.BucketFacts // the backups bucket
	Repositories []pipeline.RepositoryFacts
	Secrets      []pipeline.SecretFacts
	StateBucket  pipeline.BucketFacts
	Releases     []ReleaseFacts // one per add-on (addons.All)
	// Addons are the cluster's EKS add-ons, as EKS lists them (none when
	// there is no cluster).
	Addons []pipeline.AddonFacts
	// Unread holds, by component (Key), why its read failed: the row
	// says "unknown" and the command exits 1.
	Unread map[string]error
}

// ReleaseFacts is what helm said about the release of one pinned chart.
type ReleaseFacts struct {
	Chart addons.Chart
	// Release is helm's entry, nil when there is no release.
	Release *addons.ReleaseStatus
	// Unknown, when set, says why helm was not asked (no cluster, no
	// kubeconfig): the row says "unknown", and the command still succeeds.
	Unknown string
}

// Component kinds, as rows name them.
const (
	KindCluster    = "EKS cluster"
	KindNodeGroup  = "node group"
	KindRole       = "IRSA role"
	KindDatabase   = "RDS instance"
	KindRedis      = "Redis group"
	KindStorage    = "backups bucket"
	KindRepository = "ECR repository"
	KindSecret     = "secret"
	KindState      = "state bucket"
	KindRelease    = "Helm release"
	KindAddon      = "EKS add-on"
)

// Key names a component in Facts.Unread.
func Key(kind, name string) string { return kind + " " + name }

// Values of the exists and healthy columns.
const (
	Yes     = "yes"
	No      = "no"
	Unknown = "unknown"
	// NA is healthy for what does not exist: nothing to judge.
	NA = "-"
)

// Row is one component's line.
type Row struct {
	Component string `json:"component"`
	Name      string `json:"name"`
	Exists    string `json:"exists"`
	Healthy   string `json:"healthy"`
	// Drift lists how the live component differs from the profile; empty
	// when it matches (or does not exist).
	Drift  []string `json:"drift"`
	Detail string   `json:"detail"`
}

// Report is the whole status, the JSON of --output json.
type Report struct {
	Environment string `json:"environment"`
	Region      string `json:"region"`
	Account     string `json:"account"`
	Components  []Row  `json:"components"`
	// Unread lists the components that could not be read, with why.
	Unread []string `json:"unread,omitempty"`
	// Warnings are the support windows of what runs (SupportWarnings).
	Warnings []string `json:"warnings,omitempty"`
}

// SupportWarnings are internal/cost's support-window warnings for the
// versions that run, read from AWS where they exist (the cluster's
// Kubernetes, the database's PostgreSQL) and the profile's where they do not
// yet: a cluster left behind at an older version is what leaves standard
// support first.
func SupportWarnings(p *config.Profile, f Facts, now time.Time) []string {
	live := *p
	if f.Cluster.Exists && f.Cluster.Version != "" {
		live.Cluster.KubernetesVersion = f.Cluster.Version
	}
	if f.Database.Exists && f.Database.EngineVersion != "" {
		live.Database.EngineVersion = f.Database.EngineVersion
	}
	return cost.SupportWarnings(&live, now)
}

// Err is non-nil when some component could not be read: status reports
// what is missing or unhealthy without failing, but a read it could not
// make is a failure (exit 1).
func (r Report) Err() error {
	if len(r.Unread) == 0 {
		return nil
	}
	noun := "component"
	if len(r.Unread) > 1 {
		noun = "components"
	}
	return fmt.Errorf("could not read %d %s of environment %s:\n  %s", len(r.Unread), noun, r.Environment, strings.Join(r.Unread, "\n  "))
}

// Compare holds the facts against the profile: one row per component, in
// the order the phases make them.
func Compare(p *config.Profile, f Facts) Report {
	rep := Report{Environment: p.Name, Region: p.Region, Account: f.AccountID}
	add := func(kind, name string, judge func() Row) {
		if err, ok := f.Unread[Key(kind, name)]; ok {
			rep.Components = append(rep.Components, Row{Component: kind, Name: name, Exists: Unknown, Healthy: Unknown, Drift: []string{},
				Detail: "could not read: " + oneLine(err)})
			rep.Unread = append(rep.Unread, Key(kind, name)+": "+oneLine(err))
			return
		}
		r := judge()
		r.Component, r.Name = kind, name
		if r.Drift == nil {
			r.Drift = []string{}
		}
		rep.Components = append(rep.Components, r)
	}

	add(KindCluster, p.Cluster.Name, func() Row { return cluster(p, f.Cluster) })
	add(KindNodeGroup, p.Cluster.NodeGroup.Name, func() Row { return nodeGroup(p, f.Cluster, f.NodeGroup) })
	for _, r := range f.Roles {
		add(KindRole, r.Name, func() Row { return role(p, f, r) })
	}
	add(KindDatabase, p.Database.Identifier, func() Row { return database(p, f.Database) })
	add(KindRedis, p.Redis.ReplicationGroupID, func() Row { return redis(p, f.Redis) })
	add(KindStorage, f.Storage.Name, func() Row { return bucket(p, f.Storage) })
	for _, r := range f.Repositories {
		add(KindRepository, r.Name, func() Row { return repository(p, r) })
	}
	for _, s := range f.Secrets {
		add(KindSecret, s.Name, func() Row { return secret(p, s) })
	}
	add(KindState, f.StateBucket.Name, func() Row { return bucket(p, f.StateBucket) })
	for _, r := range f.Releases {
		add(KindRelease, r.Chart.Namespace+"/"+r.Chart.Release, func() Row { return release(p, r) })
	}
	// The EKS add-ons beside the Helm releases: the ones the ClusterConfig
	// lists, then any other the cluster has.
	want := eksctl.ClusterAddonNames(p.Region, addons.EKSAddonsReplaced())
	for _, name := range want {
		add(KindAddon, name, func() Row { return addon(p, f, name) })
	}
	for _, a := range f.Addons {
		if !slices.Contains(want, a.Name) {
			add(KindAddon, a.Name, func() Row { return extraAddon(p, a) })
		}
	}
	return rep
}

func addonRow(a pipeline.AddonFacts) Row {
	r := Row{Exists: Yes, Healthy: yesNo(a.Healthy()), Detail: a.Status + ", " + a.Version}
	if len(a.Issues) > 0 {
		r.Detail += "; " + strings.Join(a.Issues, "; ")
	}
	return r
}

func addon(p *config.Profile, f Facts, name string) Row {
	for _, a := range f.Addons {
		if a.Name == name {
			return addonRow(a)
		}
	}
	if !f.Cluster.Exists {
		return missing("its cluster does not exist")
	}
	return missing(fmt.Sprintf("eksctl create addon -f .bootstrap/%s/cluster.yaml creates it", p.Name))
}

// extraAddon is an add-on the ClusterConfig does not list: one a Helm
// release replaces (eksctl's default metrics-server on a cluster made
// before bootstrap disabled the defaults), or one added by hand.
func extraAddon(p *config.Profile, a pipeline.AddonFacts) Row {
	r := addonRow(a)
	r.Drift = []string{"not in the ClusterConfig"}
	if slices.Contains(addons.EKSAddonsReplaced(), a.Name) {
		r.Detail += fmt.Sprintf("; the Helm release replaces it: bootstrap addons --env %s deletes it", p.Name)
	}
	return r
}

func missing(detail string) Row { return Row{Exists: No, Healthy: NA, Detail: detail} }

func yesNo(b bool) string {
	if b {
		return Yes
	}
	return No
}

func cluster(p *config.Profile, c pipeline.ClusterFacts) Row {
	if !c.Exists {
		return missing(fmt.Sprintf("bootstrap cluster --env %s creates it", p.Name))
	}
	r := Row{Exists: Yes, Healthy: yesNo(c.Status == "ACTIVE"), Detail: fmt.Sprintf("%s, Kubernetes %s", c.Status, c.Version)}
	if c.Version != p.Cluster.KubernetesVersion {
		r.Drift = append(r.Drift, differs("Kubernetes", c.Version, p.Cluster.KubernetesVersion))
	}
	// The settings eksctl applies at create: the cluster step's own
	// decision (eksctl.Converge), each difference with its fix.
	cfg, err := eksctl.Render(p, eksctl.Inputs{HelmReplaced: addons.EKSAddonsReplaced()})
	if err != nil {
		r.Drift = append(r.Drift, "endpoint access and Secrets encryption not compared: "+oneLine(err))
		return r
	}
	for _, d := range eksctl.Converge(eksctl.WantedSettings(cfg), pipeline.LiveSettings(c)).Differences {
		r.Drift = append(r.Drift, d.String())
	}
	return r
}

func nodeGroup(p *config.Profile, c pipeline.ClusterFacts, ng pipeline.NodeGroupFacts) Row {
	if !ng.Exists {
		if !c.Exists {
			return missing("its cluster does not exist")
		}
		return missing(fmt.Sprintf("bootstrap cluster --env %s creates it", p.Name))
	}
	want := p.Cluster.NodeGroup
	types := strings.Join(ng.InstanceTypes, ",")
	r := Row{Exists: Yes, Healthy: yesNo(ng.Status == "ACTIVE" && ng.Desired > 0 && len(ng.Issues) == 0),
		Detail: fmt.Sprintf("%s, %d × %s (min %d, max %d)", ng.Status, ng.Desired, types, ng.Min, ng.Max)}
	if ng.Desired == 0 {
		r.Detail += ", no nodes wanted"
	}
	if len(ng.Issues) > 0 {
		r.Detail += "; " + strings.Join(ng.Issues, "; ")
	}
	if types != want.InstanceType {
		r.Drift = append(r.Drift, differs("instance type", types, want.InstanceType))
	}
	for _, n := range []struct {
		what      string
		got, want int
	}{{"min", ng.Min, want.Min}, {"max", ng.Max, want.Max}, {"desired", ng.Desired, want.Desired}} {
		if n.got != n.want {
			r.Drift = append(r.Drift, differs(n.what, fmt.Sprint(n.got), fmt.Sprint(n.want)))
		}
	}
	// Pod IMDS is set in the node group's launch template when it is made;
	// bootstrap up does not change it (eksctl.PodIMDSDifference).
	if ng.PodIMDSHopLimit == 0 {
		r.Detail += "; pod IMDS not known (no launch template hop limit to read)"
		return r
	}
	cfg, err := eksctl.Render(p, eksctl.Inputs{HelmReplaced: addons.EKSAddonsReplaced()})
	if err != nil {
		r.Drift = append(r.Drift, "pod IMDS not compared: "+oneLine(err))
		return r
	}
	for _, m := range cfg.ManagedNodeGroups {
		if m.Name == ng.Name {
			if d := eksctl.PodIMDSDifference(m, ng.PodIMDSHopLimit); d != nil {
				r.Drift = append(r.Drift, d.String())
			}
		}
	}
	return r
}

func role(p *config.Profile, f Facts, r pipeline.RoleFacts) Row {
	if !r.Exists {
		return missing(fmt.Sprintf("bootstrap cluster --env %s creates it", p.Name))
	}
	row := Row{Exists: Yes, Detail: r.ARN}
	switch {
	case f.Unread[Key(KindCluster, p.Cluster.Name)] != nil:
		row.Healthy = Unknown
		row.Detail += "; the cluster could not be read to check the trust policy"
	case !f.Cluster.Exists || f.Cluster.OIDCIssuer == "":
		row.Healthy = No
		row.Detail += "; no cluster OIDC provider for it to trust"
	case r.TrustsIssuer(f.Cluster.OIDCIssuer):
		row.Healthy = Yes
	default:
		row.Healthy = No
		row.Detail += "; trusts another OIDC provider than the cluster's (left from an earlier cluster?)"
	}
	return row
}

func database(p *config.Profile, db pipeline.DBFacts) Row {
	if !db.Exists {
		return missing(fmt.Sprintf("bootstrap data --env %s creates it", p.Name))
	}
	want := p.Database
	r := Row{Exists: Yes, Healthy: yesNo(db.Status == "available"),
		Detail: fmt.Sprintf("%s, PostgreSQL %s, %s", db.Status, db.EngineVersion, db.InstanceClass)}
	if db.MultiAZ {
		r.Detail += " Multi-AZ"
	}
	if db.InstanceClass != want.InstanceClass {
		r.Drift = append(r.Drift, differs("class", db.InstanceClass, want.InstanceClass))
	}
	if db.MultiAZ != want.MultiAZ {
		r.Drift = append(r.Drift, differs("Multi-AZ", onOff(db.MultiAZ), onOff(want.MultiAZ)))
	}
	if db.DeletionProtection != p.Protection.DeletionProtection {
		r.Drift = append(r.Drift, differs("deletion protection", onOff(db.DeletionProtection), onOff(p.Protection.DeletionProtection)))
	}
	if db.BackupRetentionDays != want.BackupRetentionDays {
		r.Drift = append(r.Drift, differs("backup retention", days(db.BackupRetentionDays), days(want.BackupRetentionDays)))
	}
	if got, w := major(db.EngineVersion), major(want.EngineVersion); got != w {
		r.Drift = append(r.Drift, differs("engine major", got, w))
	}
	return r
}

func redis(p *config.Profile, g pipeline.RedisFacts) Row {
	if !g.Exists {
		return missing(fmt.Sprintf("bootstrap data --env %s creates it", p.Name))
	}
	want := p.Redis
	auth := "AUTH off"
	if g.AuthTokenEnabled {
		auth = "AUTH on"
	}
	r := Row{Exists: Yes, Healthy: yesNo(g.Status == "available" && g.AuthTokenEnabled),
		Detail: fmt.Sprintf("%s, %s, %d × %s", g.Status, auth, g.Nodes, g.NodeType)}
	if !g.AuthTokenEnabled {
		r.Detail += fmt.Sprintf(" (bootstrap data --env %s sets the token)", p.Name)
	}
	if g.NodeType != want.NodeType {
		r.Drift = append(r.Drift, differs("node type", g.NodeType, want.NodeType))
	}
	if g.Nodes != want.NumCacheClusters {
		r.Drift = append(r.Drift, differs("nodes", fmt.Sprint(g.Nodes), fmt.Sprint(want.NumCacheClusters)))
	}
	failover := g.AutomaticFailover == "enabled" || g.AutomaticFailover == "enabling"
	if failover != want.AutomaticFailover {
		got := g.AutomaticFailover
		if got == "" {
			got = "disabled"
		}
		r.Drift = append(r.Drift, differs("failover", got, enabled(want.AutomaticFailover)))
	}
	return r
}

func bucket(p *config.Profile, b pipeline.BucketFacts) Row {
	if !b.Exists {
		return missing(fmt.Sprintf("bootstrap data --env %s creates it", p.Name))
	}
	v := b.Versioning
	if v == "" {
		v = "never enabled"
	}
	return Row{Exists: Yes, Healthy: yesNo(b.VersioningEnabled()), Detail: "versioning " + v}
}

func repository(p *config.Profile, r pipeline.RepositoryFacts) Row {
	if !r.Exists {
		return missing(fmt.Sprintf("bootstrap data --env %s creates it", p.Name))
	}
	return Row{Exists: Yes, Healthy: Yes, Detail: r.URI}
}

func secret(p *config.Profile, s pipeline.SecretFacts) Row {
	switch {
	case !s.Exists:
		return missing(fmt.Sprintf("bootstrap data --env %s creates it", p.Name))
	case s.DeletedDate != nil:
		return Row{Exists: Yes, Healthy: No, Detail: "scheduled for deletion on " + s.DeletedDate.UTC().Format("2006-01-02") + "; restore it or wait before re-creating"}
	case !s.HasValue:
		return Row{Exists: Yes, Healthy: No, Detail: "no current value"}
	}
	return Row{Exists: Yes, Healthy: Yes, Detail: "has a current value"}
}

func release(p *config.Profile, r ReleaseFacts) Row {
	if r.Unknown != "" {
		return Row{Exists: Unknown, Healthy: Unknown, Detail: r.Unknown}
	}
	s := r.Release
	if s == nil {
		return missing(fmt.Sprintf("bootstrap addons --env %s creates it", p.Name))
	}
	row := Row{Exists: Yes, Healthy: yesNo(s.Status == addons.StatusDeployed),
		Detail: fmt.Sprintf("%s, revision %s, %s", s.Status, s.Revision, s.Chart)}
	if s.Pending() {
		row.Detail += fmt.Sprintf("; an operation was interrupted: bootstrap addons --env %s finishes it", p.Name)
	}
	if s.Chart != r.Chart.NameVersion() {
		got := strings.TrimPrefix(s.Chart, r.Chart.Chart+"-")
		row.Drift = append(row.Drift, differs("chart", got, r.Chart.Version))
	}
	return row
}

// differs is one drift entry: what, the live value, the profile's.
func differs(what, got, want string) string {
	return fmt.Sprintf("%s %s (want %s)", what, got, want)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func enabled(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// major is a version's first part: "15.7" → "15".
func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}

// oneLine keeps an error to its first line: rows are one line each.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
