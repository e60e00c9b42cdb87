package values

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/golden"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/testenv"
)

func newFactory(stdin string) (*factory.Factory, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &factory.Factory{
		IO:  &factory.IOStreams{In: strings.NewReader(stdin), Out: out, ErrOut: errOut},
		Now: func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) },
	}, out, errOut
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
	outputs := filepath.Join("testdata", "production-outputs.json")
	tests := []struct {
		golden string
		args   []string
		warn   string
	}{
		{"production.golden", []string{"--env", "production", "--outputs-file", outputs}, ""},
		{"production.json.golden", []string{"--env", "production", "--outputs-file", outputs, "-o", "json"}, ""},
		{"production-account.golden", []string{"--env", "production", "--outputs-file", outputs, "--account-id", "210987654321"}, ""},
		{"production-no-certificate.golden", []string{"--env", "production", "--outputs-file", filepath.Join("testdata", "production-outputs-no-certificate.json")}, "no ingress certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			f, out, errOut := newFactory("")
			if err := execute(f, tt.args...); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tt.golden, out.Bytes())
			if tt.warn == "" && errOut.Len() > 0 || !strings.Contains(errOut.String(), tt.warn) {
				t.Errorf("stderr = %q, want a warning saying %q", errOut.String(), tt.warn)
			}
		})
	}
}

func TestStdin(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "production-outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, out, _ := newFactory(string(data))
	if err := execute(f, "--env", "production", "--outputs-file", "-"); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "production.golden", out.Bytes())
}

func TestErrors(t *testing.T) {
	t.Parallel()
	outputs := filepath.Join("testdata", "production-outputs.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"outputs of another environment", []string{"--env", "staging", "--outputs-file", outputs}, `the outputs are of environment "production", not "staging"`},
		{"no such file", []string{"--env", "production", "--outputs-file", "testdata/nope.json"}, "reading the outputs"},
		{"no environment", []string{"--outputs-file", outputs}, "--env is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, out, _ := newFactory("")
			err := execute(f, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("printed a result on error: %s", out.String())
			}
		})
	}
}

// TestLiveReadsTheRemoteState: without --outputs-file the outputs come from
// the data tier's Terraform remote state, read-only. With no data tier yet
// it says which command makes one, and prints no overlay. (Reading an
// applied tier's outputs is ReadDataOutputs, tested with the data tier in
// internal/pipeline.)
func TestLiveReadsTheRemoteState(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	testenv.Moto(t).Use(t)
	f, out, _ := newFactory("")
	f.WorkDir = t.TempDir()
	err := execute(f, "--env", "staging")
	var se *pipeline.StepError
	if !errors.As(err, &se) || se.Step != (pipeline.ReadDataOutputs{}).Name() ||
		!strings.Contains(err.Error(), "no state bucket s3://bootstrap-tfstate-"+testenv.MotoAccountID+"-us-east-1: run `bootstrap data --env staging` first") {
		t.Fatalf("err = %v", err)
	}
	if out.Len() > 0 {
		t.Errorf("printed an overlay without outputs: %s", out.String())
	}
}

func TestBadOutputs(t *testing.T) {
	t.Parallel()
	f, _, _ := newFactory(`{"db_host": {"value": "h", "type": "string"}}`)
	err := execute(f, "--env", "production", "--outputs-file", "-")
	if err == nil {
		t.Fatal("accepted outputs missing most values")
	}
	for _, want := range []string{"db_port is missing", "redis_host is missing", "ecr_repository_urls is missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestParsesOptions(t *testing.T) {
	t.Parallel()
	f, _, _ := newFactory("")
	var got *Options
	cmd := NewCmd(f, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"-e", "staging", "--outputs-file", "o.json", "--account-id", "1", "-o", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Env != "staging" || got.OutputsFile != "o.json" || got.AccountID != "1" || !got.Output.JSON() {
		t.Errorf("options = %+v", got)
	}
}
