package runbook

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/config"
)

// runScriptText runs a script with bash where every aws, eksctl, terraform,
// helm and kubectl is a stub that records its call; stdin is not a terminal.
func runScriptText(t *testing.T, script string, env ...string) (stderr string, calls string, err error) {
	t.Helper()
	dir, bin := t.TempDir(), t.TempDir()
	for _, tool := range []string{"aws", "eksctl", "terraform", "helm", "kubectl"} {
		stub := "#!/usr/bin/env bash\nprintf '%s\\n' \"" + tool + " $*\" >> \"" + filepath.Join(bin, "calls") + "\"\n"
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, dataRoot), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH")), env...)
	var e bytes.Buffer
	cmd.Stderr = &e
	err = cmd.Run()
	c, _ := os.ReadFile(filepath.Join(bin, "calls"))
	return e.String(), string(c), err
}

func render(t *testing.T, p *config.Profile, format string, teardown bool) string {
	t.Helper()
	rb, err := Build(context.Background(), p, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if format == "script" {
		err = WriteScript(&b, rb, teardown)
	} else {
		err = Write(&b, rb)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestNotReadyStops: a profile `bootstrap up` refuses (config.ReadyToCreate)
// gets an up script that exits 1 before any command, and a markdown runbook
// that says so first, each problem with its fix; once fixed, neither stops.
func TestNotReadyStops(t *testing.T) {
	t.Parallel()
	prod := config.Builtin("production")
	probs := config.ReadyToCreate(prod)
	if len(probs) == 0 {
		t.Fatal("the built-in production profile is ready to create: the test needs one that is not")
	}
	script := render(t, prod, "script", false)
	stderr, calls, err := runScriptText(t, script)
	if code := exitCode(err); code != 1 {
		t.Errorf("the up script of a profile up refuses exited %d, want 1; stderr %q", code, stderr)
	}
	if calls != "" {
		t.Errorf("the stopped script ran commands:\n%s", calls)
	}
	if !strings.Contains(stderr, "not ready to create") {
		t.Errorf("stderr %q does not say why it stopped", stderr)
	}
	md := render(t, prod, "markdown", false)
	top, _, _ := strings.Cut(md, "### Up")
	for _, pr := range probs {
		if !strings.Contains(script, "#   - "+pr.Path+": "+pr.Message) || !strings.Contains(script, pr.Hint) {
			t.Errorf("the script's stop does not list %s with its fix", pr.Path)
		}
		if !strings.Contains(top, "- `"+pr.Path+"`: "+pr.Message) || !strings.Contains(top, "**Fix:**") {
			t.Errorf("the markdown's warning above the up steps does not list %s with its fix", pr.Path)
		}
	}
	// The teardown script is not stopped: what exists may be removed.
	if td := render(t, prod, "script", true); strings.Contains(td, "not ready to create") {
		t.Error("the teardown script carries the up's stop")
	}

	fixed := config.Builtin("production")
	fixed.Cluster.EndpointAccess.PublicCIDRs = []string{"203.0.113.0/24"}
	fixed.Cluster.KMSKeyARN = "arn:aws:kms:us-east-1:111122223333:key/abc"
	if probs := config.ReadyToCreate(fixed); len(probs) != 0 {
		t.Fatalf("the fixed profile still has problems: %v", probs)
	}
	if s := render(t, fixed, "script", false); strings.Contains(s, "not ready to create") || strings.Contains(s, "SC2317") {
		t.Error("the up script of a ready profile still stops")
	}
	if m := render(t, fixed, "markdown", false); strings.Contains(m, "[!CAUTION]") {
		t.Error("the markdown of a ready profile still warns")
	}
}

// TestTeardownConfirmation: the teardown script of a protected environment
// runs nothing until its name is given (BOOTSTRAP_CONFIRM off a terminal,
// as --confirm); an unprotected one does not ask.
func TestTeardownConfirmation(t *testing.T) {
	t.Parallel()
	prod := config.Builtin("production")
	if !prod.Protection.TypedConfirmation {
		t.Fatal("production does not ask for typed confirmation")
	}
	script := render(t, prod, "script", true)
	// Up to the prelude: the guard alone, which must stop or let through.
	guard, _, ok := strings.Cut(script, "export AWS_DEFAULT_REGION=")
	if !ok {
		t.Fatal("no prelude in the teardown script")
	}
	guard += "echo PASSED >&2\n"
	for _, tt := range []struct {
		name, env string
		pass      bool
	}{
		{"none, not on a terminal", "", false},
		{"wrong name", "BOOTSTRAP_CONFIRM=staging", false},
		{"right name", "BOOTSTRAP_CONFIRM=production", true},
	} {
		stderr, calls, err := runScriptText(t, guard, tt.env)
		passed := strings.Contains(stderr, "PASSED")
		if passed != tt.pass || (err == nil) != tt.pass || calls != "" {
			t.Errorf("%s: passed %v (%v), want %v; calls %q; stderr %q", tt.name, passed, err, tt.pass, calls, stderr)
		}
		if !tt.pass && !strings.Contains(stderr, "teardown not confirmed") {
			t.Errorf("%s: stderr %q does not say the teardown was not confirmed", tt.name, stderr)
		}
	}
	if s := render(t, config.Builtin("staging"), "script", true); strings.Contains(s, "BOOTSTRAP_CONFIRM") {
		t.Error("staging's teardown script asks for a confirmation its profile does not want")
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
