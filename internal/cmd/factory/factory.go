// Package factory gives every command what it needs from outside: the IO
// streams, the configuration, the run directory with its log, a Runner and
// the clock. Commands get it injected, so tests run them with buffers, a
// fixed clock and a recording Runner (cli's cmdutil.Factory).
package factory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/proc"
)

// IOStreams are where a command reads and writes. Results go to Out,
// progress and errors to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY and ErrTTY say whether stdin and stderr are terminals: a prompt
	// needs the first, a spinner the second.
	InTTY  bool
	ErrTTY bool
}

// Factory is shared by all commands of one invocation.
type Factory struct {
	IO *IOStreams
	// ConfigPath is --config; "" means bootstrap.yaml if present, else the
	// built-in profiles.
	ConfigPath string
	// Verbose streams child output to stderr; Quiet silences progress.
	Verbose, Quiet bool
	// WorkDir is where .bootstrap/ lives; "" is the current directory.
	WorkDir string
	// Now is the clock.
	Now func() time.Time
	// Hurry is closed on a second interrupt: children are killed at once.
	Hurry <-chan struct{}
	// Runner, when set, replaces the real one (tests).
	Runner proc.Runner
	// Tools overrides program paths (tests, or BOOTSTRAP_<TOOL> variables).
	Tools map[string]string
	// Lock takes the environment's lock for a mutating run; nil is the real
	// one (an object in the state bucket). Tests replace it.
	Lock LockFunc
	// AWS opens a region's AWS clients. It is called once per run, on the
	// run's first AWS call (the run's State carries the handle, see
	// AWSHandle); nil is pipeline.OpenAWS, the SDK's default configuration
	// chain, which honours AWS_ENDPOINT_URL (how tests use moto).
	AWS func(ctx context.Context, region string) (*pipeline.AWS, error)
}

// AWSHandle is a region's AWS handle for one run: opened on first use with
// f.AWS, the same clients after (cli's Factory.HttpClient).
func (f *Factory) AWSHandle(region string) pipeline.OpenAWSFunc {
	open := f.AWS
	if open == nil {
		open = pipeline.OpenAWS
	}
	return pipeline.LazyAWS(func(ctx context.Context) (*pipeline.AWS, error) { return open(ctx, region) })
}

// LockFunc takes an environment's lock, first making the state bucket that
// holds it when ensureBucket is set, and returns its release.
type LockFunc func(ctx context.Context, st *pipeline.State, command string, ensureBucket bool) (release func(context.Context) error, err error)

// DefaultLock is the real lock: pipeline.AcquireLock on the state bucket.
func DefaultLock(ctx context.Context, st *pipeline.State, command string, ensureBucket bool) (func(context.Context) error, error) {
	if ensureBucket {
		// Quietly: the phase's own step shows it, and checks it again cheaply.
		s := pipeline.EnsureStateBucket{}
		if err := s.Run(ctx, st); err != nil {
			return nil, &pipeline.StepError{Step: s.Name(), Next: command, Err: err}
		}
	}
	return pipeline.AcquireLock(ctx, st, command)
}

// Profile loads, validates and returns one environment's profile.
func (f *Factory) Profile(env string) (*config.Profile, error) {
	if env == "" {
		return nil, &FlagError{Err: errors.New("--env is required (staging, production, or an environment of bootstrap.yaml)")}
	}
	return config.Resolve(f.ConfigPath, env, f.Now())
}

// RunDir is .bootstrap/<env>, created if needed, as an absolute path:
// Terraform runs in a directory below it and is given files of it.
func (f *Factory) RunDir(env string) (string, error) {
	dir, err := filepath.Abs(filepath.Join(f.WorkDir, ".bootstrap", env))
	if err != nil {
		return "", fmt.Errorf("the run directory: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return "", fmt.Errorf("creating run directory: %w", err)
	}
	return dir, nil
}

// Run is a State with its log file open; Close it when done.
type Run struct {
	*pipeline.State
	LogPath string
	logFile *os.File
	lock    LockFunc
	started time.Time
}

// Close closes the run log.
func (r *Run) Close() error {
	if r.logFile == nil {
		return nil
	}
	return r.logFile.Close()
}

// NewRun prepares the run directory, the run log
// (.bootstrap/<env>/logs/<time>-<verb>.log) and the State steps share.
func (f *Factory) NewRun(p *config.Profile, verb string) (*Run, error) {
	dir, err := f.RunDir(p.Name)
	if err != nil {
		return nil, err
	}
	now := f.Now()
	logPath, lf, err := newLog(filepath.Join(dir, "logs"), now.UTC().Format("20060102T150405Z")+"-"+verb)
	if err != nil {
		return nil, err
	}
	redact := &proc.Redactor{}
	log := redact.Writer(lf)
	progress := pipeline.NewProgress(f.IO.ErrOut, f.IO.ErrTTY, f.Quiet)
	var stream io.Writer
	if f.Verbose {
		// Through the progress display, so that on a terminal a child's
		// line never lands on the spinner line (quiet has no spinner).
		if stream = progress.Stream(); stream == nil {
			stream = f.IO.ErrOut
		}
	}
	runner := f.Runner
	if runner == nil {
		runner = &proc.Exec{Log: log, Stream: stream, Redact: redact, Hurry: f.Hurry}
	}
	tools := map[string]string{}
	// Terraform is not among them: terraform.Find reads BOOTSTRAP_TERRAFORM,
	// in the one place that chooses the binary.
	for _, t := range []string{"eksctl", "helm", "kubectl", "aws"} {
		if v := os.Getenv("BOOTSTRAP_" + upper(t)); v != "" {
			tools[t] = v
		}
	}
	for k, v := range f.Tools {
		tools[k] = v
	}
	st := &pipeline.State{
		Profile: p,
		Dir:     dir,
		Services: pipeline.Services{
			Runner:   runner,
			Tools:    tools,
			Redact:   redact,
			Progress: progress,
			Log:      log,
			Stream:   stream,
			Hurry:    f.Hurry,
			Out:      f.IO.Out,
			Now:      f.Now,
			AWS:      f.AWSHandle(p.Region),
		},
	}
	fmt.Fprintf(log, "# bootstrap %s --env %s at %s\n", verb, p.Name, now.UTC().Format(time.RFC3339))
	lock := f.Lock
	if lock == nil {
		lock = DefaultLock
	}
	return &Run{State: st, LogPath: logPath, logFile: lf, lock: lock, started: now}, nil
}

// newLog creates the run's log, never one another run writes: two runs
// started in the same second get <name>.log and <name>-2.log.
func newLog(dir, name string) (string, *os.File, error) {
	for i := 1; ; i++ {
		path := filepath.Join(dir, name+".log")
		if i > 1 {
			path = filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, i))
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		switch {
		case err == nil:
			return path, f, nil
		case errors.Is(err, fs.ErrExist) && i < 100:
			continue
		default:
			return "", nil, fmt.Errorf("opening run log: %w", err)
		}
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// FlagError is a usage mistake: the command's usage is shown with it.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// ExecuteLocked runs steps holding the environment's lock, so two runs on
// one environment cannot interleave; the second fails fast naming the
// holder. The lock is released even after a failure or Ctrl-C.
func (r *Run) ExecuteLocked(ctx context.Context, next string, ensureBucket bool, steps []pipeline.Step) (err error) {
	release, err := r.lock(ctx, r.State, next, ensureBucket)
	if err != nil {
		var se *pipeline.StepError
		if errors.As(err, &se) {
			se.Log = r.LogPath
		}
		return err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		// A terraform killed on a second Ctrl-C left its state lock; this
		// run still holds the environment's, so it is the one to release it.
		if kerr := pipeline.ReleaseKilledStateLock(rctx, r.State, nil, err, r.started); kerr != nil {
			r.Progress.Info("%v", kerr)
		}
		if rerr := release(rctx); rerr != nil {
			if err != nil {
				r.Progress.Info("releasing the lock: %v", rerr)
				return
			}
			err = fmt.Errorf("releasing the environment lock: %w", rerr)
		}
	}()
	return r.Execute(ctx, next, steps)
}

// Execute runs steps on this run's state; a failure names the run log and
// the command that continues.
func (r *Run) Execute(ctx context.Context, next string, steps []pipeline.Step) error {
	err := pipeline.Run(ctx, r.State, next, steps)
	var se *pipeline.StepError
	if errors.As(err, &se) {
		se.Log = r.LogPath
	}
	return err
}
