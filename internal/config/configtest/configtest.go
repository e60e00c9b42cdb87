// Package configtest reads the configuration fixtures shared by tests:
// testdata/invalid-*.yaml name in "# want: <path>" lines where their
// problems must be reported ("-" for a problem of the whole file, which has
// no path), and in "# hint: <text>" lines text the report must contain.
package configtest

import (
	"os"
	"strings"
	"testing"
)

// WantPaths reads the "# want: <path>" lines of a fixture.
func WantPaths(t testing.TB, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wants []string
	for _, line := range strings.Split(string(data), "\n") {
		if w, ok := strings.CutPrefix(line, "# want: "); ok {
			wants = append(wants, strings.TrimSpace(w))
		}
	}
	if len(wants) == 0 {
		t.Fatalf("%s has no # want: line", file)
	}
	return wants
}

// WantHints reads the "# hint: <text>" lines of a fixture.
func WantHints(t testing.TB, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var hints []string
	for _, line := range strings.Split(string(data), "\n") {
		if h, ok := strings.CutPrefix(line, "# hint: "); ok {
			hints = append(hints, strings.TrimSpace(h))
		}
	}
	return hints
}

// NoPath is the want of a problem of the whole file.
const NoPath = "-"
