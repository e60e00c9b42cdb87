package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/pipeline"
)

// TestBenchRunsTheRealListsAndTheyOverlap keeps the benchmark in step with
// the step lists (a step without a replayed duration fails it) and checks,
// at a small scale, what the benchmark's figures mean: no run beats its
// critical path, and up and teardown overlap their phases instead of
// running them one after the other. The 5% goal itself is measured by
// `make bench-up`, not here.
func TestBenchRunsTheRealListsAndTheyOverlap(t *testing.T) {
	t.Parallel()
	scale := 40 * time.Millisecond
	for _, c := range []struct {
		what    string
		list    []pipeline.Step
		maxPart float64 // critical path as a share of the sum of phases
	}{{"up", pipeline.UpSteps(), 0.6}, {"teardown", pipeline.TeardownSteps(), 0.85}} {
		b := &bench{scale: scale, w: &world{}}
		r, err := b.run(context.Background(), c.what, c.list, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if r.path > r.wall {
			t.Errorf("%s: critical path %s longer than the wall time %s: the measure is wrong", c.what, r.path, r.wall)
		}
		if float64(r.path) > c.maxPart*float64(r.sum) {
			t.Errorf("%s: critical path %s is more than %.0f%% of the sum of phases %s: the lanes do not overlap", c.what, r.path, c.maxPart*100, r.sum)
		}
		if r.wall >= r.sum {
			t.Errorf("%s: wall time %s not under the sum of phases %s", c.what, r.wall, r.sum)
		}
	}
}

func TestBenchRefusesAStepWithoutADuration(t *testing.T) {
	t.Parallel()
	b := &bench{scale: time.Millisecond, w: &world{}}
	_, err := b.steps([]pipeline.Step{pipeline.Func{Title: "A step nobody timed", Fn: func(context.Context, *pipeline.State) error { return nil }}})
	if err == nil {
		t.Fatal("a step with no replayed duration was accepted")
	}
}
