// Package proc runs other programs (eksctl, helm, kubectl, aws) for bootstrap.
//
// Every one of those goes through one Runner, injected where it is needed and
// never a package global, so tests substitute proctest's recording fake.
// Terraform is the exception: it runs through terraform-exec (see
// internal/tfdriver), which gets the same run log, -v stream and second
// Ctrl-C from the run's State. The real
// Runner, Exec, captures each child's output to the run log, streams it when
// asked, keeps its tail for the error, and redacts secret values everywhere.
//
// Cancellation follows terraform-exec: when the context is cancelled the child
// gets SIGINT, then a bounded wait, then SIGKILL. The child runs in its own
// process group, so a terminal's Ctrl-C reaches it once, from us, not twice.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/sovd/bootstrap/internal/shell"
)

// Cmd is one program to run.
type Cmd struct {
	Name string   // program, looked up in PATH
	Args []string // arguments, without the program
	Env  []string // added to the environment ("K=V")
	Dir  string   // working directory; "" is the current one
	// Stdin feeds the program's standard input; nil is empty input.
	Stdin io.Reader
	// Stdout, when set, receives the program's standard output (for commands
	// whose output is data, such as `eksctl get cluster -o json`). It is
	// copied to the run log too.
	Stdout io.Writer
}

// String is the command as a shell would take it, for logs and errors.
func (c Cmd) String() string { return shell.Quote(append([]string{c.Name}, c.Args...)) }

// Runner runs a command to completion. Implementations must honour ctx:
// cancellation stops the program and Run returns an error wrapping
// context.Canceled (or the context's cause).
type Runner interface {
	Run(ctx context.Context, c Cmd) error
}

// RunError is a command that ran and failed: the command, its exit code and
// the last lines of its output, so the user sees why without the log.
type RunError struct {
	Cmd      string
	ExitCode int
	Tail     []string
	Err      error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("%s: %v", e.Cmd, e.Err)
}

func (e *RunError) Unwrap() error { return e.Err }

// Exec is the Runner that really runs programs.
type Exec struct {
	// Log receives every line the child writes, always (the run log).
	Log io.Writer
	// Stream, when set, also receives every line (-v).
	Stream io.Writer
	// Redact hides secret values in everything written.
	Redact *Redactor
	// Grace is how long a child may take to stop after SIGINT before it is
	// killed; 0 means 10 seconds.
	Grace time.Duration
	// TailLines is how many lines of output an error keeps; 0 means 20.
	TailLines int
	// Hurry, when closed (a second Ctrl-C), cuts the grace period short: a
	// child still stopping is killed at once.
	Hurry <-chan struct{}
}

// Run implements Runner.
func (e *Exec) Run(ctx context.Context, c Cmd) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: not started: %w", c, context.Cause(ctx))
	}
	tail := &tailBuffer{max: e.TailLines}
	if tail.max == 0 {
		tail.max = 20
	}
	sinks := []io.Writer{tail}
	if e.Log != nil {
		sinks = append(sinks, e.Log)
	}
	if e.Stream != nil {
		sinks = append(sinks, e.Stream)
	}
	out := newLineWriter(e.Redact, io.MultiWriter(sinks...))
	defer out.Flush()
	if e.Log != nil {
		fmt.Fprintf(e.Log, "$ %s\n", e.Redact.String(c.String()))
	}

	cmd := exec.Command(c.Name, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = c.Stdin
	cmd.Stderr = out
	if c.Stdout != nil {
		cmd.Stdout = io.MultiWriter(c.Stdout, out)
	} else {
		cmd.Stdout = out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return &RunError{Cmd: e.Redact.String(c.String()), ExitCode: -1, Err: err}
	}

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = e.stop(cmd, done)
	}
	out.Flush()
	if err == nil {
		return nil
	}
	re := &RunError{Cmd: e.Redact.String(c.String()), ExitCode: -1, Tail: tail.Lines(), Err: err}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		re.ExitCode = exitErr.ExitCode()
	}
	if ctx.Err() != nil {
		re.Err = fmt.Errorf("%w (%v)", context.Cause(ctx), err)
	}
	return re
}

// stop sends SIGINT to the child's process group, waits up to Grace, then
// kills the group.
func (e *Exec) stop(cmd *exec.Cmd, done <-chan error) error {
	grace := e.Grace
	if grace == 0 {
		grace = 10 * time.Second
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		err := <-done
		return fmt.Errorf("killed after not stopping within %s of SIGINT: %w", grace, err)
	case <-e.Hurry:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		err := <-done
		return fmt.Errorf("killed on a second interrupt: %w", err)
	}
}

// Quote is shell.Quote, kept so that code written against proc.Quote before
// the move still builds; new code uses internal/shell, which commands and
// the render-only packages may import (proc they may not: docs/layout.md).
func Quote(argv []string) string { return shell.Quote(argv) }

// tailBuffer keeps the last max lines written to it.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.part[:i]))
		t.part = t.part[i+1:]
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
	return len(p), nil
}

// Lines returns the kept lines, with any unterminated last line.
func (t *tailBuffer) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if len(t.part) > 0 {
		out = append(out, string(t.part))
	}
	if len(out) > t.max {
		out = out[len(out)-t.max:]
	}
	return out
}
