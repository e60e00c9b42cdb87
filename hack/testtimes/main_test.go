package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func events(t *testing.T, evs ...event) []string {
	t.Helper()
	var lines []string
	for _, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	return lines
}

func TestSummary(t *testing.T) {
	t.Parallel()
	const a, b = "example.com/a", "example.com/b"
	lines := append([]string{"== go test (not JSON)"}, events(t,
		event{Action: "start", Package: a},
		event{Action: "run", Package: a, Test: "TestQuick"},
		event{Action: "output", Package: a, Test: "TestQuick", Output: "=== RUN   TestQuick\n"},
		event{Action: "output", Package: a, Test: "TestQuick", Output: "    a_test.go:9: quiet log\n"},
		event{Action: "pass", Package: a, Test: "TestQuick", Elapsed: 0.2},
		event{Action: "run", Package: a, Test: "TestSlow"},
		event{Action: "run", Package: a, Test: "TestSlow/sub"},
		event{Action: "output", Package: a, Test: "TestSlow/sub", Output: "    a_test.go:20: the reason it failed\n"},
		event{Action: "fail", Package: a, Test: "TestSlow/sub", Elapsed: 700},
		event{Action: "output", Package: a, Test: "TestSlow", Output: "--- FAIL: TestSlow (700.00s)\n"},
		event{Action: "fail", Package: a, Test: "TestSlow", Elapsed: 700},
		event{Action: "output", Package: a, Output: "FAIL\n"},
		event{Action: "output", Package: a, Output: "FAIL\texample.com/a\t701.000s\n"},
		event{Action: "fail", Package: a, Elapsed: 701},
		event{Action: "run", Package: b, Test: "TestMiddle"},
		event{Action: "pass", Package: b, Test: "TestMiddle", Elapsed: 65},
		event{Action: "output", Package: b, Output: "PASS\n"},
		event{Action: "output", Package: b, Output: "ok  \texample.com/b\t66.000s\n"},
		event{Action: "pass", Package: b, Elapsed: 66},
	)...)
	var out bytes.Buffer
	s := newSummary(&out, false)
	for _, l := range lines {
		s.line(l)
	}
	s.report()
	got := out.String()
	if !s.failed {
		t.Error("a failed test did not fail the summary")
	}
	for _, want := range []string{
		"== go test (not JSON)\n",
		"the reason it failed\n--- FAIL: TestSlow (700.00s)\n",
		"FAIL\texample.com/a\t701.000s\n",
		"ok  \texample.com/b\t66.000s\n",
		"packages (wall time):\n     11m41s  FAIL  example.com/a\n       1m6s  PASS  example.com/b\n",
		"the 3 slowest tests:\n     11m40s  FAIL  example.com/a TestSlow\n       1m5s  PASS  example.com/b TestMiddle\n      200ms  PASS  example.com/a TestQuick\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"quiet log", "=== RUN", "PASS\nok"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("output has %q, which go test without -v does not print:\n%s", unwanted, got)
		}
	}
}

// A test binary that dies (a timeout panic) ends its running test without
// a fail event for it: its output is still shown.
func TestSummaryShowsTestsOfACrashedPackage(t *testing.T) {
	t.Parallel()
	const p = "example.com/p"
	var out bytes.Buffer
	s := newSummary(&out, false)
	for _, l := range events(t,
		event{Action: "run", Package: p, Test: "TestHangs"},
		event{Action: "output", Package: p, Test: "TestHangs", Output: "    p_test.go:3: waiting\n"},
		event{Action: "output", Package: p, Output: "panic: test timed out after 1m0s\n"},
		event{Action: "fail", Package: p, Elapsed: 60},
	) {
		s.line(l)
	}
	if got := out.String(); !s.failed || !strings.Contains(got, "waiting") || !strings.Contains(got, "panic: test timed out") {
		t.Errorf("failed %v, output:\n%s", s.failed, got)
	}
}

func TestSummaryVerbose(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	s := newSummary(&out, true)
	for _, l := range events(t,
		event{Action: "output", Package: "x", Test: "TestA", Output: "    x_test.go:1: hello\n"},
		event{Action: "pass", Package: "x", Test: "TestA"},
		event{Action: "output", Package: "x", Output: "PASS\n"},
	) {
		s.line(l)
	}
	if got := out.String(); got != "    x_test.go:1: hello\nPASS\n" || s.failed {
		t.Errorf("verbose output %q, failed %v", got, s.failed)
	}
}
