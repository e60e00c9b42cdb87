package testenv

import (
	"bufio"
	"errors"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// EnvOwnProcess names, in a test process OwnProcess started, the one test
// that process runs.
const EnvOwnProcess = "BOOTSTRAP_TEST_OWN_PROCESS"

// OwnProcess runs the calling top-level test in a test process of its own,
// beside the other tests of its package (t.Parallel), and reports whether it
// did. Use it at the top of a process test:
//
//	if testenv.OwnProcess(t) {
//		return // the test ran, in a process of its own
//	}
//
// A process test points the whole process at its moto server, terraform and
// fake eksctl (MotoServer.Use, UseTerraform, t.Setenv): the code under test
// and every program it starts read those from the environment, and
// t.Setenv cannot be used in parallel tests. OwnProcess starts this test
// binary again with only this test selected (and the subtests -run selects)
// and that one variable set; there OwnProcess returns false and the body
// runs alone in its process, with its own environment, moto server, run
// directory and temporary directories. In this process, it returns true
// once the other ended: its output is this test's log, its failure this
// test's failure, its skip this test's skip.
//
// Under -short it skips the test: process tests use the real parts.
func OwnProcess(t *testing.T) bool {
	t.Helper()
	skipShort(t, "a process test")
	name := t.Name()
	if strings.Contains(name, "/") {
		t.Fatalf("OwnProcess is for top-level tests, not %s", name)
	}
	if os.Getenv(EnvOwnProcess) == name {
		return false
	}
	t.Parallel()

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-test.run=" + childRun(name), "-test.v=true", "-test.count=1"}
	if f := flag.Lookup("test.skip"); f != nil && f.Value.String() != "" {
		args = append(args, "-test.skip="+f.Value.String())
	}
	if d, ok := t.Deadline(); ok {
		// Time out before this process does, so that the child prints
		// where it hung.
		left := time.Until(d) - 30*time.Second
		if left < time.Minute {
			left = time.Minute
		}
		args = append(args, "-test.timeout="+left.Round(time.Second).String())
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), EnvOwnProcess+"="+name)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Dir = wd
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	if err := cmd.Start(); err != nil {
		w.Close()
		r.Close()
		t.Fatalf("starting %s in its own process: %v", name, err)
	}
	w.Close()

	// The child's lines, as this test's log (shown with -v or on failure).
	// Its own "=== RUN" framing is left out; its results are kept.
	passed, skipped := false, false
	var said []string // the child's own test lines, for the failure summary
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=== "):
			continue
		case strings.HasPrefix(line, "--- PASS: "+name+" "):
			passed = true
		case strings.HasPrefix(line, "--- SKIP: "+name+" "):
			skipped = true
		case testLine.MatchString(line):
			said = append(said, line)
		}
		t.Log("| " + line)
	}
	r.Close()
	err = cmd.Wait()
	took := time.Since(start).Round(time.Second)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("%s failed in its own process (exit %d after %s): its output is above; its last test lines were:\n%s",
			name, exit.ExitCode(), took, strings.Join(lastLines(said, summaryLines), "\n"))
	case err != nil:
		t.Fatalf("%s in its own process: %v", name, err)
	case skipped:
		t.Skipf("%s skipped in its own process: the reason is above", name)
	case !passed:
		t.Fatalf("%s did not run in its own process (no PASS line): its output is above", name)
	}
	return true
}

// childRun is the -test.run pattern of the child: exactly the test, then
// the subtest levels of this process's -run, if it has any.
func childRun(name string) string {
	pattern := "^" + regexp.QuoteMeta(name) + "$"
	if f := flag.Lookup("test.run"); f != nil {
		if levels := splitRun(f.Value.String()); len(levels) > 1 {
			pattern += "/" + strings.Join(levels[1:], "/")
		}
	}
	return pattern
}

// splitRun splits a -run pattern into its per-level patterns at each slash
// outside brackets and parentheses, as the testing package does.
func splitRun(s string) []string {
	if s == "" {
		return nil
	}
	var levels []string
	cs, cp, start := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			cs++
		case ']':
			if cs--; cs < 0 {
				cs = 0
			}
		case '(':
			if cs == 0 {
				cp++
			}
		case ')':
			if cs == 0 {
				cp--
			}
		case '\\':
			i++
		case '/':
			if cs == 0 && cp == 0 {
				levels = append(levels, s[start:i])
				start = i + 1
			}
		}
	}
	return append(levels, s[start:])
}

// testLine matches the first line of what a test said (t.Log, t.Error,
// t.Fatal: "<indent>file_test.go:N: ..."), a result line or a panic: the
// lines that say why a test failed, where its full output (run logs,
// Terraform's lines) can be thousands of lines that a CI log shows only the
// end of.
var testLine = regexp.MustCompile(`^(\s+[\w.-]+\.go:\d+: |\s*--- (FAIL|SKIP): |panic: )`)

// summaryLines is how many of the child's test lines a failure repeats.
const summaryLines = 40

func lastLines(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}
