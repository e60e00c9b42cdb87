// Package app is bootstrap's entry point: the root command, signal handling,
// error rendering and exit codes. It is the only place that prints an error
// or decides how the process exits.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/proc"
)

// Exit codes.
const (
	ExitOK        = 0
	ExitFailed    = 1
	ExitCancelled = 2
)

// ErrInterrupted is the cause of a context cancelled by Ctrl-C or SIGTERM.
var ErrInterrupted = errors.New("interrupted")

// Main runs bootstrap with the process's arguments and returns its exit code.
func Main() int {
	hurry := make(chan struct{})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)

	// First signal: cancel the context, so the running child gets SIGINT and
	// stops cleanly (Terraform releases its state lock). Second: kill.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(os.Stderr, "\ninterrupt: stopping the running step cleanly (press Ctrl-C again to kill it)")
				cancel(ErrInterrupted)
				continue
			}
			close(hurry)
			return
		}
	}()

	f := &factory.Factory{
		IO: &factory.IOStreams{
			In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
			InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
			ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		},
		Now:   time.Now,
		Hurry: hurry,
	}
	return Run(ctx, f, os.Args[1:])
}

// Run executes one invocation with a given factory; tests call it directly.
func Run(ctx context.Context, f *factory.Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var flagErr *factory.FlagError
	if errors.As(err, &flagErr) || isCobraFlagError(err) {
		fmt.Fprintf(f.IO.ErrOut, "Error: %v\n\n%s", err, cmd.UsageString())
		return ExitFailed
	}
	RenderError(f.IO.ErrOut, err, f.Verbose)
	if errors.Is(err, ErrInterrupted) || errors.Is(err, context.Canceled) {
		return ExitCancelled
	}
	return ExitFailed
}

// isCobraFlagError recognises cobra's own argument and flag errors, which
// arrive as plain errors.
func isCobraFlagError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// RenderError prints an error once, for a person: what failed, the failing
// command's last lines, and the command that continues the work.
func RenderError(w io.Writer, err error, verbose bool) {
	var stepErr *pipeline.StepError
	var runErr *proc.RunError
	var probs config.Problems
	var credErr *cloud.CredentialsError
	interrupted := errors.Is(err, ErrInterrupted) || errors.Is(err, context.Canceled)

	switch {
	case interrupted && errors.As(err, &stepErr):
		fmt.Fprintf(w, "Interrupted at %q.\n", stepErr.Step)
		if stepErr.Next != "" {
			fmt.Fprintf(w, "Run `%s` again to continue.\n", stepErr.Next)
		}
		return
	case interrupted:
		fmt.Fprintln(w, "Interrupted.")
		return
	case errors.As(err, &credErr):
		// One line that says what to do; the SDK's chain is in the run log.
		fmt.Fprintf(w, "Error: %v\n", credErr)
		if errors.As(err, &stepErr) && stepErr.Next != "" {
			fmt.Fprintf(w, "Fix the credentials, then run:\n  %s\n", stepErr.Next)
		}
		return
	case errors.As(err, &probs):
		// err names the file the problems are in.
		fmt.Fprintf(w, "Error: %v\n", err)
		fmt.Fprintln(w, "Nothing was run. Fix the configuration and try again (`bootstrap init` writes a complete file to start from).")
		return
	}

	fmt.Fprintf(w, "Error: %v\n", err)
	if errors.As(err, &runErr) && len(runErr.Tail) > 0 {
		code := ""
		if runErr.ExitCode >= 0 {
			code = fmt.Sprintf(", exit code %d", runErr.ExitCode)
		}
		fmt.Fprintf(w, "\nLast lines of `%s`%s:\n", runErr.Cmd, code)
		for _, l := range runErr.Tail {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if errors.As(err, &stepErr) {
		if stepErr.Log != "" {
			fmt.Fprintf(w, "\nFull output: %s\n", stepErr.Log)
		}
		if stepErr.Next != "" {
			fmt.Fprintf(w, "\nFailed at %q; nothing was rolled back. Fix the cause, then run:\n  %s\n", stepErr.Step, stepErr.Next)
		}
	}
}
