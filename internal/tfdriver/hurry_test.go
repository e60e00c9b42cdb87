package tfdriver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowTerraform writes a terraform that answers `version -json` and, for
// any other command, records its pid and then ignores SIGINT for a minute:
// a Terraform that does not stop when asked, as one waiting on a provider
// call can.
func slowTerraform(t *testing.T) (exe, pidFile string) {
	t.Helper()
	dir := t.TempDir()
	exe = filepath.Join(dir, "terraform")
	pidFile = filepath.Join(dir, "pid")
	script := `#!/bin/sh
if [ "$1" = version ]; then
  echo '{"terraform_version":"1.11.4","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}'
  exit 0
fi
trap '' INT
echo $$ > ` + pidFile + `
sleep 60
`
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe, pidFile
}

func waitFile(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the fake terraform did not start (no %s)", path)
	return 0
}

// TestHurryKillsTerraform: the first interrupt (the context) asks terraform
// to stop and terraform-exec would wait GraceDelay for it; the second
// (Hurry) kills it and its process group at once.
func TestHurryKillsTerraform(t *testing.T) {
	t.Parallel()
	exe, pidFile := slowTerraform(t)
	hurry := make(chan struct{})
	d, err := New(Options{ExecPath: exe, Dir: t.TempDir(), Hurry: hurry})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- d.Apply(ctx, "plan.tfplan") }()
	pid := waitFile(t, pidFile)
	// terraform-exec returns at once, leaving the process, when the context
	// is cancelled before its Start returns; the script can write its pid
	// before that. Give it a moment, as a person's Ctrl-C would.
	time.Sleep(300 * time.Millisecond)

	cancel() // first Ctrl-C: SIGINT, which the fake ignores
	select {
	case err := <-errc:
		t.Fatalf("terraform stopped on SIGINT though it ignores it: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	start := time.Now()
	close(hurry) // second Ctrl-C
	select {
	case err := <-errc:
		if !errors.Is(err, ErrKilled) {
			t.Errorf("error %v, want one wrapping ErrKilled", err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("terraform took %s to die after the second interrupt", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("terraform still running 10 s after the second interrupt (terraform-exec waits %s)", GraceDelay)
	}
	if !d.Killed() {
		t.Error("Killed() is false after the kill")
	}
	// The whole group died: the script and its sleep.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the fake terraform (pid %d) still exists: %v", pid, err)
	}
	// Its sleep is reparented when the script dies, and reaped a moment
	// later.
	deadline := time.Now().Add(3 * time.Second)
	for err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH); err = syscall.Kill(-pid, 0) {
		if time.Now().After(deadline) {
			t.Errorf("its process group %d still has members 3 s after the kill: %v", pid, err)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHurryWithoutInterruptChangesNothing: a driver given a Hurry channel
// that is never closed runs commands to their end, and kills nothing.
func TestHurryWithoutInterruptChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\nif [ \"$1\" = version ]; then echo '{\"terraform_version\":\"1.11.4\",\"platform\":\"linux_amd64\",\"provider_selections\":{},\"terraform_outdated\":false}'; fi\nexit 0\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{ExecPath: exe, Dir: dir, Hurry: make(chan struct{})})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Apply(context.Background(), "plan.tfplan"); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if d.Killed() {
		t.Error("Killed() is true with no interrupt")
	}
}
