package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSharedNameFixtures: each invalid-shared-*.yaml reports, at its
// "# want:" paths (TestInvalidFixtures), a problem whose message names the
// other environment's path given in its "# also-names:" lines.
func TestSharedNameFixtures(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/invalid-shared-*.yaml")
	if len(files) < 8 {
		t.Fatalf("only %d shared-name fixtures", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var also []string
			for _, line := range strings.Split(string(data), "\n") {
				if w, ok := strings.CutPrefix(line, "# also-names: "); ok {
					also = append(also, strings.TrimSpace(w))
				}
			}
			if len(also) == 0 {
				t.Fatal("no # also-names: line")
			}
			f, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			probs := SharedNames(f)
			if len(probs) == 0 {
				t.Fatal("no shared name reported")
			}
			for _, a := range also {
				found := false
				for _, p := range probs {
					found = found || strings.Contains(p.Message, a)
				}
				if !found {
					t.Errorf("no problem names %q: %v", a, probs)
				}
			}
		})
	}
}

// TestBuiltinProfilesShareNothing: the built-in staging and production,
// in one account and region, own no name in common.
func TestBuiltinProfilesShareNothing(t *testing.T) {
	t.Parallel()
	if probs := SharedNames(BuiltinFile()); len(probs) > 0 {
		t.Errorf("built-in profiles: %v", probs)
	}
}

// TestPostgresWindowsComplete: every supported major has both ends of its
// support window, extended after standard.
func TestPostgresWindowsComplete(t *testing.T) {
	t.Parallel()
	for major, std := range PostgresMajors {
		ext, ok := PostgresExtendedEnds[major]
		if !ok || !ext.After(std) {
			t.Errorf("PostgreSQL %s: standard support to %s, extended to %v", major, std.Format("2006-01-02"), ext)
		}
	}
}

// TestUsageOverlay: a file changes one usage value, or one log type, and the
// rest keep the built-in defaults.
func TestUsageOverlay(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte(`apiVersion: bootstrap.sovd.io/v1alpha1
kind: Config
environments:
  production:
    usage:
      natGB: 250
      controlPlaneLogGB:
        audit: 60
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(f, today); err != nil {
		t.Fatal(err)
	}
	u, def := f.Environments["production"].Usage, Builtin("production").Usage
	if u.NATGB != 250 || u.ControlPlaneLogGB["audit"] != 60 {
		t.Errorf("the file's values were not taken: %+v", u)
	}
	if u.ControlPlaneLogGB["api"] != def.ControlPlaneLogGB["api"] || u.ALBLCUs != def.ALBLCUs || u.NodeCPUPercent != def.NodeCPUPercent {
		t.Errorf("values the file does not name lost their defaults: %+v", u)
	}
}
