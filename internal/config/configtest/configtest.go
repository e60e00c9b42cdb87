// Package configtest reads the configuration fixtures shared by tests:
// testdata/invalid-*.yaml name in "# want: <path>" lines where their
// problems must be reported.
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
