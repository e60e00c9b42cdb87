// Package pipeline runs bootstrap's work as an ordered list of steps.
//
// A Step is a user-facing name and Run(ctx, *State). Every step is
// idempotent: "already there" and "already gone" are success, so a re-run
// after any failure finishes the job. Steps that can say what they would do
// without doing it implement Describer; `bootstrap plan` and `bootstrap
// runbook` are built from those descriptions, so what the plan shows, what
// the runbook tells a person to type and what the tool runs are one thing.
package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/sovd/bootstrap/internal/cloud"
)

// Step is one unit of work with a user-facing name ("Creating EKS cluster
// with eksctl"). Run must be safe to repeat: it converges, it does not redo.
type Step interface {
	Name() string
	Run(ctx context.Context, st *State) error
}

// Action is one thing a step would run, as a person would type it, with any
// files it needs.
type Action struct {
	// Tool is the program: eksctl, terraform, helm, kubectl, aws.
	Tool string `json:"tool"`
	// Args are its arguments.
	Args []string `json:"args"`
	// Dir is where it runs, relative to the repository, when it matters.
	Dir string `json:"dir,omitempty"`
	// Files are written before it runs.
	Files []File `json:"files,omitempty"`
	// Note says why, for the runbook.
	Note string `json:"note,omitempty"`
	// If and Unless gate the action in the runbook's script: it runs only
	// when If (a command line, tool first) succeeds, only when Unless fails.
	If     []string `json:"if,omitempty"`
	Unless []string `json:"unless,omitempty"`
	// Script, when set, is what the action runs instead of Tool and Args:
	// bash lines, for a decision the tool makes in Go that the runbook's
	// script must make the same way (read the state once, then act on
	// it). Placeholders in it become variables read before, as in Args.
	Script string `json:"script,omitempty"`
	// While gates the action around If and Unless: a thing the action
	// acts in (the cluster), which a resumed run may find gone. When While
	// fails the script prints Skipped (if set) and goes on.
	While   []string `json:"while,omitempty"`
	Skipped string   `json:"skipped,omitempty"`
	// Each is a command line (tool first) that lists, one line per item,
	// the values of the placeholders EachOf names, separated by blanks: the
	// action runs once per line ("for each load balancer ...").
	Each   []string `json:"each,omitempty"`
	EachOf []string `json:"each_of,omitempty"`
}

// File is a rendered file an action needs.
type File struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

// Description is what a step would do.
type Description struct {
	Step    string   `json:"step"`
	Actions []Action `json:"actions"`
	// Summary holds facts the step found out while describing itself without
	// changing anything (a Terraform plan's counts, say).
	Summary []string `json:"summary,omitempty"`
	// Lane names the Parallel lane the step runs in, if any.
	Lane string `json:"lane,omitempty"`
}

// Describer is a step that can say what it would run, changing nothing. It
// must work offline, with no AWS account: what needs AWS is described with
// placeholders such as <vpc-id>.
type Describer interface {
	Describe(ctx context.Context, st *State) (Description, error)
}

// StepError is a step that failed, with the command that continues the work.
type StepError struct {
	Step string
	// Next is the command to run after fixing the cause.
	Next string
	// Log is the run log's path, where the whole output is.
	Log string
	Err error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Run runs steps in order, reporting progress, and stops at the first
// failure; a Parallel step runs its lanes side by side. A failure never
// undoes earlier steps: stateful resources are never destroyed by a failed
// run. next is the command that resumes.
func Run(ctx context.Context, st *State, next string, steps []Step) error {
	// One Terraform driver and one cache of lookups per run, made before any
	// lane forks so that the lanes share them; a State run again (tests do)
	// starts afresh, as a new command would.
	st.Terraform = &TerraformHandle{}
	st.seen = &foundCache{m: map[string]cloud.Found{}}
	err := runList(ctx, st, steps)
	var se *StepError
	if errors.As(err, &se) {
		se.Next = next
	}
	return err
}

// Describe collects the descriptions of the steps that have one, the lanes
// of a Parallel step one after the other.
func Describe(ctx context.Context, st *State, steps []Step) ([]Description, error) {
	var out []Description
	var errs []error
	lanes := laneOf(steps)
	for _, s := range Flatten(steps) {
		d, ok := s.(Describer)
		if !ok {
			continue
		}
		desc, err := d.Describe(ctx, st)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
			continue
		}
		if desc.Step == "" {
			desc.Step = s.Name()
		}
		desc.Lane = lanes[s.Name()]
		out = append(out, desc)
	}
	return out, errors.Join(errs...)
}

// Func is a Step made of a name and a function, for small steps.
type Func struct {
	Title string
	Fn    func(ctx context.Context, st *State) error
}

// Name implements Step.
func (f Func) Name() string { return f.Title }

// Run implements Step.
func (f Func) Run(ctx context.Context, st *State) error { return f.Fn(ctx, st) }
