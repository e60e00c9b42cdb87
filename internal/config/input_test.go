package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func file(body string) []byte {
	return []byte("apiVersion: " + APIVersion + "\nkind: Config\nenvironments:\n" + body)
}

func problemsOf(t *testing.T, data []byte) Problems {
	t.Helper()
	f, err := Parse(data)
	if err == nil {
		err = Validate(f, today)
	}
	var probs Problems
	if err == nil || !asProblems(err, &probs) {
		t.Fatalf("want Problems, got %v", err)
	}
	return probs
}

// TestOneMistakeIsOneProblem: a mistake is reported where it is made, not
// again by every check that depends on it.
func TestOneMistakeIsOneProblem(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		body string
		path string
	}{
		"region typo":            {"  production:\n    region: us-east-l\n", "environments.production.region"},
		"environments as a list": {"  - production\n", "environments"},
		"environment as a list":  {"  production:\n    - region: us-east-1\n", "environments.production"},
		"zones as a string":      {"  production:\n    availabilityZones: us-east-1a\n", "environments.production.availabilityZones"},
		"zone of the wrong kind": {"  production:\n    availabilityZones: [us-east-1a, 7, us-east-1c]\n", "environments.production.availabilityZones[1]"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			probs := problemsOf(t, file(c.body))
			if len(probs) != 1 || probs[0].Path != c.path {
				t.Fatalf("want one problem at %s, got %d:\n%v", c.path, len(probs), probs)
			}
		})
	}
}

// TestEchoedValuesAreTruncated: a huge value is quoted in part, once.
func TestEchoedValuesAreTruncated(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 200_000)
	probs := problemsOf(t, file("  production:\n    cluster:\n      name: "+huge+"\n    database:\n      instanceClass: "+huge+"\n    "+huge[:1000]+": 1\n"))
	msg := probs.Error()
	if len(msg) > 4000 {
		t.Errorf("the report is %d bytes long for 3 problems:\n%.500s", len(msg), msg)
	}
	if !strings.Contains(msg, strings.Repeat("x", maxEcho)+"\"…") {
		t.Errorf("the value is not truncated with an ellipsis:\n%.500s", msg)
	}
}

func TestLoadLimits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, append(file("  production: {}\n"), make([]byte, MaxFileSize)...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(big)
	if err == nil || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "larger than 1024 KiB") {
		t.Fatalf("want a size error naming %s, got %v", big, err)
	}
	// Aliases that expand a small file into millions of values.
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	probs := problemsOf(t, []byte(bomb))
	if !strings.Contains(probs.Error(), "expands to more than") {
		t.Fatalf("want the alias expansion refused, got %v", probs)
	}
}

// TestProtectionIsAProfileProperty: a new environment is protected whatever
// its name; staging's built-in (file-less) profile turns protection off
// explicitly; and Protected follows the profile, not the name.
func TestProtectionIsAProfileProperty(t *testing.T) {
	t.Parallel()
	all := Protection{DeletionProtection: true, FinalSnapshot: true, TypedConfirmation: true}
	for _, env := range []string{"production", "prod", "production-eu", "qa1"} {
		p := Builtin(env)
		if p.Protection != all || !p.Protected() || p.Secrets.RecoveryWindowDays == 0 {
			t.Errorf("%s: protection %+v, recovery window %d; want all on", env, p.Protection, p.Secrets.RecoveryWindowDays)
		}
	}
	s := Builtin("staging")
	if s.Protection != (Protection{}) || s.Protected() || s.Secrets.RecoveryWindowDays != 0 {
		t.Errorf("staging: protection %+v; want off", s.Protection)
	}
	f, err := Parse(file("  production:\n    protection: {deletionProtection: false, finalSnapshot: false, typedConfirmation: false}\n  staging:\n    protection: {finalSnapshot: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Environments["production"].Protected() || !f.Environments["staging"].Protected() {
		t.Errorf("Protected() does not follow the profile: production %v, staging %v", f.Environments["production"].Protected(), f.Environments["staging"].Protected())
	}
}

// TestFileEnvironmentsStartProtected: an environment a file names is
// protected whatever its name, "staging" included, until the file's own keys
// turn protection off; only the file-less built-in staging is unprotected.
func TestFileEnvironmentsStartProtected(t *testing.T) {
	t.Parallel()
	all := Protection{DeletionProtection: true, FinalSnapshot: true, TypedConfirmation: true}
	for _, tc := range []struct {
		name, body string
		want       Protection
		window     int
	}{
		{"empty mapping", "  staging: {}\n", all, 30},
		{"null body", "  staging:\n", all, 30},
		{"production-like env called staging", "  staging:\n    database: {multiAZ: true, instanceClass: db.t3.large}\n", all, 30},
		{"other fields only", "  staging:\n    secrets: {prefix: sovd/stg}\n", all, 30},
		{"explicitly off", "  staging:\n    protection: {deletionProtection: false, finalSnapshot: false, typedConfirmation: false}\n    secrets: {recoveryWindowDays: 0}\n", Protection{}, 0},
		{"one part off", "  staging:\n    protection: {typedConfirmation: false}\n", Protection{DeletionProtection: true, FinalSnapshot: true}, 30},
		{"off under any name", "  scratch:\n    protection: {deletionProtection: false, finalSnapshot: false, typedConfirmation: false}\n", Protection{}, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(file(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Environments) != 1 {
				t.Fatalf("want one environment, got %d", len(f.Environments))
			}
			for name, p := range f.Environments {
				if p.Protection != tc.want || p.Secrets.RecoveryWindowDays != tc.window {
					t.Errorf("%s: protection %+v, recovery window %d; want %+v, %d", name, p.Protection, p.Secrets.RecoveryWindowDays, tc.want, tc.window)
				}
				if p.Protected() != (tc.want != Protection{}) {
					t.Errorf("%s: Protected() = %t for %+v", name, p.Protected(), p.Protection)
				}
			}
		})
	}
}

// TestNoFileKeepsBuiltinStaging: with no bootstrap.yaml (Load's empty path,
// DefaultPath absent) `--env staging` is the built-in staging, protection off,
// as the README says; production is protected.
func TestNoFileKeepsBuiltinStaging(t *testing.T) {
	t.Chdir(t.TempDir()) // no bootstrap.yaml here; Chdir forbids t.Parallel
	s, err := Resolve("", "staging", today)
	if err != nil {
		t.Fatal(err)
	}
	if s.Protected() || s.Secrets.RecoveryWindowDays != 0 {
		t.Errorf("file-less staging: protection %+v, window %d; want off, 0", s.Protection, s.Secrets.RecoveryWindowDays)
	}
	p, err := Resolve("", "production", today)
	if err != nil {
		t.Fatal(err)
	}
	if p.Protection != fullProtection || p.Secrets.RecoveryWindowDays != 30 {
		t.Errorf("file-less production: protection %+v, window %d; want all on, 30", p.Protection, p.Secrets.RecoveryWindowDays)
	}
}

// TestNoSafetyDecisionOnAName fails when non-test Go or the Terraform root
// compares an environment's name with a literal. Builtin's switch is the one
// place a name picks values: the built-in profiles' defaults, which a file
// overrides and plan shows. Its protection-off for staging reaches only the
// file-less profile: a file's environments start from FileBase
// (TestFileEnvironmentsStartProtected).
func TestNoSafetyDecisionOnAName(t *testing.T) {
	t.Parallel()
	goCmp := regexp.MustCompile(`(Profile\.Name|\bp\.Name|\b[eE]nv\w*|\bopts\.Env)\s*[!=]=\s*"[a-z]|[a-z]"\s*[!=]=\s*(\S*Profile\.Name|p\.Name|[eE]nv\w*)\b|case\s+"(production|staging|prod)"`)
	hclCmp := regexp.MustCompile(`var\.environment\s*[!=]=|[!=]=\s*var\.environment|contains\([^)]*var\.environment\)|startswith\(var\.environment|var\.environment\s*\?`)
	root := filepath.Join("..", "..")
	var checked int
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".bootstrap", ".cache", "testdata", "node_modules", ".terraform":
				return filepath.SkipDir
			}
			return nil
		}
		var re *regexp.Regexp
		switch {
		case strings.HasSuffix(path, "_test.go"):
			return nil
		case strings.HasSuffix(path, ".go"):
			re = goCmp
		case strings.HasSuffix(path, ".tf"):
			re = hclCmp
		default:
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for i, line := range strings.Split(string(data), "\n") {
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "//") || strings.HasPrefix(trimmed, "#") {
				continue
			}
			if re.MatchString(line) && !(filepath.Base(path) == "defaults.go" && strings.HasPrefix(trimmed, "case \"")) {
				t.Errorf("%s:%d compares a name with a literal: %s", path, i+1, trimmed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files", checked)
	}
}

// TestAnchorsAndMergeKeys: YAML's anchors, aliases and merge keys are read as
// YAML defines them; a mapping's own key wins over a merged one.
func TestAnchorsAndMergeKeys(t *testing.T) {
	t.Parallel()
	f, err := Parse(file("  staging:\n    database: &db\n      instanceClass: db.m6i.large\n      allocatedStorageGB: 50\n" +
		"  prod1:\n    database:\n      <<: *db\n      allocatedStorageGB: 200\n      maxAllocatedStorageGB: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(f, today); err != nil {
		t.Fatal(err)
	}
	d := f.Environments["prod1"].Database
	if d.InstanceClass != "db.m6i.large" || d.AllocatedStorageGB != 200 {
		t.Errorf("merge: class %s, storage %d; want db.m6i.large, 200", d.InstanceClass, d.AllocatedStorageGB)
	}
}

// TestDuplicateKeepsValidating: a duplicate key is one problem, and the rest
// of the file (read with the first value) is still validated.
func TestDuplicateKeepsValidating(t *testing.T) {
	t.Parallel()
	probs := problemsOf(t, file("  production:\n    redis:\n      port: 22\nenvironments:\n  staging: {}\n"))
	paths := map[string]bool{}
	for _, p := range probs {
		paths[p.Path] = true
	}
	if len(probs) != 2 || !paths["environments"] || !paths["environments.production.redis.port"] {
		t.Fatalf("want the duplicate and the first block's redis.port, got:\n%v", probs)
	}
}
