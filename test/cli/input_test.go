package cli

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConfigDevZero: `--config /dev/zero` is an endless file. The built
// binary must refuse it quickly and without reading it all: exit 1 within
// 2 s, under 100 MB peak resident memory (the child's rusage), naming the
// file and saying nothing was run.
func TestConfigDevZero(t *testing.T) {
	if testing.Short() {
		t.Skip("process test: builds the binary")
	}
	t.Parallel()
	bootstrap := goBuild(t, t.TempDir(), "bootstrap", "github.com/sovd/bootstrap/cmd/bootstrap")
	for _, verb := range []string{"plan", "up"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bootstrap, verb, "--env", "staging", "--config", "/dev/zero")
		cmd.Dir = t.TempDir()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		began := time.Now()
		err := cmd.Run()
		elapsed := time.Since(began)
		cancel()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
			t.Fatalf("%s: want exit 1, got %v\n%s", verb, err, stderr.String())
		}
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			t.Fatal("no rusage for the child")
		}
		peakMB := float64(ru.Maxrss) / 1024 // Linux reports ru_maxrss in KiB
		t.Logf("%s --config /dev/zero: exit 1 in %v, peak RSS %.1f MB", verb, elapsed.Round(time.Millisecond), peakMB)
		if elapsed > 2*time.Second {
			t.Errorf("%s took %v, want under 2 s", verb, elapsed)
		}
		if peakMB > 100 {
			t.Errorf("%s peaked at %.1f MB, want under 100 MB", verb, peakMB)
		}
		for _, want := range []string{"/dev/zero", "larger than 1024 KiB", "Nothing was run"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s: stderr does not say %q:\n%s", verb, want, stderr.String())
			}
		}
	}
}
