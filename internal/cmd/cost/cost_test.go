package cost

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/golden"
)

// priceDay is the day internal/cost's table was read; later days move
// Kubernetes versions into extended support, which one case shows.
var priceDay = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func newFactory(now time.Time, config string) (*factory.Factory, *bytes.Buffer) {
	out := &bytes.Buffer{}
	return &factory.Factory{
		IO:         &factory.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: &bytes.Buffer{}},
		ConfigPath: config,
		Now:        func() time.Time { return now },
	}, out
}

func execute(f *factory.Factory, args ...string) error {
	cmd := NewCmd(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return cmd.ExecuteContext(context.Background())
}

func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		now    time.Time
		config string
		args   []string
		want   string // a phrase the output must hold, beyond the golden file
	}{
		{"production.golden", priceDay, "", []string{"--env", "production"}, "inside the budget of $500–$800 a month"},
		{"staging.golden", priceDay, "", []string{"--env", "staging"}, "inside the budget of $150–$400 a month"},
		{"production.json.golden", priceDay, "", []string{"--env", "production", "--output", "json"}, `"verdict": "inside"`},
		// Kubernetes 1.35 leaves standard support on 2027-03-27: with
		// supportType EXTENDED the control plane's rate rises sixfold and
		// production leaves its band; with STANDARD (the built-in profile's)
		// EKS upgrades the cluster and the rate stays.
		{"production-extended.golden", time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), filepath.Join("testdata", "bootstrap.yaml"), []string{"--env", "production"}, "OUTSIDE the budget"},
		{"production-standard-past.golden", time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), "", []string{"--env", "production"}, "upgraded by EKS (supportType STANDARD)"},
		// The Graviton option: the same shape on arm64, and what it saves
		// against the x86 profile.
		{"production-graviton.golden", priceDay, filepath.Join("testdata", "graviton.yaml"), []string{"--env", "production"}, "this arm64 profile saves $64.97 a month"},
		{"perf-outside.golden", priceDay, filepath.Join("testdata", "bootstrap.yaml"), []string{"-e", "perf"}, "OUTSIDE the budget of $150–$400 a month"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			f, out := newFactory(tt.now, tt.config)
			if err := execute(f, tt.args...); err != nil {
				t.Fatalf("bootstrap cost %s: %v (a profile outside its budget must not fail the command)", strings.Join(tt.args, " "), err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
			golden.Assert(t, tt.golden, out.Bytes())
		})
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	var got *Options
	cmd := NewCmd(&factory.Factory{}, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--env", "staging", "-o", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Env != "staging" || !got.Output.JSON() {
		t.Errorf("parsed %+v", got)
	}

	for _, args := range [][]string{{"--env", "staging", "--output", "yaml"}, {}} {
		f, _ := newFactory(priceDay, "")
		var fe *factory.FlagError
		if err := execute(f, args...); !errors.As(err, &fe) {
			t.Errorf("bootstrap cost %q: got %v, want a usage error", args, err)
		}
	}
}

func TestUnknownEnvironment(t *testing.T) {
	t.Parallel()
	f, out := newFactory(priceDay, "")
	if err := execute(f, "--env", "nope"); err == nil || out.Len() != 0 {
		t.Errorf("unknown environment: err %v, output %q", err, out)
	}
}
