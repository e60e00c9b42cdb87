// Package proctest is a recording fake of proc.Runner for tests.
//
// Register the commands a test expects with Expect; each is answered once, in
// any order, by the first unused script whose argv matches. An unexpected
// command fails the test, and so does a script left unused at the end (the
// habit of cli's internal/run stub): a test cannot pass by running less than
// it claims to.
package proctest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sovd/bootstrap/internal/proc"
)

// Runner is the fake. Calls holds every command run, in order.
type Runner struct {
	t       testing.TB
	mu      sync.Mutex
	scripts []*Script
	Calls   []proc.Cmd
}

// Script is one expected command and its answer.
type Script struct {
	pattern *regexp.Regexp
	stdout  string
	exit    int
	err     error
	do      func(proc.Cmd) error
	used    bool
}

// New returns a fake that checks, when the test ends, that every script ran.
func New(t testing.TB) *Runner {
	r := &Runner{t: t}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, s := range r.scripts {
			if !s.used {
				t.Errorf("proctest: expected command never ran: %s", s.pattern)
			}
		}
	})
	return r
}

// Expect registers a command by a regular expression matched against the
// whole shell-quoted command line ("eksctl create cluster -f .*").
func (r *Runner) Expect(pattern string) *Script {
	s := &Script{pattern: regexp.MustCompile("^" + pattern + "$")}
	r.mu.Lock()
	r.scripts = append(r.scripts, s)
	r.mu.Unlock()
	return s
}

// Stdout sets what the command writes to its standard output.
func (s *Script) Stdout(out string) *Script { s.stdout = out; return s }

// Exit makes the command fail with an exit code.
func (s *Script) Exit(code int) *Script { s.exit = code; return s }

// Err makes the command fail with an error, as if it could not start.
func (s *Script) Err(err error) *Script { s.err = err; return s }

// Do runs f when the command runs, for side effects or to inspect input files.
func (s *Script) Do(f func(proc.Cmd) error) *Script { s.do = f; return s }

// Run implements proc.Runner.
func (r *Runner) Run(ctx context.Context, c proc.Cmd) error {
	r.mu.Lock()
	r.Calls = append(r.Calls, c)
	line := c.String()
	var match *Script
	for _, s := range r.scripts {
		if !s.used && s.pattern.MatchString(line) {
			match = s
			s.used = true
			break
		}
	}
	r.mu.Unlock()
	if match == nil {
		r.t.Errorf("proctest: unexpected command: %s", line)
		return fmt.Errorf("proctest: unexpected command: %s", line)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", line, context.Cause(ctx))
	}
	if match.do != nil {
		if err := match.do(c); err != nil {
			return &proc.RunError{Cmd: line, ExitCode: 1, Tail: strings.Split(err.Error(), "\n"), Err: err}
		}
	}
	if c.Stdout != nil && match.stdout != "" {
		_, _ = io.WriteString(c.Stdout, match.stdout)
	}
	if match.err != nil {
		return &proc.RunError{Cmd: line, ExitCode: -1, Err: match.err}
	}
	if match.exit != 0 {
		return &proc.RunError{Cmd: line, ExitCode: match.exit, Tail: strings.Split(strings.TrimSpace(match.stdout), "\n"),
			Err: fmt.Errorf("exit status %d", match.exit)}
	}
	return nil
}

// Lines returns every command run, shell-quoted, for golden transcripts.
func (r *Runner) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.Calls))
	for i, c := range r.Calls {
		out[i] = c.String()
	}
	return out
}
