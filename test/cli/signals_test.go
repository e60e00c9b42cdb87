package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sovd/bootstrap/internal/app"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/testenv"
)

// slowToStop wraps the real terraform in a script that passes SIGINT on
// only after 60 s, as a Terraform whose provider call does not return
// would: the first Ctrl-C then cannot stop it in time, and only the second
// can. The script leads terraform's process group, as terraform does under
// terraform-exec, and its path is what bootstrap ran (as with the tfenv
// and asdf shims).
func slowToStop(t *testing.T, real string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "terraform")
	script := `#!/bin/sh
"` + real + `" "$@" &
child=$!
trap 'sleep 60; kill -INT "$child"' INT
while :; do
  wait "$child"; rc=$?
  kill -0 "$child" 2>/dev/null || exit "$rc"
done
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecondInterruptKillsTerraform: with -v, Terraform's own lines reach
// stderr; a first Ctrl-C during `terraform apply` asks it to stop, a second
// kills it within seconds. Its S3 state lock is then released by bootstrap
// (which still holds the environment lock), and the environment lock too.
// A plain re-run then finishes the job: what the killed apply made and
// never wrote to its state is imported, proven by its tags, not made twice.
func TestSecondInterruptKillsTerraform(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	testenv.Moto(t).Use(t)
	testenv.UseTerraform(t)
	realTF := os.Getenv("BOOTSTRAP_TERRAFORM")
	if realTF == "" {
		t.Fatal("testenv.UseTerraform set no BOOTSTRAP_TERRAFORM")
	}
	bin := t.TempDir()
	bootstrap := goBuild(t, bin, "bootstrap", "github.com/sovd/bootstrap/cmd/bootstrap")
	t.Setenv("BOOTSTRAP_EKSCTL", goBuild(t, bin, "eksctl", "github.com/sovd/bootstrap/test/fakeeksctl"))
	t.Setenv("FAKE_EKSCTL_RECORD", t.TempDir())

	ctx := context.Background()
	const env = "staging"
	p := config.Builtin(env)
	bucket := p.StateBucketName(testenv.MotoAccountID)
	c, err := cloud.New(ctx, p.Region)
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(c.Config)
	work := t.TempDir()
	logDir := filepath.Join(work, ".bootstrap", env, "logs")
	t.Cleanup(func() {
		if t.Failed() {
			logRunLogs(t, logDir)
		}
	})
	run := func(name string, args ...string) *process { return start(t, name, bootstrap, work, args...) }

	cl := run("cluster", "cluster", "--env", env)
	if code := cl.wait(t, 3*time.Minute); code != app.ExitOK {
		t.Fatalf("bootstrap cluster exited %d", code)
	}

	t.Setenv("BOOTSTRAP_TERRAFORM", slowToStop(t, realTF))
	// On a terminal, as a user runs it: the spinner is drawn.
	a := startOnTerminal(t, "A", bootstrap, work, "data", "--env", env, "-v")
	// -v streams Terraform's own lines, not only eksctl's and helm's.
	poll(t, "terraform's apply lines on run A's stderr", 5*time.Minute, a, func() bool {
		return strings.Contains(a.stderr.String(), "aws_db_instance.this: Creating...")
	})
	if err := syscall.Kill(-a.pid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	poll(t, "run A to take the first interrupt", 10*time.Second, a, func() bool {
		return strings.Contains(a.stderr.String(), "press Ctrl-C again to kill it")
	})
	time.Sleep(time.Second) // terraform, told to stop, does not
	if a.exited() {
		t.Fatalf("run A exited on the first interrupt although terraform ignores it for 60 s:\n%s", a.stderr)
	}
	if err := syscall.Kill(-a.pid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	second := time.Now()
	if code := a.wait(t, 30*time.Second); code != app.ExitCancelled {
		t.Errorf("run A exited %d after the second interrupt, want %d", code, app.ExitCancelled)
	}
	// Killed, it exits after two S3 calls (the state lock, the environment
	// lock); not killed, it would wait out the 60 s terraform ignores the
	// first interrupt for. The bound sits far from both, so that a loaded
	// machine (CI runs this beside the pipeline's process tests on 2
	// cores) cannot fail it and a run that waits cannot pass it.
	took := time.Since(second)
	t.Logf("run A exited %s after the second interrupt", took.Round(100*time.Millisecond))
	if took > 20*time.Second {
		t.Errorf("run A took %s to exit after the second interrupt, want well under the 60 s terraform ignores the first for (at most 20 s)", took.Round(100*time.Millisecond))
	}
	aErr := a.stderr.String()
	// Every streamed Terraform line starts on a cleared line of its own,
	// never glued onto the spinner's.
	if !strings.ContainsAny(aErr, "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") {
		t.Errorf("no spinner on the terminal:\n%q", aErr)
	}
	for rest, n := aErr, 0; ; n++ {
		i := strings.Index(rest, "aws_db_instance.this: Creating...")
		if i < 0 {
			if n == 0 {
				t.Errorf("no terraform line on the terminal")
			}
			break
		}
		if !strings.HasSuffix(rest[:i], "\r\033[K") {
			t.Errorf("a terraform line is not on a line of its own: %q", rest[max(0, i-80):i+33])
		}
		rest = rest[i+1:]
	}
	for _, want := range []string{
		`Interrupted at "Applying the data tier with Terraform".`,
		"terraform was killed; released the state lock it held (s3://" + bucket + "/" + p.StateKey() + ".tflock",
	} {
		if !strings.Contains(aErr, want) {
			t.Errorf("run A's stderr does not say %q:\n%s", want, aErr)
		}
	}
	for _, key := range []string{p.StateKey() + ".tflock", pipeline.LockKey(env)} {
		if body, ok := getObject(t, s3c, bucket, key); ok {
			t.Errorf("s3://%s/%s is still there after the killed run:\n%s", bucket, key, body)
		}
	}

	// The next run, with the plain terraform, finishes the job.
	t.Setenv("BOOTSTRAP_TERRAFORM", realTF)
	b := run("B", "data", "--env", env)
	if code := b.wait(t, 8*time.Minute); code != app.ExitOK {
		t.Fatalf("the re-run after the killed apply exited %d:\n%s", code, b.stderr)
	}
	t.Logf("run B took %s; its notes:\n%s", b.elapsed.Round(time.Second), infoLines(b.stderr.String()))
	assertConverged(t, ctx, c, p)
	// What was imported is as a create would have left it: the next run
	// plans nothing (a replication group imported by an import block would
	// plan its AUTH token strategy again, and fail: tfdriver/adoptredis.go).
	d := run("C", "data", "--env", env)
	if code := d.wait(t, 5*time.Minute); code != app.ExitOK {
		t.Fatalf("a further run exited %d", code)
	}
	if got, want := planLine(d.stderr.String()), "plan: 0 to add, 0 to change, 0 to destroy"; got != want {
		t.Errorf("a further run planned %q, want %q", got, want)
	}
}
