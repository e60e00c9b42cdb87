package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
)

// The PostgreSQL major upgrade, only with `bootstrap upgrade
// --allow-database-major`. The profile says the target: database.engineVersion
// is a major ("16", RDS picks its default minor) or major.minor ("16.10"),
// and a major above the instance's is the request. Without the flag the
// preflight refuses it (databaseRefusals). With it, after the cluster and
// the add-ons: a manual snapshot of the instance, tagged as this
// environment's and named for the target major, so that a re-run finds it
// and takes no other; then the data tier's apply with
// allow_major_version_upgrade and apply_immediately, in which Terraform
// makes the parameter group of the new family first (create_before_destroy
// in terraform/stateful/rds.tf), moves the instance to the new major and
// that group in one ModifyDBInstance, and only then deletes the old group.

// AllowDatabaseMajorFlag is the flag of bootstrap upgrade that allows it.
const AllowDatabaseMajorFlag = "--allow-database-major"

// DBMajorAPI is what the major upgrade reads and makes in RDS; *cloud.Clients
// is the real one.
type DBMajorAPI interface {
	DBFacts(ctx context.Context, id string) (cloud.DBFacts, error)
	DBSnapshot(ctx context.Context, id string) (cloud.DBSnapshotFacts, error)
	CreateDBSnapshot(ctx context.Context, instance, id string, tags map[string]string) error
}

var _ DBMajorAPI = (*AWS)(nil)

// DatabaseMajorSteps are the steps --allow-database-major puts in place of
// the upgrade's data-tier apply (UpgradeStepsWith), for the runbook.
func DatabaseMajorSteps() []Step {
	return []Step{SnapshotBeforeMajor{}, ApplyData{AllowDatabaseMajor: true}}
}

// PostgresMajor is the major of a PostgreSQL version ("15" of "15.7").
func PostgresMajor(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}

// DatabaseMajorPending reports whether the profile asks for a higher
// PostgreSQL major than the instance runs (live "" is no instance).
func DatabaseMajorPending(p *config.Profile, live string) bool {
	if live == "" {
		return false
	}
	have, err1 := strconv.Atoi(PostgresMajor(live))
	want, err2 := strconv.Atoi(PostgresMajor(p.Database.EngineVersion))
	return err1 == nil && err2 == nil && want > have
}

// checkDatabaseMajor stops a plain data-tier apply (bootstrap data, up, or
// upgrade without the flag) before Terraform runs when the profile's
// PostgreSQL major differs from the instance's: RDS refuses the change
// without allow_major_version_upgrade (ModifyDBInstance) and never
// downgrades, and the apply would fail half-way, the new family's
// parameter group made. live "" is no instance yet.
func checkDatabaseMajor(p *config.Profile, live string) error {
	if live == "" || PostgresMajor(live) == PostgresMajor(p.Database.EngineVersion) {
		return nil
	}
	if DatabaseMajorPending(p, live) {
		return fmt.Errorf("environments.%s.database.engineVersion is %s and %s runs PostgreSQL %s: a major upgrade is made only by bootstrap upgrade --env %s %s (a manual snapshot first, then the parameter group of the new family); or set engineVersion back to %s",
			p.Name, p.Database.EngineVersion, p.Database.Identifier, live, p.Name, AllowDatabaseMajorFlag, PostgresMajor(live))
	}
	return fmt.Errorf("environments.%s.database.engineVersion is %s and %s runs PostgreSQL %s: RDS does not downgrade a major version; set engineVersion to %s",
		p.Name, p.Database.EngineVersion, p.Database.Identifier, live, PostgresMajor(live))
}

// MajorSnapshotID is the manual snapshot taken before the move to the
// profile's major: one per target major, so a re-run finds it.
func MajorSnapshotID(p *config.Profile) string {
	return p.Database.Identifier + "-before-postgres" + PostgresMajor(p.Database.EngineVersion)
}

// SnapshotBeforeMajor takes the manual snapshot a PostgreSQL major upgrade
// starts from and waits until it is available. Nothing when the instance
// is at the profile's major already (an earlier run upgraded it) or does
// not exist; when the snapshot exists and its tags prove it this
// environment's, it is not taken again. A snapshot of that name that is
// not this environment's stops the upgrade: it proves nothing about this
// database.
// AWS nil means the run's AWS handle.
type SnapshotBeforeMajor struct{ AWS DBMajorAPI }

// Name implements Step.
func (SnapshotBeforeMajor) Name() string {
	return "Taking a manual snapshot before the PostgreSQL major upgrade"
}

// FinishesWhenStopped implements Finisher: RDS goes on with a snapshot it
// has started; the next run waits for it.
func (SnapshotBeforeMajor) FinishesWhenStopped() {}

// Run implements Step.
func (s SnapshotBeforeMajor) Run(ctx context.Context, st *State) error {
	p := st.Profile
	api, err := apiOf(ctx, st, s.AWS)
	if err != nil {
		return err
	}
	db, err := api.DBFacts(ctx, p.Database.Identifier)
	if err != nil {
		return err
	}
	if !db.Exists {
		st.Progress.Info("DB instance %s does not exist: the data tier's apply makes it at PostgreSQL %s", p.Database.Identifier, p.Database.EngineVersion)
		return nil
	}
	if db.Status != "available" {
		// RDS snapshots an available instance only, and an instance still
		// upgrading after an interrupted run reports its old version.
		st.Progress.Info("DB instance %s is %s: waiting until it is available", p.Database.Identifier, db.Status)
		if err := poll(ctx, st.Poll, "DB instance "+p.Database.Identifier+" to be available", func(ctx context.Context) (bool, error) {
			db, err = api.DBFacts(ctx, p.Database.Identifier)
			return db.Status == "available", err
		}); err != nil {
			return err
		}
	}
	if !DatabaseMajorPending(p, db.EngineVersion) {
		st.Progress.Info("PostgreSQL %s on %s: no major upgrade to make", db.EngineVersion, p.Database.Identifier)
		return nil
	}
	id := MajorSnapshotID(p)
	snap, err := api.DBSnapshot(ctx, id)
	if err != nil {
		return err
	}
	if snap.Exists {
		if miss := envOwnership(p).Mismatches(snap.Tags); len(miss) > 0 || snap.Instance != p.Database.Identifier {
			return fmt.Errorf("DB snapshot %s exists but is not this environment's snapshot of %s (instance %q, tags: %s): bootstrap takes the snapshot a major upgrade starts from under that name; rename or delete that snapshot, knowing what it holds, then run bootstrap upgrade --env %s %s again",
				id, p.Database.Identifier, snap.Instance, strings.Join(miss, "; "), p.Name, AllowDatabaseMajorFlag)
		}
		st.Progress.Info("snapshot %s of PostgreSQL %s exists (an earlier run took it): not taken again", id, snap.EngineVersion)
	} else {
		st.Progress.Info("snapshot %s of %s at PostgreSQL %s", id, p.Database.Identifier, db.EngineVersion)
		if err := api.CreateDBSnapshot(ctx, p.Database.Identifier, id, p.AllTags()); err != nil {
			return err
		}
	}
	return poll(ctx, st.Poll, "DB snapshot "+id+" to be available", func(ctx context.Context) (bool, error) {
		snap, err := api.DBSnapshot(ctx, id)
		switch {
		case err != nil:
			return false, err
		case !snap.Exists || snap.Status == "creating":
			return false, nil
		case snap.Status == "available":
			return true, nil
		}
		return false, fmt.Errorf("DB snapshot %s is %s, not available: the major upgrade does not start without it (aws rds describe-events --source-identifier %s --source-type db-snapshot)", id, snap.Status, id)
	})
}

// Describe implements Describer.
func (SnapshotBeforeMajor) Describe(_ context.Context, st *State) (Description, error) {
	p := st.Profile
	id := MajorSnapshotID(p)
	var tags []string
	for _, kv := range strings.Split(cloud.TagsString(p.AllTags()), ",") {
		k, v, _ := strings.Cut(kv, "=")
		tags = append(tags, "Key="+k+",Value="+v)
	}
	return Description{Actions: []Action{
		{Tool: "aws", Args: append([]string{"rds", "create-db-snapshot", "--db-instance-identifier", p.Database.Identifier, "--db-snapshot-identifier", id, "--region", p.Region, "--tags"}, tags...),
			Note:   "only when the instance runs a PostgreSQL major below the profile's " + PostgresMajor(p.Database.EngineVersion) + "; not again when the snapshot exists",
			Unless: []string{"aws", "rds", "describe-db-snapshots", "--db-snapshot-identifier", id, "--region", p.Region}},
		{Tool: "aws", Args: []string{"rds", "wait", "db-snapshot-available", "--db-snapshot-identifier", id, "--region", p.Region},
			Note: "the upgrade starts from this snapshot; restore it (aws rds restore-db-instance-from-db-snapshot) to go back"},
	}}, nil
}
