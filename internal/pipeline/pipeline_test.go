package pipeline

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRunStopsAtTheFirstFailureAndNamesTheNextCommand(t *testing.T) {
	t.Parallel()
	var ran []string
	step := func(name string, err error) Step {
		return Func{Title: name, Fn: func(context.Context, *State) error { ran = append(ran, name); return err }}
	}
	var progress bytes.Buffer
	st := &State{Services: Services{Progress: NewProgress(&progress, false, false)}}
	boom := errors.New("boom")
	err := Run(context.Background(), st, "bootstrap up --env staging", []Step{step("one", nil), step("two", boom), step("three", nil)})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "two" || se.Next != "bootstrap up --env staging" || !errors.Is(err, boom) {
		t.Fatalf("want a StepError at two wrapping boom, got %v", err)
	}
	if strings.Join(ran, ",") != "one,two" {
		t.Errorf("ran %v, want one,two", ran)
	}
	if got := progress.String(); got != " • one ...\n ✓ one\n • two ...\n ✗ two\n" {
		t.Errorf("progress:\n%q", got)
	}
}

func TestRunDoesNotStartAfterCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("interrupted")
	cancel(cause)
	started := false
	err := Run(ctx, &State{}, "next", []Step{Func{Title: "x", Fn: func(context.Context, *State) error { started = true; return nil }}})
	if started || !errors.Is(err, cause) {
		t.Fatalf("started=%v err=%v", started, err)
	}
}

func TestQuietAndDurations(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	NewProgress(&buf, false, true).Start("x").Done(time.Minute)
	if buf.Len() != 0 {
		t.Errorf("quiet printed %q", buf.String())
	}
	NewProgress(&buf, false, false).Start("slow").Done(90 * time.Second)
	if !strings.Contains(buf.String(), "✓ slow (1m30s)") {
		t.Errorf("want a duration on a long step, got %q", buf.String())
	}
}

func TestEveryListedStepIsDescribable(t *testing.T) {
	t.Parallel()
	// plan and runbook are built from Describe: a step that cannot describe
	// itself would be invisible in both.
	for _, s := range Flatten(append(UpSteps(), TeardownSteps()...)) {
		if _, ok := s.(Describer); !ok {
			t.Errorf("step %q does not implement Describer", s.Name())
		}
	}
}

func TestWhileClusterExistsSkipsOnceTheClusterIsGone(t *testing.T) {
	t.Parallel()
	ran := 0
	inner := Func{Title: "Uninstalling metrics-server", Fn: func(context.Context, *State) error { ran++; return errors.New("no cluster to talk to") }}
	for _, exists := range []bool{false, true} {
		aws := &fakeAWS{exists: exists}
		var out bytes.Buffer
		st := clusterState(t, "staging", nil)
		st.Progress = NewProgress(&out, false, false)
		step := ifClusterExists{Step: inner, AWS: aws}
		err := step.Run(context.Background(), st)
		switch {
		case !exists && (err != nil || ran != 0 || !strings.Contains(out.String(), "does not exist")):
			t.Errorf("cluster gone: err %v, ran %d, progress %q", err, ran, out.String())
		case exists && (err == nil || ran != 1):
			t.Errorf("cluster there: the step must run (and here fail), got err %v ran %d", err, ran)
		}
	}
	if got := WhileClusterExists([]Step{inner})[0].Name(); got != inner.Name() {
		t.Errorf("wrapped name %q", got)
	}
}
