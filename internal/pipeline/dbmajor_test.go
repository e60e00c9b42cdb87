package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
)

// TestPreflightDatabaseMajorAllowed: --allow-database-major lifts the
// refusal of a major upgrade and nothing else; a downgrade stays refused.
func TestPreflightDatabaseMajorAllowed(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	p.Cluster.KubernetesVersion = "1.35"
	p.Database.EngineVersion = "16"
	live := liveAt(p, "1.35")
	live.Database = "15.7"
	if refusals, _ := Preflight(p, live, nil, nil, true); len(refusals) != 0 {
		t.Errorf("a major allowed by the flag was refused: %+v", refusals)
	}
	refusals, _ := Preflight(p, live, nil, nil, false)
	check(t, refusals, "from major 15 to 16", "--allow-database-major")
	live.Database = "17.2"
	refusals, _ = Preflight(p, live, nil, nil, true)
	check(t, refusals, "does not downgrade", "engineVersion to 17")
}

// fakeDBMajor is RDS as SnapshotBeforeMajor sees it: one instance, its
// snapshots; a snapshot is available once described after its creation.
type fakeDBMajor struct {
	db      cloud.DBFacts
	after   string
	snaps   map[string]cloud.DBSnapshotFacts
	created []string
}

// DBFacts: an instance not available becomes available, at the version
// it was going to (after), on the next read.
func (f *fakeDBMajor) DBFacts(context.Context, string) (cloud.DBFacts, error) {
	out := f.db
	if f.db.Status != "available" {
		f.db.Status = "available"
		if f.after != "" {
			f.db.EngineVersion = f.after
		}
	}
	return out, nil
}

func (f *fakeDBMajor) DBSnapshot(_ context.Context, id string) (cloud.DBSnapshotFacts, error) {
	s, ok := f.snaps[id]
	if !ok {
		return cloud.DBSnapshotFacts{ID: id}, nil
	}
	out := s
	if s.Status == "creating" {
		s.Status = "available"
		f.snaps[id] = s
	}
	return out, nil
}

func (f *fakeDBMajor) CreateDBSnapshot(_ context.Context, instance, id string, tags map[string]string) error {
	f.created = append(f.created, id)
	f.snaps[id] = cloud.DBSnapshotFacts{ID: id, Exists: true, Status: "creating", Instance: instance, EngineVersion: f.db.EngineVersion, Tags: tags}
	return nil
}

func TestSnapshotBeforeMajor(t *testing.T) {
	t.Parallel()
	mine := map[string]string{"Environment": "staging", "Application": "sovd", "ManagedBy": "bootstrap"}
	tests := []struct {
		name        string
		live        string
		status      string // "" is available
		after       string // the version once available
		snaps       map[string]cloud.DBSnapshotFacts
		wantCreated int
		wantErr     string
		wantLog     string
	}{
		{name: "major pending: taken, waited for", live: "15.7", wantCreated: 1, wantLog: "snapshot sovd-staging-before-postgres16 of sovd-staging at PostgreSQL 15.7"},
		{name: "taken by an earlier run: not again", live: "15.7",
			snaps:   map[string]cloud.DBSnapshotFacts{"sovd-staging-before-postgres16": {Exists: true, Status: "creating", Instance: "sovd-staging", EngineVersion: "15.7", Tags: mine}},
			wantLog: "not taken again"},
		{name: "already at the new major: nothing", live: "16.3", wantLog: "no major upgrade to make"},
		{name: "still upgrading after an interrupted run: waited for, then nothing", live: "15.7", status: "upgrading", after: "16.3",
			snaps:   map[string]cloud.DBSnapshotFacts{"sovd-staging-before-postgres16": {Exists: true, Status: "available", Instance: "sovd-staging", Tags: mine}},
			wantLog: "PostgreSQL 16.3 on sovd-staging: no major upgrade to make"},
		{name: "a snapshot of that name not this environment's", live: "15.7",
			snaps:   map[string]cloud.DBSnapshotFacts{"sovd-staging-before-postgres16": {Exists: true, Status: "available", Instance: "sovd-staging", Tags: map[string]string{"Environment": "production", "Application": "sovd", "ManagedBy": "bootstrap"}}},
			wantErr: "exists but is not this environment's snapshot of sovd-staging"},
		{name: "a snapshot that failed", live: "15.7",
			snaps:   map[string]cloud.DBSnapshotFacts{"sovd-staging-before-postgres16": {Exists: true, Status: "failed", Instance: "sovd-staging", Tags: mine}},
			wantErr: "is failed, not available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := config.Builtin("staging")
			p.Database.EngineVersion = "16"
			status := tt.status
			if status == "" {
				status = "available"
			}
			api := &fakeDBMajor{db: cloud.DBFacts{Identifier: "sovd-staging", Exists: true, Status: status, EngineVersion: tt.live}, after: tt.after, snaps: map[string]cloud.DBSnapshotFacts{}}
			for k, v := range tt.snaps {
				api.snaps[k] = v
			}
			var log bytes.Buffer
			st := &State{Profile: p, Services: Services{Redact: &proc.Redactor{}, Progress: NewProgress(&log, false, false),
				Poll: Backoff{Initial: time.Millisecond, Max: time.Millisecond, Limit: 5 * time.Second}}}
			err := SnapshotBeforeMajor{AWS: api}.Run(context.Background(), st)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if len(api.created) != tt.wantCreated {
				t.Errorf("snapshots taken: %v, want %d", api.created, tt.wantCreated)
			}
			if tt.wantCreated > 0 {
				s := api.snaps["sovd-staging-before-postgres16"]
				if s.Status != "available" || !envOwnership(p).Owns(s.Tags) {
					t.Errorf("snapshot %+v: want available and tagged as staging's", s)
				}
			}
			if tt.wantLog != "" && !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, log.String())
			}
		})
	}
}

// TestDatabaseMajorSteps: the flag swaps the data tier's apply for the
// snapshot and the apply that allows the major, in that order, and the
// apply's variables allow it and apply at once.
func TestDatabaseMajorSteps(t *testing.T) {
	t.Parallel()
	names := func(steps []Step) (out []string) {
		for _, s := range steps {
			out = append(out, s.Name())
		}
		return out
	}
	plain, major := UpgradeStepsWith(AddonOptions{}, false), UpgradeStepsWith(AddonOptions{}, true)
	if len(major) != len(plain)+1 {
		t.Fatalf("with the flag %d steps, without %d: want one more (the snapshot)", len(major), len(plain))
	}
	i := strings.Index(strings.Join(names(major), "|"), SnapshotBeforeMajor{}.Name()+"|"+ApplyData{}.Name())
	if i < 0 {
		t.Fatalf("no snapshot right before the apply: %v", names(major))
	}
	for _, s := range major {
		if a, ok := s.(ApplyData); ok && !a.AllowDatabaseMajor {
			t.Errorf("the apply with the flag does not allow the major")
		}
		if pf, ok := s.(PreflightUpgrade); ok && !pf.AllowDatabaseMajor {
			t.Errorf("the preflight with the flag still refuses the major")
		}
	}
	p := config.Builtin("production")
	st := &State{Profile: p}
	v := ApplyData{AllowDatabaseMajor: true}.vars(st)
	if v["allow_major_version_upgrade"] != true || v["apply_immediately"] != true {
		t.Errorf("major apply vars: allow %v, immediately %v", v["allow_major_version_upgrade"], v["apply_immediately"])
	}
	v = ApplyData{}.vars(st)
	if v["allow_major_version_upgrade"] != false || v["apply_immediately"] != false {
		t.Errorf("plain apply vars on production: allow %v, immediately %v", v["allow_major_version_upgrade"], v["apply_immediately"])
	}
}

// TestCheckDatabaseMajor: a plain data-tier apply stops before Terraform on
// a major change either way, and lets minors and a missing instance pass.
func TestCheckDatabaseMajor(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	for _, tt := range []struct{ profile, live, want string }{
		{"15", "", ""},
		{"15", "15.7", ""},
		{"15.10", "15.7", ""},
		{"16", "15.7", "bootstrap upgrade --env staging --allow-database-major"},
		{"15", "16.2", "RDS does not downgrade"},
	} {
		p.Database.EngineVersion = tt.profile
		err := checkDatabaseMajor(p, tt.live)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("profile %s, live %q: %v, want %q", tt.profile, tt.live, err, tt.want)
		}
	}
}

// majorData is a DataAPI whose database runs PostgreSQL 15.10; a method not
// overridden here is not expected (the nil DataAPI would panic).
type majorData struct {
	DataAPI
	finds int
}

func (*majorData) AccountID(context.Context) (string, error) { return "123456789012", nil }
func (f *majorData) FindDBInstance(_ context.Context, id string) (cloud.Found, error) {
	f.finds++
	return cloud.Found{Kind: cloud.KindDBInstance, Name: id, ID: id, Status: "available", Version: "15.10"}, nil
}

// TestApplyDataStopsBeforeAMajor: with the profile at 16 and the instance
// at 15, the data step stops, naming the flag, before Terraform (nothing
// else of the API is called), and it reads the instance once per run: the
// ownership check's lookup when it ran.
func TestApplyDataStopsBeforeAMajor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	api := &majorData{}
	st := &State{Profile: config.Builtin("staging"), Dir: t.TempDir()}
	st.Profile.Database.EngineVersion = "16"
	err := ApplyData{AWS: api}.Run(ctx, st)
	if err == nil || !strings.Contains(err.Error(), AllowDatabaseMajorFlag) || !strings.Contains(err.Error(), "runs PostgreSQL 15.10") {
		t.Fatalf("ApplyData at a major: %v", err)
	}
	if api.finds != 1 {
		t.Errorf("the instance was read %d times, want 1", api.finds)
	}
	// Read again in the same run: served from what was read.
	if err := (ApplyData{AWS: api}).Run(ctx, st); err == nil || api.finds != 1 {
		t.Errorf("second step in the run: %v, %d reads", err, api.finds)
	}
}
