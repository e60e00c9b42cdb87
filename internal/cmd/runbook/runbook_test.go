package runbook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/cmd/runbook"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/golden"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/testenv"
)

// day is the clock of every test here: the day internal/cost's prices were
// read, so outputs that depend on the date (support tiers) stay put.
var day = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// TestWrite renders a made-up runbook that has every shape a step can take.
func TestWrite(t *testing.T) {
	t.Parallel()
	rb := runbook.Runbook{
		Environment: "demo", Region: "us-east-1", Cluster: "sovd-demo-cluster", Dir: ".bootstrap/demo",
		Up: []pipeline.Description{
			{Step: "A step that is not built", Summary: []string{"the demo phase is not built yet: nothing to show"}},
			{Step: "Creating things", Summary: []string{"1 to add, 0 to change, 0 to destroy"}, Actions: []pipeline.Action{
				{
					Tool: "eksctl", Args: []string{"create", "cluster", "-f", ".bootstrap/demo/cluster.yaml"},
					Note:  "when the cluster does not exist",
					Files: []pipeline.File{{Path: ".bootstrap/demo/cluster.yaml", Content: "kind: ClusterConfig\nmetadata:\n  name: sovd-demo-cluster\n"}},
				},
				{
					Tool: "terraform", Args: []string{"apply", "-var", "name=it's"}, Dir: "terraform/stateful",
					Note:  "eksctl made the VPC; the plan needs <vpc-id>",
					Files: []pipeline.File{{Path: ".bootstrap/demo/notes.txt", Content: "a line\nEOF\nno final newline"}, {Path: "top.txt", Content: ""}},
				},
			}},
		},
	}
	var out bytes.Buffer
	if err := runbook.Write(&out, rb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#### 1. A step that is not built",
		"mkdir -p .bootstrap/demo\ncat > .bootstrap/demo/cluster.yaml <<'EOF'\n",
		"<<'EOF_1'\na line\nEOF\nno final newline\nEOF_1\n", // a line "EOF" in the file gets another delimiter
		"(cd terraform/stateful && terraform apply -var 'name=it'\\''s')",
		"eksctl made the VPC",                  // a note that starts with a program keeps its spelling
		"\nWhen the cluster does not exist.\n", // other notes become sentences
		"### Teardown: `bootstrap teardown --env demo`\n\nNo steps.\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("runbook lacks %q", want)
		}
	}
	if strings.Count(out.String(), "mkdir -p .bootstrap/demo\n") != 1 {
		t.Error("the run directory is made more than once")
	}
	golden.Assert(t, "write.md", out.Bytes())
}

func newFactory() (*factory.Factory, *bytes.Buffer) {
	out := &bytes.Buffer{}
	return &factory.Factory{
		IO:  &factory.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: &bytes.Buffer{}},
		Now: func() time.Time { return day },
	}, out
}

func execute(f *factory.Factory, args ...string) error {
	cmd := runbook.NewCmd(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return cmd.ExecuteContext(context.Background())
}

// TestStaging is `bootstrap runbook --env staging`, as markdown and as JSON,
// with one entry per described step in the order the tool runs them.
func TestStaging(t *testing.T) {
	t.Parallel()
	f, out := newFactory()
	if err := execute(f, "--env", "staging"); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "staging.md", out.Bytes())

	f, out = newFactory()
	if err := execute(f, "--env", "staging", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var rb runbook.Runbook
	if err := json.Unmarshal(out.Bytes(), &rb); err != nil {
		t.Fatalf("--output json: %v", err)
	}
	for _, c := range []struct {
		what  string
		got   []pipeline.Description
		steps []pipeline.Step
	}{{"up", rb.Up, pipeline.Flatten(pipeline.UpSteps())}, {"teardown", rb.Teardown, pipeline.Flatten(pipeline.TeardownSteps())}} {
		var names []string
		for _, s := range c.steps {
			if _, ok := s.(pipeline.Describer); ok {
				names = append(names, s.Name())
			}
		}
		if len(c.got) != len(names) {
			t.Fatalf("%s: %d steps in the runbook, %d in the pipeline", c.what, len(c.got), len(names))
		}
		for i := range names {
			if c.got[i].Step != names[i] {
				t.Errorf("%s step %d is %q, the pipeline's is %q", c.what, i+1, c.got[i].Step, names[i])
			}
		}
	}
}

// TestOffline: no tool in PATH, no AWS credentials, an empty working
// directory; the runbook still renders and writes nothing.
func TestOffline(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("PATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var out bytes.Buffer
	if err := runbook.Render(context.Background(), &out, config.Builtin("production"), day); err != nil {
		t.Fatalf("offline: %v", err)
	}
	if !strings.Contains(out.String(), "## Runbook for environment `production`") {
		t.Errorf("unexpected runbook:\n%s", out.String())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("the runbook wrote %s", e.Name())
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	var got *runbook.Options
	cmd := runbook.NewCmd(&factory.Factory{}, func(_ context.Context, o *runbook.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"-e", "production"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Env != "production" || got.Output.JSON() {
		t.Errorf("parsed %+v", got)
	}
	for _, args := range [][]string{{"--env", "staging", "-o", "yaml"}, {}} {
		f, _ := newFactory()
		var fe *factory.FlagError
		if err := execute(f, args...); !errors.As(err, &fe) {
			t.Errorf("bootstrap runbook %q: got %v, want a usage error", args, err)
		}
	}
}

// TestScript: the scripts of both built-in profiles are bash that stops at
// the first failure, reads every live value with a command (no placeholder
// is left outside comments), and their commands are the markdown's sh
// blocks.
func TestScript(t *testing.T) {
	t.Parallel()
	for _, env := range []string{"staging", "production"} {
		for _, teardown := range []bool{false, true} {
			script := scriptOf(t, env, teardown)
			for _, want := range []string{"#!/usr/bin/env bash\n", "\nset -euo pipefail\n", "\nfound() {\n"} {
				if !strings.Contains(script, want) {
					t.Errorf("%s (teardown %v): no %q", env, teardown, want)
				}
			}
			for i, line := range strings.Split(script, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") {
					continue
				}
				if m := placeholderRE.FindString(line); m != "" {
					t.Errorf("%s (teardown %v) line %d keeps the placeholder %s: %s", env, teardown, i+1, m, line)
				}
			}
		}
	}
	// The markdown's sh blocks hold the scripts' commands.
	f, out := newFactory()
	if err := execute(f, "--env", "staging"); err != nil {
		t.Fatal(err)
	}
	blocks := strings.Join(shBlocks(out.String()), "\n")
	for _, teardown := range []bool{false, true} {
		for _, line := range commands(scriptOf(t, "staging", teardown)) {
			if !strings.Contains(blocks, line) {
				t.Errorf("the script's line %q is in no sh block of the markdown", line)
			}
		}
	}
}

// TestScriptShellcheck runs shellcheck, every severity, on the scripts of
// both built-in profiles. It skips without shellcheck, and fails in CI
// (.ci/run installs it).
func TestScriptShellcheck(t *testing.T) {
	t.Parallel()
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		testenv.Missing(t, "shellcheck", "not on PATH (apt-get install shellcheck)")
	}
	check := func(what, script string) {
		cmd := exec.Command(sc, "--severity=style", "--shell=bash", "-")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck of %s: %v\n%s", what, err, out)
		}
	}
	for _, env := range []string{"staging", "production"} {
		check("the "+env+" up script", scriptOf(t, env, false))
		check("the "+env+" teardown script", scriptOf(t, env, true))
		// The markdown's sh blocks in order, the verification's too.
		f, out := newFactory()
		if err := execute(f, "--env", env); err != nil {
			t.Fatal(err)
		}
		check("the "+env+" markdown's sh blocks", strings.Join(shBlocks(out.String()), "\n"))
	}
}

var placeholderRE = regexp.MustCompile(`<[a-z][a-z0-9-]*>`)

func scriptOf(t *testing.T, env string, teardown bool) string {
	t.Helper()
	f, out := newFactory()
	args := []string{"--env", env, "--format", "script"}
	if teardown {
		args = append(args, "--teardown")
	}
	if err := execute(f, args...); err != nil {
		t.Fatalf("bootstrap runbook %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

// shBlocks are the contents of a markdown's sh blocks.
func shBlocks(md string) []string {
	var blocks []string
	for _, part := range strings.Split(md, "```sh\n")[1:] {
		block, _, _ := strings.Cut(part, "\n```\n")
		blocks = append(blocks, block)
	}
	return blocks
}

// commands are a script's lines but for comments and the script's own
// preamble (shebang, set, the working directory check).
func commands(script string) []string {
	_, body, _ := strings.Cut(script, "export AWS_DEFAULT_REGION")
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
