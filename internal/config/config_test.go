package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/config/configtest"
)

// today is the clock for validation: version support depends on the date.
var today = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestBuiltinProfilesAreValid(t *testing.T) {
	t.Parallel()
	if err := Validate(BuiltinFile(), today); err != nil {
		t.Fatalf("built-in profiles are invalid: %v", err)
	}
}

func TestBuiltinProductionCarriesTheSeed(t *testing.T) {
	t.Parallel()
	p := Builtin("production")
	checks := map[string][2]any{
		"cluster name":     {p.Cluster.Name, "sovd-production-cluster"},
		"database name":    {p.Database.Name, "sovd_production"},
		"database user":    {p.Database.Username, "sovd_admin"},
		"namespace":        {p.App.Namespace, "production"},
		"service account":  {p.App.ServiceAccount, "sovd-webapp-production-sa"},
		"region":           {p.Region, "us-east-1"},
		"node type":        {p.Cluster.NodeGroup.InstanceType, "t3.large"},
		"nodes":            {p.Cluster.NodeGroup.Desired, 3},
		"NAT":              {p.Cluster.NAT, "HighlyAvailable"},
		"multi-AZ":         {p.Database.MultiAZ, true},
		"backups":          {p.Database.BackupRetentionDays, 7},
		"protection":       {p.Protection, Protection{DeletionProtection: true, FinalSnapshot: true, TypedConfirmation: true}},
		"redis failover":   {p.Redis.AutomaticFailover, true},
		"postgres":         {p.Database.EngineVersion, "15"},
		"secrets":          {strings.Join(p.SecretNames(), ","), "sovd/production/database,sovd/production/jwt,sovd/production/redis"},
		"ECR repositories": {strings.Join(p.Registry.Repositories, ","), "sovd-backend,sovd-frontend"},
	}
	for what, c := range checks {
		if !reflect.DeepEqual(c[0], c[1]) {
			t.Errorf("%s = %v, want %v", what, c[0], c[1])
		}
	}
	if len(p.AvailabilityZones) != 3 {
		t.Errorf("production lists %d zones, want 3", len(p.AvailabilityZones))
	}
	if s := Builtin("staging"); s.Cluster.NAT != "Single" || s.Database.MultiAZ || s.Secrets.RecoveryWindowDays != 0 {
		t.Errorf("staging should be single-NAT, single-AZ, no secret recovery window: %+v", s)
	}
}

func TestValidFixtures(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/valid-*.yaml")
	if len(files) == 0 {
		t.Fatal("no valid fixtures")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			f, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(f, today); err != nil {
				t.Fatalf("want valid, got %v", err)
			}
		})
	}
}

// TestInvalidFixtures: every invalid-*.yaml names, in "# want:" lines, the
// paths its problems must be reported at.
func TestInvalidFixtures(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/invalid-*.yaml")
	if len(files) < 30 {
		t.Fatalf("only %d invalid fixtures, want at least 30", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			wants := configtest.WantPaths(t, file)
			f, err := Load(file)
			if err == nil {
				err = Validate(f, today)
			}
			var probs Problems
			if err == nil {
				t.Fatal("want problems, got none")
			}
			if !asProblems(err, &probs) {
				t.Fatalf("want Problems, got %T: %v", err, err)
			}
			for _, h := range configtest.WantHints(t, file) {
				if !strings.Contains(probs.Error(), h) {
					t.Errorf("no problem says %q; got:\n%v", h, probs)
				}
			}
			for _, w := range wants {
				if w == configtest.NoPath {
					w = ""
				}
				found := false
				for _, p := range probs {
					if p.Path == w {
						found = true
						if p.Message == "" {
							t.Errorf("problem at %s has no message", w)
						}
					}
				}
				if !found {
					t.Errorf("no problem reported at %s; got:\n%v", w, probs)
				}
			}
		})
	}
}

func asProblems(err error, out *Problems) bool {
	for err != nil {
		if p, ok := err.(Problems); ok {
			*out = p
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestFileOverlaysBuiltin(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte("apiVersion: " + APIVersion + "\nkind: Config\nenvironments:\n  production:\n    database:\n      instanceClass: db.m6i.large\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := f.Environments["production"]
	want := Builtin("production")
	want.Database.InstanceClass = "db.m6i.large"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("overlay changed more than the one field:\n got %+v\nwant %+v", got, want)
	}
}

func TestInitFileRoundTrips(t *testing.T) {
	t.Parallel()
	data, err := Marshal(BuiltinFile())
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(f, today); err != nil {
		t.Fatalf("the file init writes is invalid: %v", err)
	}
	if !reflect.DeepEqual(f.Environments, BuiltinFile().Environments) {
		t.Errorf("round trip changed the profiles")
	}
}

func TestResolveUnknownEnvironment(t *testing.T) {
	t.Parallel()
	_, err := Resolve(filepath.Join(t.TempDir(), "absent.yaml"), "production", today)
	if err == nil || !strings.Contains(err.Error(), "reading configuration") {
		t.Fatalf("an explicit missing file must fail, got %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "b.yaml")
	os.WriteFile(path, []byte("apiVersion: "+APIVersion+"\nkind: Config\nenvironments:\n  qa: {}\n"), 0o644)
	_, err = Resolve(path, "prod", today)
	if err == nil || !strings.Contains(err.Error(), `no environment "prod"`) || !strings.Contains(err.Error(), "known: qa") {
		t.Fatalf("want an error naming the known environments, got %v", err)
	}
}

func TestKubernetesSupportTiers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		version string
		on      time.Time
		tier    string
	}{
		{"1.35", today, "standard"},
		{"1.34", today, "standard"},
		{"1.34", time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), "extended"},
		{"1.31", today, "extended"},
		{"1.30", today, "unsupported"},
	}
	for _, c := range cases {
		k, ok := LookupKubeVersion(c.version)
		if !ok {
			t.Fatalf("%s not in catalog", c.version)
		}
		if got := k.SupportTier(c.on); got != c.tier {
			t.Errorf("%s on %s: tier %s, want %s", c.version, c.on.Format(time.DateOnly), got, c.tier)
		}
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	p := Builtin("production")
	if w := Warnings(p, today); len(w) != 0 {
		t.Errorf("production's built-in profile should raise no warning, got %v", w)
	}
	p.Cluster.NAT = "Single"
	if w := Warnings(p, today); len(w) != 1 || !strings.Contains(w[0], "a single NAT gateway") {
		t.Errorf("a protected profile with one NAT gateway, got %v", w)
	}
}
