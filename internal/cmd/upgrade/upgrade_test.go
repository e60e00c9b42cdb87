package upgrade

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// TestAllowDatabaseMajorFlag: the flag puts the snapshot and the apply that
// allows the major into the steps, and is repeated in the command printed
// to continue; without it neither.
func TestAllowDatabaseMajorFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args  []string
		major bool
	}{
		{[]string{"--env", "staging"}, false},
		{[]string{"--env", "staging", "--allow-database-major"}, true},
	} {
		var got *factory.PhaseOptions
		cmd := NewCmd(&factory.Factory{}, func(_ context.Context, o *factory.PhaseOptions) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		snapshot := slices.ContainsFunc(got.Steps(), func(s pipeline.Step) bool { _, ok := s.(pipeline.SnapshotBeforeMajor); return ok })
		again := slices.Contains(got.Again, pipeline.AllowDatabaseMajorFlag)
		if got.Env != "staging" || snapshot != tt.major || again != tt.major {
			t.Errorf("%v: env %q, snapshot step %v, repeated flag %v; want the last two %v", tt.args, got.Env, snapshot, again, tt.major)
		}
	}
}
