package tfdriver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/testenv"
)

// TestStateReadOncePerChange: the readers of the state (Tainted, Resources,
// ResourceIDs, Outputs, as ApplyData calls them around a plan and apply)
// run terraform show once per version of the state: once before the apply,
// once after it, never for a second reader of the same state. A read after
// an apply sees what the apply wrote. The terraform counted is the real one
// behind a wrapper script that logs each command it is given.
func TestStateReadOncePerChange(t *testing.T) {
	t.Parallel()
	real, _ := testenv.TerraformCLI(t)
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	exe := filepath.Join(dir, "terraform")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\necho \"$*\" >> '"+calls+"'\nexec '"+real+"' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// terraform_data is built into Terraform: no provider to install.
	if err := os.WriteFile(filepath.Join(root, "main.tf"), []byte(`
variable "n" { type = number }
resource "terraform_data" "a" { input = var.n }
output "n" { value = terraform_data.a.output }
output "secret" {
  value     = "s3cr3t"
  sensitive = true
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{ExecPath: exe, Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	count := func(cmd string) int {
		t.Helper()
		b, err := os.ReadFile(calls)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range strings.Split(string(b), "\n") {
			// show of the state, not of a plan file (Plan's summary).
			if f := strings.Fields(l); len(f) > 0 && f[0] == cmd && !strings.HasSuffix(l, filepath.Join(dir, "plan")) {
				n++
			}
		}
		return n
	}
	if err := d.Init(ctx, nil); err != nil {
		t.Fatal(err)
	}
	apply := func(n string) map[string]any {
		t.Helper()
		// ApplyData's reads before its plan: taints, what the state holds,
		// their ids.
		if _, err := d.Tainted(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Resources(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ResourceIDs(ctx); err != nil {
			t.Fatal(err)
		}
		vars := filepath.Join(dir, "vars.tfvars.json")
		if err := os.WriteFile(vars, []byte(`{"n": `+n+`}`), 0o644); err != nil {
			t.Fatal(err)
		}
		plan := filepath.Join(dir, "plan")
		if _, err := d.Plan(ctx, vars, plan, false); err != nil {
			t.Fatal(err)
		}
		if err := d.Apply(ctx, plan); err != nil {
			t.Fatal(err)
		}
		// After the apply: the outputs, then a later step's reads.
		out, err := d.Outputs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Resources(ctx); err != nil {
			t.Fatal(err)
		}
		if again, err := d.Outputs(ctx); err != nil || again["n"] != out["n"] {
			t.Fatalf("outputs read again: %v, %v", again, err)
		}
		return out
	}
	out := apply("1")
	if got := count("show") + count("output"); got != 2 {
		t.Errorf("one apply read the state %d times (show %d, output %d), want 2: once before it, once after", got, count("show"), count("output"))
	}
	if out["n"] != float64(1) {
		t.Errorf("outputs after the apply: %v, want n=1", out)
	}
	if _, ok := out["secret"]; ok {
		t.Error("a sensitive output was returned")
	}
	// A second apply: its reads before the plan reuse what the first
	// apply's outputs read (nothing changed since); its outputs are read
	// afresh.
	if out := apply("2"); out["n"] != float64(2) {
		t.Errorf("outputs after the second apply: %v, want n=2 (a kept read hid the change)", out)
	}
	if got := count("show") + count("output"); got != 3 {
		t.Errorf("two applies read the state %d times, want 3", got)
	}
}
