package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// Ownership (docs/layout.md, "Design: ownership"): an
// object is this environment's only when its tags Environment, Application
// and ManagedBy all say so. `up` and `teardown` check every object they
// would adopt, change or delete by its name before they change anything;
// one that matches by name alone stops the run with an *OwnershipError.

// envOwnership is what proves an object this environment's.
func envOwnership(p *config.Profile) cloud.Ownership {
	return cloud.EnvironmentOwnership(tfdriver.Application, p.Name)
}

// stateBucketOwnership is what proves the state bucket bootstrap's: it is
// shared by the environments of an account and region (one key each), so
// it carries no Environment; EnsureStateBucket tags it so.
var stateBucketOwnership = cloud.Ownership{cloud.TagManagedBy: cloud.ManagedByBootstrap, "Purpose": "terraform-state"}

// OwnershipError names the objects that have this environment's names but
// not its tags, with their tags and what to do.
type OwnershipError struct {
	Env     string
	Cluster string
	Region  string
	Want    cloud.Ownership
	Objects []cloud.Found
	// wants holds a per-object requirement when it differs from Want (the
	// state bucket, the cluster).
	wants map[string]cloud.Ownership
}

func (e *OwnershipError) want(f cloud.Found) cloud.Ownership {
	if w, ok := e.wants[string(f.Kind)+"/"+f.Name]; ok {
		return w
	}
	return e.Want
}

func (e *OwnershipError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s with the names of environment %s but not its tags: bootstrap adopts, changes or deletes only what it made for this environment, so nothing was changed",
		len(e.Objects), pluralize(len(e.Objects), "object"), e.Env)
	for _, f := range e.Objects {
		w := e.want(f)
		fmt.Fprintf(&b, "\n  %s %s: tags %s (%s)", f.Kind, f.Name, cloud.TagsString(f.Tags), strings.Join(mismatches(f, w, e.Cluster), "; "))
	}
	b.WriteString("\nEither give this environment other names in bootstrap.yaml (cluster.name, database.identifier, redis.replicationGroupId, storage.bucket, state.bucket, secrets.prefix, registry.repositories, app.roleName), " +
		"or, only if you know these objects are this environment's, tag them (docs/runbooks/infrastructure_setup.md, troubleshooting, \"Objects bootstrap did not make\"):")
	for _, f := range e.Objects {
		if c := f.TagCommand(e.Region, e.want(f)); c != "" {
			b.WriteString("\n  " + c)
		}
	}
	return b.String()
}

// mismatches are an object's tag problems; the cluster and its IRSA roles
// must not carry another cluster's eksctl tag either.
func mismatches(f cloud.Found, w cloud.Ownership, cluster string) []string {
	m := w.Mismatches(f.Tags)
	if f.Kind == cloud.KindCluster || f.Kind == cloud.KindRole {
		if v, ok := f.Tags[cloud.TagEksctlCluster]; ok && v != cluster {
			m = append(m, fmt.Sprintf("%s=%s, want %s", cloud.TagEksctlCluster, v, cluster))
		}
	}
	return m
}

func pluralize(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// OwnerAPI finds objects by name with their tags; *cloud.Clients is the
// real one.
type OwnerAPI interface {
	AdoptAPI
	FindCluster(ctx context.Context, name string) (cloud.Found, error)
	FindRole(ctx context.Context, name string) (cloud.Found, error)
	AccountID(ctx context.Context) (string, error)
	HostedZoneAPI
}

// HostedZoneAPI finds the Route53 zone of app.domain (cloud/dns.go).
type HostedZoneAPI interface {
	FindHostedZone(ctx context.Context, domain string) (cloud.HostedZone, error)
	HostedZoneExists(ctx context.Context, id string) (cloud.HostedZone, error)
}

// CheckOwnership looks up, by name, every object of the environment that
// can be found before the cluster's network is known (the cluster, its
// IRSA roles, both buckets, the database, Redis and their groups, the
// repositories, the secrets) and stops the run when one exists without this environment's
// tags. It changes nothing. Security groups and their rules, which need
// the VPC, are checked the same way when the data step adopts.
//
// It also finds the hosted zone of app.domain (ResolveHostedZone), so that
// a missing or ambiguous zone stops the run before anything is made.
// ZoneOptional (teardown) turns that error into a note: a zone deleted
// since does not keep the rest from going.
// AWS nil means the run's handle.
type CheckOwnership struct {
	AWS          OwnerAPI
	ZoneOptional bool
}

// Name implements Step.
func (CheckOwnership) Name() string { return "Checking that existing objects are this environment's" }

// Run implements Step.
func (s CheckOwnership) Run(ctx context.Context, st *State) error {
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	if _, err := st.LiveAccount(ctx, api); err != nil {
		return err
	}
	foreign, wants, err := findForeign(ctx, api, st)
	if err != nil {
		return err
	}
	if len(foreign) > 0 {
		return &OwnershipError{Env: st.Profile.Name, Cluster: st.Profile.Cluster.Name, Region: st.Profile.Region, Want: envOwnership(st.Profile), Objects: foreign, wants: wants}
	}
	if err := ResolveHostedZone(ctx, api, st); err != nil {
		if !s.ZoneOptional {
			return err
		}
		st.Progress.Info("%v; the certificate's records are destroyed from the Terraform state alone", err)
	}
	return nil
}

// ResolveHostedZone sets st.HostedZoneID for a profile with app.domain: the
// configured app.hostedZoneID, checked to exist, be public and hold the
// domain; else the public zone found by name (cloud.PickHostedZone).
func ResolveHostedZone(ctx context.Context, api HostedZoneAPI, st *State) error {
	a := st.Profile.App
	if a.Domain == "" {
		return nil
	}
	var hz cloud.HostedZone
	var err error
	if a.HostedZoneID != "" {
		if hz, err = api.HostedZoneExists(ctx, a.HostedZoneID); err != nil {
			return err
		}
		if hz.Name != a.Domain && !strings.HasSuffix(a.Domain, "."+hz.Name) {
			return fmt.Errorf("app.hostedZoneID %s is the zone %s, which cannot hold app.domain %s: name the zone of %s or a parent of it",
				a.HostedZoneID, hz.Name, a.Domain, a.Domain)
		}
	} else if hz, err = api.FindHostedZone(ctx, a.Domain); err != nil {
		return fmt.Errorf("app.domain %s: %w", a.Domain, err)
	}
	st.HostedZoneID = hz.ID
	return nil
}

// findForeign returns the objects found by name whose tags do not prove
// them this environment's (the state bucket: bootstrap's).
func findForeign(ctx context.Context, api OwnerAPI, st *State) ([]cloud.Found, map[string]cloud.Ownership, error) {
	own := envOwnership(st.Profile)
	var foreign []cloud.Found
	wants := map[string]cloud.Ownership{}
	// A bucket an interrupted run made and had not tagged yet is this
	// environment's by the run's record (creating.go); the run that goes on
	// tags it.
	made, err := readCreating(st)
	if err != nil {
		return nil, nil, err
	}
	check := func(f cloud.Found, w cloud.Ownership) {
		if f.Exists() && !made.madeByApply(f) && len(mismatches(f, w, st.Profile.Cluster.Name)) > 0 {
			foreign = append(foreign, f)
			wants[string(f.Kind)+"/"+f.Name] = w
		}
	}
	// eksctl skips an IRSA role that exists (create iamserviceaccount), so
	// another's role of the same name would be taken over: it must carry
	// the environment's tags (eksctl's stacks pass metadata.tags on) and no
	// other cluster's.
	p := st.Profile
	for _, name := range appFirst(p) {
		r, err := st.found(ctx, foundRole+name, func(ctx context.Context) (cloud.Found, error) { return api.FindRole(ctx, name) })
		if err != nil {
			return nil, nil, err
		}
		check(r, own)
	}
	cl, err := st.found(ctx, foundCluster+p.Cluster.Name, func(ctx context.Context) (cloud.Found, error) { return api.FindCluster(ctx, p.Cluster.Name) })
	if err != nil {
		return nil, nil, err
	}
	check(cl, own)
	stateBucket := p.StateBucketName(st.AccountID)
	sb, err := st.found(ctx, foundStateBucket+stateBucket, func(ctx context.Context) (cloud.Found, error) { return api.FindBucket(ctx, stateBucket) })
	if err != nil {
		return nil, nil, err
	}
	check(sb, stateBucketOwnership)
	for _, o := range orphans(st, tfdriver.Inputs{}) {
		if o.needsNetwork {
			continue
		}
		f, err := o.lookup(ctx, st, api, nil)
		if err != nil {
			return nil, nil, err
		}
		check(f, own)
	}
	return foreign, wants, nil
}

// Describe implements Describer.
func (CheckOwnership) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	sum := []string{
		"every object this environment would adopt, change or delete, looked up by name, must carry " + envOwnership(p).String() +
			" (the state bucket " + stateBucketOwnership.String() + "); one that does not stops the run before anything changes",
		"the commands below check the objects a script would take over or delete by name alone (the cluster, its IRSA roles); the data tier's apply fails on a taken name and its destroy deletes only what the state holds. " +
			"The other names by hand: aws secretsmanager describe-secret --secret-id " + p.Secrets.Prefix + "/database --query Tags, and so on",
	}
	if p.App.Domain != "" && p.App.HostedZoneID == "" {
		sum = append(sum, "the hosted zone of "+p.App.Domain+" (<hosted-zone-id> below) is the public zone whose name is the longest suffix of it, exactly one: "+
			"aws route53 list-hosted-zones --query 'HostedZones[?Config.PrivateZone==`false`].[Id,Name]' --output text")
	}
	return Description{Summary: sum, Actions: []Action{{
		Tool: "bash", Script: ownershipScript(p),
		Note: "stops here, before anything changes, when the cluster or an IRSA role of this environment's name carries other tags than " + envOwnership(p).String() + " (or another cluster's " + cloud.TagEksctlCluster + ")",
	}}}, nil
}

// appFirst are the environment's IRSA role names, the app's first, then
// the add-ons' (addons.IRSARoleNames) in install order.
func appFirst(p *config.Profile) []string {
	return append([]string{p.App.RoleName}, addons.AddonRoleNames(p)...)
}
