// Command testtimes reads the event stream of `go test -json` on standard
// input, prints what `go test` would have printed without -json (each
// package's closing ok/FAIL line, and the whole output of a failed test), and
// ends with where the time went: the wall time of each package and the ten
// slowest tests. With -v it prints every line, as `go test -v` does.
//
// It exits 1 when a test, a package or a build failed, 0 otherwise.
// hack/test.sh runs `go test -json ... | testtimes` under `set -o pipefail`.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Time       time.Time
	Action     string
	Package    string
	ImportPath string // build-output, build-fail
	Test       string
	Elapsed    float64 // seconds
	Output     string
}

type result struct {
	pkg, test, action string
	elapsed           time.Duration
}

type summary struct {
	verbose bool
	out     io.Writer

	// Output of each running top-level test (with its subtests'), printed
	// only if it fails.
	pending map[[2]string][]string
	order   map[string][]string // top-level tests of a package, in start order
	tests   []result
	pkgs    []result
	failed  bool
	start   time.Time
}

func newSummary(out io.Writer, verbose bool) *summary {
	return &summary{verbose: verbose, out: out, pending: map[[2]string][]string{}, order: map[string][]string{}, start: time.Now()}
}

func topLevel(test string) string {
	name, _, _ := strings.Cut(test, "/")
	return name
}

// line handles one input line: an event, or anything else (printed as is).
func (s *summary) line(raw string) {
	var e event
	if !strings.HasPrefix(raw, "{") || json.Unmarshal([]byte(raw), &e) != nil || e.Action == "" {
		fmt.Fprintln(s.out, raw)
		return
	}
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
		return
	case "build-fail":
		s.failed = true
		return
	}
	if e.Test == "" {
		s.packageEvent(e)
		return
	}
	key := [2]string{e.Package, topLevel(e.Test)}
	switch e.Action {
	case "run":
		if e.Test == key[1] {
			s.order[e.Package] = append(s.order[e.Package], key[1])
		}
	case "output":
		if s.verbose {
			fmt.Fprint(s.out, e.Output)
		} else {
			s.pending[key] = append(s.pending[key], e.Output)
		}
	case "pass", "fail", "skip":
		if e.Test != key[1] {
			return
		}
		s.tests = append(s.tests, result{pkg: e.Package, test: e.Test, action: e.Action, elapsed: seconds(e.Elapsed)})
		if e.Action == "fail" {
			s.failed = true
			s.flush(key)
		}
		delete(s.pending, key)
	}
}

func (s *summary) packageEvent(e event) {
	switch e.Action {
	case "output":
		// Without -v, go test prints a package's own lines except the bare
		// PASS before its ok line.
		if s.verbose || strings.TrimSpace(e.Output) != "PASS" {
			fmt.Fprint(s.out, e.Output)
		}
	case "pass", "fail", "skip":
		if e.Action == "fail" {
			s.failed = true
			// A test binary that died (a panic, a timeout) ends its
			// running tests without their own fail event: show them.
			for _, name := range s.order[e.Package] {
				s.flush([2]string{e.Package, name})
			}
		}
		s.pkgs = append(s.pkgs, result{pkg: e.Package, action: e.Action, elapsed: seconds(e.Elapsed)})
	}
}

func (s *summary) flush(key [2]string) {
	for _, o := range s.pending[key] {
		fmt.Fprint(s.out, o)
	}
	delete(s.pending, key)
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// report prints the wall time of each package that ran tests, slowest
// first, and the ten slowest top-level tests.
func (s *summary) report() {
	fmt.Fprintf(s.out, "\n== where the time went (%s in all)\n", time.Since(s.start).Round(time.Second))
	sort.SliceStable(s.pkgs, func(i, j int) bool { return s.pkgs[i].elapsed > s.pkgs[j].elapsed })
	fmt.Fprintln(s.out, "packages (wall time):")
	for _, p := range s.pkgs {
		if p.action == "skip" { // no test files
			continue
		}
		fmt.Fprintf(s.out, "  %9s  %-4s  %s\n", round(p.elapsed), strings.ToUpper(p.action), p.pkg)
	}
	sort.SliceStable(s.tests, func(i, j int) bool { return s.tests[i].elapsed > s.tests[j].elapsed })
	n := min(10, len(s.tests))
	fmt.Fprintf(s.out, "the %d slowest tests:\n", n)
	for _, r := range s.tests[:n] {
		fmt.Fprintf(s.out, "  %9s  %-4s  %s %s\n", round(r.elapsed), strings.ToUpper(r.action), r.pkg, r.test)
	}
}

func round(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

func main() {
	verbose := flag.Bool("v", false, "print every line, as go test -v does")
	flag.Parse()
	s := newSummary(os.Stdout, *verbose)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		s.line(sc.Text())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "testtimes: reading go test -json: %v\n", err)
		s.failed = true
	}
	s.report()
	if s.failed {
		os.Exit(1)
	}
}
