package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sovd/bootstrap/internal/proc"
)

// Lane is a list of steps run in order beside other lanes.
type Lane struct {
	// Name tags the lane's progress lines and child output ("cluster",
	// "data"), so that lanes running at once stay readable.
	Name  string
	Steps []Step
}

// Parallel runs its lanes at the same time, each lane's steps in order.
// Lanes do not talk to each other in memory: a lane that needs something
// another lane makes (the data tier needs the cluster's subnets) polls AWS
// for it, so each lane is also correct when run alone, on another machine
// or after a failure.
//
// Each lane works on its own copy of State; when all lanes are done the
// copies' findings (account, network, data outputs) are merged back, the
// first lane that found a value winning. When a step fails, the other
// lanes are cancelled (their children get SIGINT, Terraform releases its
// lock), Parallel waits for them to stop and returns the first failure.
// Nothing is undone: the re-run finds what each lane finished and goes on.
type Parallel struct {
	Title string
	Lanes []Lane
}

// Name implements Step.
func (p Parallel) Name() string { return p.Title }

// errStopped is the cause given to lanes cancelled because another lane
// failed.
var errStopped = errors.New("stopped because a step beside it failed")

// Run implements Step. A failure is a *StepError naming the step of the
// lane that failed, not the Parallel step.
func (p Parallel) Run(parent context.Context, st *State) error {
	ctx, cancel := context.WithCancelCause(context.WithValue(parent, runCtxKey{}, parent))
	defer cancel(nil)
	forks := make([]*State, len(p.Lanes))
	errs := make([]error, len(p.Lanes))
	var wg sync.WaitGroup
	for i, lane := range p.Lanes {
		forks[i] = st.fork(lane.Name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := runList(ctx, forks[i], lane.Steps); err != nil {
				errs[i] = err
				cancel(errStopped)
			}
		}()
	}
	wg.Wait()
	for _, f := range forks {
		if lw, ok := f.Log.(*proc.LineWriter); ok && f.Log != st.Log {
			lw.Flush()
		}
		st.merge(f)
	}
	return firstFailure(parent, ctx, errs)
}

// firstFailure picks the error to report. When a lane failed first, it is
// that failure, even if Ctrl-C came while the others were stopping; lanes
// stopped because of it are secondary. When the run itself was cancelled
// first (Ctrl-C), every lane was interrupted: the error names all the steps
// that were running.
func firstFailure(parent, ctx context.Context, errs []error) error {
	if parent.Err() != nil && !errors.Is(context.Cause(ctx), errStopped) {
		var steps []string
		var first *StepError
		for _, err := range errs {
			var se *StepError
			if errors.As(err, &se) {
				steps = append(steps, se.Step)
				if first == nil {
					first = se
				}
			}
		}
		if first == nil {
			return errors.Join(errs...)
		}
		return &StepError{Step: strings.Join(steps, ", "), Err: first.Err}
	}
	var secondary error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, errStopped):
			if secondary == nil {
				secondary = err
			}
		default:
			return err
		}
	}
	return secondary
}

// Finisher is a step that, once started, is let finish when a step in
// another lane fails, because stopping it half way leaves what a re-run
// cannot complete (eksctl's create, stopped, leaves CloudFormation making
// the cluster while the add-ons and node group eksctl makes afterwards never
// come). Ctrl-C still stops it.
type Finisher interface {
	FinishesWhenStopped()
}

// runCtxKey holds, in a lane's context, the context of the run itself:
// what a Finisher runs under.
type runCtxKey struct{}

// runList runs steps in order on st, reporting progress, and stops at the
// first failure, returned as a *StepError without Next.
func runList(ctx context.Context, st *State, steps []Step) error {
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return &StepError{Step: s.Name(), Err: context.Cause(ctx)}
		}
		if _, ok := s.(Parallel); ok {
			if err := s.Run(ctx, st); err != nil {
				return err
			}
			continue
		}
		stepCtx, stopWatch := ctx, func() bool { return false }
		if _, ok := s.(Finisher); ok {
			if run, ok := ctx.Value(runCtxKey{}).(context.Context); ok {
				stepCtx = run
				stopWatch = context.AfterFunc(ctx, func() {
					if errors.Is(context.Cause(ctx), errStopped) {
						st.Progress.Info("a step beside this one failed: letting %q finish, since stopping it half way leaves what a re-run cannot complete (Ctrl-C stops it now)", s.Name())
					}
				})
			}
		}
		task := st.Progress.Start(s.Name())
		start := time.Now()
		err := s.Run(stepCtx, st)
		stopWatch()
		d := time.Since(start)
		st.trace(s.Name(), start, d, err)
		if err != nil {
			if stepCtx.Err() != nil {
				task.Stop(d)
				err = fmt.Errorf("%w: %w", context.Cause(stepCtx), err)
			} else {
				task.Fail(d)
			}
			return &StepError{Step: s.Name(), Err: err}
		}
		task.Done(d)
	}
	return nil
}

// Flatten lists the steps of a list with every Parallel step replaced by
// its lanes' steps, lane after lane: what plan, the runbook and a person
// running the steps by hand see.
func Flatten(steps []Step) []Step {
	var out []Step
	for _, s := range steps {
		if p, ok := s.(Parallel); ok {
			for _, l := range p.Lanes {
				out = append(out, Flatten(l.Steps)...)
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// laneOf maps the names of steps run in a Parallel lane to the lane's name.
func laneOf(steps []Step) map[string]string {
	m := map[string]string{}
	for _, s := range steps {
		if p, ok := s.(Parallel); ok {
			for _, l := range p.Lanes {
				for _, ls := range Flatten(l.Steps) {
					m[ls.Name()] = l.Name
				}
			}
		}
	}
	return m
}

// Map returns steps with every step, inside Parallel lanes too, replaced by
// f(step). Tests use it to inject failures, the benchmark to replay
// durations.
func Map(steps []Step, f func(Step) Step) []Step {
	out := make([]Step, 0, len(steps))
	for _, s := range steps {
		if p, ok := s.(Parallel); ok {
			q := Parallel{Title: p.Title, Lanes: make([]Lane, len(p.Lanes))}
			for i, l := range p.Lanes {
				q.Lanes[i] = Lane{Name: l.Name, Steps: Map(l.Steps, f)}
			}
			out = append(out, q)
			continue
		}
		out = append(out, f(s))
	}
	return out
}

// Span is one step's run, for the trace a run can record.
type Span struct {
	Lane  string
	Step  string
	Start time.Time
	End   time.Time
	Err   error
}

// Trace records the steps of a run, safe for concurrent lanes.
type Trace struct {
	mu    sync.Mutex
	spans []Span
}

// Spans returns what was recorded, in the order steps ended.
func (t *Trace) Spans() []Span {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Span(nil), t.spans...)
}

func (st *State) trace(step string, start time.Time, d time.Duration, err error) {
	if st.Trace == nil {
		return
	}
	st.Trace.mu.Lock()
	defer st.Trace.mu.Unlock()
	st.Trace.spans = append(st.Trace.spans, Span{Lane: st.lane, Step: step, Start: start, End: start.Add(d), Err: err})
}
