package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/config/configtest"
	"github.com/sovd/bootstrap/internal/golden"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/proc/proctest"
)

var today = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

type result struct {
	exit           int
	stdout, stderr string
	workDir        string
	runner         *proctest.Runner
}

type cliOpts struct {
	stdin string
	tty   bool
	ctx   context.Context
	// now replaces today as the clock when set.
	now time.Time
}

// runCLI runs bootstrap in-process with buffers, a fixed clock, a fresh work
// directory and a recording Runner that fails the test on any command not
// scripted: a test that expects nothing to run proves it.
func runCLI(t *testing.T, o cliOpts, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	runner := proctest.New(t)
	now := today
	if !o.now.IsZero() {
		now = o.now
	}
	f := &factory.Factory{
		IO:      &factory.IOStreams{In: strings.NewReader(o.stdin), Out: &out, ErrOut: &errOut, InTTY: o.tty},
		Now:     func() time.Time { return now },
		WorkDir: dir,
		Runner:  runner,
		Lock: func(context.Context, *pipeline.State, string, bool) (func(context.Context) error, error) {
			return func(context.Context) error { return nil }, nil
		},
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	code := Run(ctx, f, args)
	return result{exit: code, stdout: out.String(), stderr: errOut.String(), workDir: dir, runner: runner}
}

func (r result) touchedNothing(t *testing.T) {
	t.Helper()
	if len(r.runner.Calls) > 0 {
		t.Errorf("commands ran: %v", r.runner.Lines())
	}
	if _, err := os.Stat(filepath.Join(r.workDir, ".bootstrap")); err == nil {
		t.Errorf("a run directory was created")
	}
}

func TestInvalidConfigurationStartsNothing(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../config/testdata/invalid-*.yaml")
	if len(files) < 30 {
		t.Fatalf("found %d invalid fixtures, want at least 30", len(files))
	}
	for _, file := range files {
		abs, _ := filepath.Abs(file)
		for _, verb := range []string{"up", "plan"} {
			t.Run(verb+"/"+filepath.Base(file), func(t *testing.T) {
				t.Parallel()
				wants := configtest.WantPaths(t, file)
				env := "production"
				if rest, ok := strings.CutPrefix(wants[0], "environments."); ok {
					env = strings.SplitN(rest, ".", 2)[0]
				}
				r := runCLI(t, cliOpts{}, verb, "--env", env, "--config", abs)
				if r.exit != ExitFailed {
					t.Errorf("exit %d, want %d", r.exit, ExitFailed)
				}
				for _, w := range wants {
					if w != configtest.NoPath && !strings.Contains(r.stderr, w+":") {
						t.Errorf("stderr does not name %s:\n%s", w, r.stderr)
					}
				}
				for _, h := range configtest.WantHints(t, file) {
					if !strings.Contains(r.stderr, h) {
						t.Errorf("stderr does not say %q:\n%s", h, r.stderr)
					}
				}
				if !strings.Contains(r.stderr, abs+": invalid configuration") {
					t.Errorf("stderr does not name the file %s:\n%s", abs, r.stderr)
				}
				if !strings.Contains(r.stderr, "Nothing was run") {
					t.Errorf("stderr should say nothing ran:\n%s", r.stderr)
				}
				r.touchedNothing(t)
			})
		}
	}
}

func TestPlanOfflineOnBuiltinProfiles(t *testing.T) {
	t.Parallel()
	for _, env := range config.BuiltinEnvironments {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, cliOpts{}, "plan", "--env", env)
			if r.exit != ExitOK {
				t.Fatalf("exit %d, stderr:\n%s", r.exit, r.stderr)
			}
			golden.Assert(t, "plan-"+env+".txt", []byte(r.stdout))
			j := runCLI(t, cliOpts{}, "plan", "--env", env, "-o", "json")
			var res struct {
				Environment string
				Steps       []pipeline.Description
			}
			if err := json.Unmarshal([]byte(j.stdout), &res); err != nil {
				t.Fatalf("plan -o json is not JSON: %v\n%s", err, j.stdout)
			}
			if res.Environment != env || len(res.Steps) != len(pipeline.Flatten(pipeline.UpSteps())) {
				t.Errorf("json plan: environment %q with %d steps, want %q with %d", res.Environment, len(res.Steps), env, len(pipeline.Flatten(pipeline.UpSteps())))
			}
		})
	}
}

// TestPlanWarnsOfTheSupportWindow: 60 days before Kubernetes 1.35 leaves
// EKS standard support, plan says so, worded for the profile's STANDARD
// support type, on the clock it is given.
func TestPlanWarnsOfTheSupportWindow(t *testing.T) {
	t.Parallel()
	r := runCLI(t, cliOpts{now: time.Date(2027, 1, 26, 0, 0, 0, 0, time.UTC)}, "plan", "--env", "production")
	if r.exit != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.exit, r.stderr)
	}
	if !strings.Contains(r.stdout, "Warning: Kubernetes 1.35 leaves EKS standard support on 2027-03-27, in 60 days: with supportType STANDARD, EKS then upgrades the cluster") {
		t.Errorf("no support-window warning:\n%s", r.stdout[:min(len(r.stdout), 2000)])
	}
	if q := runCLI(t, cliOpts{}, "plan", "--env", "production"); strings.Contains(q.stdout, "Warning: Kubernetes") {
		t.Error("warned on the golden's day, 123 days before")
	}
}

func TestTeardownGuard(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		o       cliOpts
		refused string
	}{
		{"no --yes", []string{"--env", "staging"}, cliOpts{}, "run it again with --yes"},
		{"production without confirmation off a terminal", []string{"--env", "production", "--yes"}, cliOpts{}, "pass --confirm=production"},
		{"production with the wrong name", []string{"--env", "production", "--yes", "--confirm=staging"}, cliOpts{}, "does not name environment production"},
		{"production, wrong name typed", []string{"--env", "production", "--yes"}, cliOpts{tty: true, stdin: "prod\n"}, `"prod" is not "production"`},
		{"production, nothing typed", []string{"--env", "production", "--yes"}, cliOpts{tty: true}, "no answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, c.o, append([]string{"teardown"}, c.args...)...)
			if r.exit != ExitFailed || !strings.Contains(r.stderr, c.refused) || !strings.Contains(r.stderr, "teardown not confirmed") {
				t.Errorf("exit %d, want a refusal saying %q:\n%s", r.exit, c.refused, r.stderr)
			}
			r.touchedNothing(t)
		})
	}
	// Accepted: the guard lets the run start (it then stops at the first
	// step that is not built yet, which is honest, not a pass).
	accepted := []struct {
		name string
		args []string
		o    cliOpts
	}{
		{"staging with --yes", []string{"--env", "staging", "--yes"}, cliOpts{}},
		{"production with --confirm", []string{"--env", "production", "--yes", "--confirm=production"}, cliOpts{}},
		{"production typed at a terminal", []string{"--env", "production", "--yes"}, cliOpts{tty: true, stdin: "production\n"}},
	}
	for _, c := range accepted {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, c.o, append([]string{"teardown"}, c.args...)...)
			if strings.Contains(r.stderr, "teardown not confirmed") {
				t.Fatalf("guard refused:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, pipeline.TeardownSteps()[0].Name()) {
				t.Errorf("teardown did not start its first step:\n%s", r.stderr)
			}
		})
	}
}

func TestFlagErrorsShowUsage(t *testing.T) {
	t.Parallel()
	r := runCLI(t, cliOpts{}, "plan", "--env", "production", "--bogus")
	if r.exit != ExitFailed || !strings.Contains(r.stderr, "unknown flag: --bogus") || !strings.Contains(r.stderr, "Usage:") {
		t.Errorf("exit %d, stderr:\n%s", r.exit, r.stderr)
	}
	r = runCLI(t, cliOpts{}, "plan")
	if r.exit != ExitFailed || !strings.Contains(r.stderr, "--env is required") {
		t.Errorf("exit %d, stderr:\n%s", r.exit, r.stderr)
	}
	r = runCLI(t, cliOpts{}, "cost", "--env", "production", "-o", "yaml")
	if r.exit != ExitFailed || !strings.Contains(r.stderr, "--output must be text or json") {
		t.Errorf("exit %d, stderr:\n%s", r.exit, r.stderr)
	}
}

func TestInterruptedRunExitsTwo(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrInterrupted)
	r := runCLI(t, cliOpts{ctx: ctx}, "up", "--env", "staging")
	if r.exit != ExitCancelled {
		t.Errorf("exit %d, want %d", r.exit, ExitCancelled)
	}
	first := pipeline.UpSteps()[0].Name()
	if !strings.Contains(r.stderr, `Interrupted at "`+first+`"`) || !strings.Contains(r.stderr, "Run `bootstrap up --env staging` again to continue.") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestRenderedErrors(t *testing.T) {
	t.Parallel()
	runErr := &proc.RunError{
		Cmd: "eksctl create cluster -f .bootstrap/production/cluster.yaml", ExitCode: 1,
		Tail: []string{"waiting for CloudFormation stack \"eksctl-sovd-production-cluster-cluster\"", "Error: failed to create cluster"},
		Err:  errors.New("exit status 1"),
	}
	cases := map[string]error{
		"step-failure": &pipeline.StepError{Step: "Creating EKS cluster with eksctl", Next: "bootstrap up --env production",
			Log: ".bootstrap/production/logs/20261124T120000Z-up.log", Err: runErr},
		"interrupted": &pipeline.StepError{Step: "Applying the data tier with Terraform", Next: "bootstrap up --env production", Err: ErrInterrupted},
		"config": config.Problems{
			{Path: "environments.production.database.instanceClass", Message: `"db.x" is not a known RDS instance class`, Hint: "one of db.t3.large"},
			{Path: "environments.production.redis.port", Message: "is 22", Hint: "1024 to 65535; Redis's port is 6379"},
		},
	}
	for name, err := range cases {
		var buf bytes.Buffer
		RenderError(&buf, err, false)
		golden.Assert(t, "error-"+name+".txt", buf.Bytes())
	}
}

func TestInitWritesAFileThatValidates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "bootstrap.yaml")
	r := runCLI(t, cliOpts{}, "init", "-f", path)
	if r.exit != ExitOK {
		t.Fatalf("exit %d: %s", r.exit, r.stderr)
	}
	if _, err := config.Resolve(path, "production", today); err != nil {
		t.Fatalf("the written file does not validate: %v", err)
	}
	// The domain keys are there, commented where the profile leaves them
	// unset, and they validate once uncommented.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"      domain: sovd.production.com\n", "      # domain: sovd.example.com", "      # hostedZoneID: Z0123456789ABCDEFGHIJ"} {
		if !strings.Contains(text, want) {
			t.Errorf("init's file lacks %q:\n%s", want, text)
		}
	}
	uncommented := strings.NewReplacer("# domain: ", "domain: ", "# hostedZoneID: ", "hostedZoneID: ").Replace(text)
	if err := os.WriteFile(path, []byte(uncommented), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, env := range config.BuiltinEnvironments {
		p, err := config.Resolve(path, env, today)
		if err != nil || p.App.HostedZoneID == "" || p.App.Domain == "" {
			t.Fatalf("uncommented domain keys of %s: %v", env, err)
		}
	}
	again := runCLI(t, cliOpts{}, "init", "-f", path)
	if again.exit != ExitFailed || !strings.Contains(again.stderr, "--force") {
		t.Errorf("init must not overwrite without --force: exit %d %s", again.exit, again.stderr)
	}
}

func TestEmptyConfigPathIsAnError(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"plan", "--env", "staging", "--config", ""}, {"plan", "--env", "staging", "--config="}} {
		r := runCLI(t, cliOpts{}, args...)
		if r.exit != ExitFailed || !strings.Contains(r.stderr, "--config is empty") {
			t.Errorf("%q: exit %d, stderr:\n%s", args, r.exit, r.stderr)
		}
		r.touchedNothing(t)
	}
}

// TestTeardownGuardFollowsTheProfile: the typed confirmation is asked for by
// the profile's protection, whatever the environment is called.
func TestTeardownGuardFollowsTheProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "bootstrap.yaml")
	body := "apiVersion: " + config.APIVersion + "\nkind: Config\nenvironments:\n" +
		"  prod: {cluster: {vpcCIDR: 10.3.0.0/16}}\n" +
		"  production-eu: {region: eu-west-1, availabilityZones: [eu-west-1a, eu-west-1b, eu-west-1c]}\n" +
		"  production: {protection: {deletionProtection: false, finalSnapshot: false, typedConfirmation: false}}\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"prod", "production-eu"} {
		r := runCLI(t, cliOpts{}, "teardown", "--config", file, "--env", env, "--yes")
		if r.exit != ExitFailed || !strings.Contains(r.stderr, "pass --confirm="+env) {
			t.Errorf("%s: a new environment must be protected; exit %d:\n%s", env, r.exit, r.stderr)
		}
		r.touchedNothing(t)
	}
	r := runCLI(t, cliOpts{tty: true, stdin: "prod\n"}, "teardown", "--config", file, "--env", "prod", "--yes")
	if !strings.Contains(r.stderr, "a final snapshot will be taken") {
		t.Errorf("the prompt should say what protection keeps:\n%s", r.stderr)
	}
	r = runCLI(t, cliOpts{}, "teardown", "--config", file, "--env", "production", "--yes")
	if strings.Contains(r.stderr, "teardown not confirmed") || !strings.Contains(r.stderr, pipeline.TeardownSteps()[0].Name()) {
		t.Errorf("production with protection off explicitly needs only --yes:\n%s", r.stderr)
	}
	p := runCLI(t, cliOpts{}, "plan", "--config", file, "--env", "production-eu")
	if !strings.Contains(p.stdout, "Protection: deletion protection on, final snapshot at teardown on, typed confirmation at teardown on") {
		t.Errorf("plan does not show the protection:\n%.600s", p.stdout)
	}
}
