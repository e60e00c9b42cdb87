// Package testenv finds or starts the real parts that tests run against: a
// moto server standing in for AWS, the Terraform CLI and its provider mirror,
// the helm binary and a local Kubernetes control plane.
//
// A test that needs a real part and cannot have it fails when CI=true and
// skips with the reason on a developer machine. Under -short every starter
// skips the test before it starts anything: `go test -short` never starts
// moto, terraform or a control plane.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI, where every real part must exist.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing stops the test because a real part is unavailable: a failure in
// CI, a skip with the reason elsewhere.
func Missing(t testing.TB, part, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required in CI: %s", part, reason)
	}
	t.Skipf("%s unavailable, skipping: %s", part, reason)
}

// Tools stops the test (Missing) unless every named program is on PATH.
func Tools(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			Missing(t, name, "not on PATH")
		}
	}
}

// skipShort skips the test under -short: the real parts are for the full run.
func skipShort(t testing.TB, part string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: %s is not started", part)
	}
}
