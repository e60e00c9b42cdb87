package factory

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// TestRunDirIsAbsolute: terraform runs in .bootstrap/<env>/terraform/stateful
// and is given the var file and plan of .bootstrap/<env>; a relative run
// directory would name files that do not exist from there.
func TestRunDirIsAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, work := range []string{"", ".", "sub"} {
		f := &Factory{WorkDir: work}
		got, err := f.RunDir("staging")
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(dir, work, ".bootstrap", "staging")
		if got != want {
			t.Errorf("WorkDir %q: run dir %q, want %q", work, got, want)
		}
	}
}

// TestTwoRunsInOneSecondGetTwoLogs: a run's log is its own, even when
// another run on the environment starts in the same second.
func TestTwoRunsInOneSecondGetTwoLogs(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f := &Factory{WorkDir: t.TempDir(), IO: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Now: func() time.Time { return now }}
	p := config.Builtin("staging")
	a, err := f.NewRun(p, "data")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := f.NewRun(p, "data")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.LogPath == b.LogPath {
		t.Fatalf("both runs log to %s", a.LogPath)
	}
	if filepath.Base(b.LogPath) != "20261124T120000Z-data-2.log" {
		t.Errorf("second log %s", b.LogPath)
	}
	for _, p := range []string{a.LogPath, b.LogPath} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

// TestRunOpensAWSOnceLazily: a run opens its AWS clients on its first AWS
// call, in the profile's region, and never again (cli's Factory.HttpClient).
func TestRunOpensAWSOnceLazily(t *testing.T) {
	t.Parallel()
	var regions []string
	f := &Factory{WorkDir: t.TempDir(), IO: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Now: time.Now,
		AWS: func(_ context.Context, region string) (*pipeline.AWS, error) {
			regions = append(regions, region)
			return &pipeline.AWS{Region: region}, nil
		}}
	p := config.Builtin("staging")
	r, err := f.NewRun(p, "data")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(regions) != 0 {
		t.Fatalf("NewRun opened AWS: %v", regions)
	}
	a, err := r.Cloud(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.Cloud(context.Background())
	if a != b || len(regions) != 1 || regions[0] != p.Region {
		t.Errorf("opened for %v, same clients %v", regions, a == b)
	}
}
