package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestOwnProcess: the body runs in another process of this same test binary,
// alone and not parallel there (t.Setenv would panic otherwise).
func TestOwnProcess(t *testing.T) {
	if OwnProcess(t) {
		return
	}
	if got := os.Getenv(EnvOwnProcess); got != t.Name() {
		t.Errorf("%s = %q, want %q", EnvOwnProcess, got, t.Name())
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	parent, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(os.Getppid()), "exe"))
	if err != nil {
		t.Skipf("cannot read the parent's executable: %v", err)
	}
	if parent != self {
		t.Errorf("started by %s, not by this test binary %s", parent, self)
	}
	t.Setenv("BOOTSTRAP_TEST_OWN_PROCESS_SETENV", "allowed")
}

// fixtureEnv makes TestOwnProcessFixture pass, fail or skip in its own
// process; without it the fixture does nothing.
const fixtureEnv = "BOOTSTRAP_TEST_OWN_PROCESS_FIXTURE"

func TestOwnProcessFixture(t *testing.T) {
	want := os.Getenv(fixtureEnv)
	if want == "" {
		t.Skip("run by TestOwnProcessReportsTheResult")
	}
	if OwnProcess(t) {
		return
	}
	t.Log("the body ran")
	switch want {
	case "fail":
		t.Error("failing on purpose")
	case "skip":
		t.Skip("skipping on purpose")
	}
}

// TestOwnProcessReportsTheResult: the child's pass, failure or skip is the
// test's, with the child's output in the log.
func TestOwnProcessReportsTheResult(t *testing.T) {
	skipShort(t, "a process test")
	t.Parallel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		result string
		exit   int
		want   []string
	}{
		{"pass", 0, []string{"--- PASS: TestOwnProcessFixture", "| --- PASS: TestOwnProcessFixture", "the body ran"}},
		{"fail", 1, []string{"--- FAIL: TestOwnProcessFixture", "failing on purpose", "failed in its own process (exit 1"}},
		{"skip", 0, []string{"--- SKIP: TestOwnProcessFixture", "skipping on purpose", "skipped in its own process"}},
	} {
		t.Run(c.result, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(self, "-test.run=^TestOwnProcessFixture$", "-test.v=true")
			cmd.Env = append(os.Environ(), fixtureEnv+"="+c.result)
			out, err := cmd.CombinedOutput()
			code := 0
			if e, ok := err.(*exec.ExitError); ok {
				code = e.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.exit {
				t.Errorf("exit %d, want %d\n%s", code, c.exit, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			// A failure repeats the child's own lines after its output, so
			// that the end of a long log (all a CI page shows) says why.
			summary := regexp.MustCompile(`its last test lines were:\n\s+process_test\.go:\d+: the body ran\n\s+process_test\.go:\d+: failing on purpose\n`)
			if got := summary.MatchString(string(out)); got != (c.result == "fail") {
				t.Errorf("the failure summary is there: %t, want %t:\n%s", got, c.result == "fail", out)
			}
		})
	}
}

func TestSplitRun(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"":                     nil,
		"TestA":                {"TestA"},
		"TestA/staging":        {"TestA", "staging"},
		"TestA|TestB/x/y":      {"TestA|TestB", "x", "y"},
		"Test[/]A/(a/b)":       {"Test[/]A", "(a/b)"},
		`Test\/A/b`:            {`Test\/A`, "b"},
		"^TestClusterProcess$": {"^TestClusterProcess$"},
	} {
		if got := splitRun(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitRun(%q) = %q, want %q", in, got, want)
		}
	}
}
