// Package runbook is `bootstrap runbook`: the manual fallback, every step of
// `bootstrap up` and `bootstrap teardown` as the shell commands a person would
// type, in markdown. It is built from the same step definitions the tool
// runs (their Describe), so the runbook and the tool cannot drift apart, and
// docs/runbooks/infrastructure_setup.md embeds it under a test that keeps
// the two equal.
//
// It runs nothing and needs no AWS account and no tool installed: steps are
// described with a Runner that refuses every command, so the runbook is the
// same on every machine; values only the live environment knows appear as
// placeholders such as <vpc-id>.
package runbook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	shellquote "github.com/sovd/bootstrap/internal/shell"
)

// Options are the command's flags.
type Options struct {
	Env    string
	Output factory.Output
	// Format is markdown (the default) or script.
	Format string
	// Teardown picks the teardown's script over the up's (--format script).
	Teardown bool
}

// Runbook is the manual fallback for one environment, as data
// (--output json).
type Runbook struct {
	Environment string `json:"environment"`
	Region      string `json:"region"`
	Cluster     string `json:"cluster"`
	// Dir is the run directory the rendered files go to, relative to the
	// repository's root.
	Dir string                 `json:"dir"`
	Up  []pipeline.Description `json:"up"`
	// Verify checks what up made (Verification).
	Verify []pipeline.Description `json:"verify"`
	// Upgrade moves a live environment to the profile and the pins.
	Upgrade []pipeline.Description `json:"upgrade"`
	// DatabaseMajor is what --allow-database-major does in place of the
	// upgrade's data-tier apply: the PostgreSQL major upgrade.
	DatabaseMajor []pipeline.Description `json:"databaseMajor"`
	Teardown      []pipeline.Description `json:"teardown"`

	profile *config.Profile // for the commands that read live values
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "runbook --env ENV",
		Short: "Print the manual fallback: every step as shell commands",
		Long: `Prints, as markdown, every step of 'bootstrap up' and then of
'bootstrap teardown' as the commands a person would run without bootstrap:
rendered files as heredocs, commands in sh blocks, in order. Built from the
steps the tool itself runs. Runs nothing; needs no AWS account and no tool
installed. docs/runbooks/infrastructure_setup.md embeds its output for the
production environment.

The scripts stop before they change anything when the cluster or an IRSA role
of the environment's names carries other tags than the environment's; the up
script stops at once while the profile is not ready to create (it lists
why); the teardown script of a protected environment asks for its name, or
takes it from BOOTSTRAP_CONFIRM=<env> off a terminal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Output.Check(); err != nil {
				return err
			}
			if err := opts.check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Env, "env", "e", "", "environment (staging, production, or one of bootstrap.yaml)")
	cmd.Flags().StringVar(&opts.Format, "format", "markdown", "markdown, or script: the commands as one bash script")
	cmd.Flags().BoolVar(&opts.Teardown, "teardown", false, "with --format script: the teardown's script, not the up's")
	factory.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

func (o *Options) check() error {
	switch {
	case o.Format != "markdown" && o.Format != "script":
		return fmt.Errorf("--format %q: use markdown or script", o.Format)
	case o.Format == "script" && o.Output.JSON():
		return errors.New("--format script and --output json: pick one")
	case o.Teardown && o.Format != "script":
		return errors.New("--teardown picks the teardown's script: give it with --format script")
	}
	return nil
}

func run(ctx context.Context, f *factory.Factory, opts *Options) error {
	p, err := f.Profile(opts.Env)
	if err != nil {
		return err
	}
	rb, err := Build(ctx, p, f.Now())
	if err != nil {
		return err
	}
	switch {
	case opts.Output.JSON():
		return factory.WriteJSON(f.IO.Out, rb)
	case opts.Format == "script":
		return WriteScript(f.IO.Out, rb, opts.Teardown)
	}
	return Write(f.IO.Out, rb)
}

// Render writes the markdown runbook of a validated profile: Build, then
// Write. now is the clock steps see (support dates, snapshot names).
func Render(ctx context.Context, w io.Writer, p *config.Profile, now time.Time) error {
	rb, err := Build(ctx, p, now)
	if err != nil {
		return err
	}
	return Write(w, rb)
}

// Build describes the up steps, the upgrade steps, then the teardown steps,
// offline. Nothing is
// written, nothing is run.
func Build(ctx context.Context, p *config.Profile, now time.Time) (Runbook, error) {
	dir := path.Join(".bootstrap", p.Name)
	st := &pipeline.State{
		Profile: p,
		Dir:     dir,
		Services: pipeline.Services{
			Runner: offline{},
			Redact: &pipeline.Redactor{},
			Log:    io.Discard,
			Out:    io.Discard,
			Now:    func() time.Time { return now },
		},
	}
	rb := Runbook{Environment: p.Name, Region: p.Region, Cluster: p.Cluster.Name, Dir: dir, profile: p}
	var err error
	if rb.Up, err = pipeline.Describe(ctx, st, pipeline.UpSteps()); err != nil {
		return Runbook{}, fmt.Errorf("describing bootstrap up for environment %s: %w", p.Name, err)
	}
	if rb.Verify, err = Verification(p, dir); err != nil {
		return Runbook{}, fmt.Errorf("describing the checks of environment %s: %w", p.Name, err)
	}
	if rb.Upgrade, err = pipeline.Describe(ctx, st, pipeline.UpgradeSteps()); err != nil {
		return Runbook{}, fmt.Errorf("describing bootstrap upgrade for environment %s: %w", p.Name, err)
	}
	if rb.DatabaseMajor, err = pipeline.Describe(ctx, st, pipeline.DatabaseMajorSteps()); err != nil {
		return Runbook{}, fmt.Errorf("describing the PostgreSQL major upgrade for environment %s: %w", p.Name, err)
	}
	if rb.Teardown, err = pipeline.Describe(ctx, st, pipeline.TeardownSteps()); err != nil {
		return Runbook{}, fmt.Errorf("describing bootstrap teardown for environment %s: %w", p.Name, err)
	}
	return rb, nil
}

// offline is the Runner steps are described with: it runs nothing, so the
// runbook needs no tool and is the same on every machine.
type offline struct{}

func (offline) Run(_ context.Context, c pipeline.Cmd) error {
	return fmt.Errorf("%s: not run: the runbook runs nothing", c)
}

// Write renders a runbook as markdown: a heading per step, its notes, and
// its commands in sh blocks. The sh blocks, extracted in order, are the
// script WriteScript prints.
func Write(w io.Writer, rb Runbook) error {
	m := &writer{w: w, sh: &shell{p: rb.profile, dirs: map[string]bool{}}}
	m.printf("## Runbook for environment `%s` (generated)\n\n", rb.Environment)
	m.notReady(rb.profile)
	m.printf("Generated by `bootstrap runbook --env %s` from the steps `bootstrap up` and `bootstrap teardown` run, so it says what the tool does. ", rb.Environment)
	m.printf("Run the commands from the repository's root, in order, with AWS credentials for the account, in region %s; `bootstrap runbook --env %s --format script` prints them as one bash script (`--teardown`: the teardown's). ", rb.Region, rb.Environment)
	m.printf("Rendered files go to `%s/`. ", rb.Dir)
	m.printf("Each step reads the live values it needs (account, VPC, subnets, the data tier's outputs) with commands into shell variables, so any step also runs in a fresh shell once the block below has run there.\n")
	m.printf("\n```sh\n%s\n```\n", strings.Join(prelude(rb.Region, rb.profile), "\n"))
	m.section(fmt.Sprintf("Up: `bootstrap up --env %s`", rb.Environment), rb.Up)
	m.section("Verification", rb.Verify)
	m.section(fmt.Sprintf("Upgrade: `bootstrap upgrade --env %s`", rb.Environment), rb.Upgrade)
	m.section(fmt.Sprintf("PostgreSQL major upgrade: `bootstrap upgrade --env %s %s` runs these in place of the upgrade's data-tier apply, when database.engineVersion names a higher major than the instance runs", rb.Environment, pipeline.AllowDatabaseMajorFlag), rb.DatabaseMajor)
	m.section(fmt.Sprintf("Teardown: `bootstrap teardown --env %s`", rb.Environment), rb.Teardown)
	if m.err == nil {
		m.err = m.sh.err
	}
	return m.err
}

// WriteScript renders the up steps (teardown: the teardown steps) as one
// bash script: the markdown's sh blocks in order, notes as comments.
func WriteScript(w io.Writer, rb Runbook, teardown bool) error {
	m := &writer{w: w, sh: &shell{p: rb.profile, dirs: map[string]bool{}}, script: true}
	verb, steps := "up", rb.Up
	if teardown {
		verb, steps = "teardown", rb.Teardown
	}
	m.printf("#!/usr/bin/env bash\n")
	if !teardown && rb.profile != nil && len(config.ReadyToCreate(rb.profile)) > 0 {
		// The stop below leaves every command unreachable, on purpose.
		m.printf("# shellcheck disable=SC2317\n")
	}
	m.printf("# bootstrap %s --env %s, by hand: generated by `bootstrap runbook --env %s --format script`", verb, rb.Environment, rb.Environment)
	if teardown {
		m.printf(" --teardown")
	}
	m.printf(".\n# Run it from the repository's root with AWS credentials for the account. It stops at\n# the first failure; run it again to go on: every step reads what it needs and converges.\n")
	if !teardown {
		m.notReady(rb.profile)
	}
	m.printf("set -euo pipefail\n")
	m.printf("if [ ! -d %s ]; then\n  echo \"run this from the repository's root (no %s here)\" >&2\n  exit 2\nfi\n", dataRoot, dataRoot)
	if teardown {
		m.confirm(rb.profile)
	}
	m.printf("%s\n", strings.Join(prelude(rb.Region, rb.profile), "\n"))
	m.section("", steps)
	if m.err == nil {
		m.err = m.sh.err
	}
	return m.err
}

// notReady is the hard stop in front of an up that `bootstrap up` refuses
// (config.ReadyToCreate): the runbook is still printed, to be read, but
// its script exits before any command, and the markdown says so first.
func (m *writer) notReady(p *config.Profile) {
	if p == nil {
		return
	}
	probs := config.ReadyToCreate(p)
	if len(probs) == 0 {
		return
	}
	if m.script {
		m.printf("#\n# STOP: bootstrap up refuses environment %s until bootstrap.yaml fixes these, and so does\n", p.Name)
		m.printf("# this script (the cluster below would be made without them). Fix them, then print it again:\n")
		for _, pr := range probs {
			m.printf("#   - %s: %s; fix: %s\n", pr.Path, pr.Message, pr.Hint)
		}
		m.printf("echo %s >&2\nexit 1\n", shellquote.Quote([]string{fmt.Sprintf(
			"environment %s is not ready to create (%d problems in bootstrap.yaml, listed at the top of this script); bootstrap up refuses it too", p.Name, len(probs))}))
		return
	}
	m.printf("> [!CAUTION]\n> **Do not run the up steps below as they stand.** `bootstrap up --env %s` refuses this profile: ", p.Name)
	m.printf("the commands below would make the cluster without what a protected environment needs. Fix these in `bootstrap.yaml`, then print the runbook again")
	m.printf(" (`bootstrap runbook --env %s --format script` exits before any command until then):\n>\n", p.Name)
	for _, pr := range probs {
		m.printf("> - `%s`: %s. **Fix:** %s.\n", pr.Path, pr.Message, prose(pr.Hint))
	}
	m.printf("\n")
}

// confirm is the teardown script's typed confirmation, where the profile's
// protection asks for it (protection.typedConfirmation), as `bootstrap
// teardown` asks (teardown.Confirm): the environment's name read from the
// terminal, or BOOTSTRAP_CONFIRM as --confirm; nothing runs otherwise.
func (m *writer) confirm(p *config.Profile) {
	if p == nil || !p.Protection.TypedConfirmation {
		return
	}
	q := func(s string) string { return shellquote.Quote([]string{s}) }
	m.printf("# Environment %s is protected (protection.typedConfirmation): nothing runs until its name is\n", p.Name)
	m.printf("# typed, or given as BOOTSTRAP_CONFIRM=%s (bootstrap teardown's --confirm).\n", p.Name)
	m.printf("{\n  echo %s\n", q(fmt.Sprintf("Teardown of environment %s (region %s):", p.Name, p.Region)))
	for _, l := range pipeline.TeardownLosses(p, "") {
		// Unknown here (the script reads no value before the answer): {account-id}.
		m.printf("  echo %s\n", q("  - "+placeholderName.ReplaceAllString(l, "{$1}")))
	}
	m.printf("} >&2\n")
	m.printf("if [ -n \"${BOOTSTRAP_CONFIRM:-}\" ]; then\n  BOOTSTRAP_ANSWER=${BOOTSTRAP_CONFIRM}\n")
	m.printf("elif [ -t 0 ]; then\n  printf '%%s' %s >&2\n  read -r BOOTSTRAP_ANSWER || BOOTSTRAP_ANSWER=\n", q(fmt.Sprintf("Type the environment name (%s) to remove it: ", p.Name)))
	m.printf("else\n  echo %s >&2\n  exit 1\nfi\n", q(fmt.Sprintf("teardown not confirmed: environment %s is protected; not on a terminal, so set BOOTSTRAP_CONFIRM=%s", p.Name, p.Name)))
	m.printf("if [ \"${BOOTSTRAP_ANSWER}\" != %s ]; then\n  echo \"teardown not confirmed: '${BOOTSTRAP_ANSWER}' is not %s\" >&2\n  exit 1\nfi\n", q(p.Name), p.Name)
}

type writer struct {
	w      io.Writer
	err    error
	sh     *shell
	script bool // comments and commands, no markdown
}

func (m *writer) printf(format string, args ...any) {
	if m.err != nil {
		return
	}
	_, m.err = fmt.Fprintf(m.w, format, args...)
}

// text writes prose: a paragraph in markdown, comment lines in the script.
func (m *writer) text(s string) {
	if m.script {
		m.printf("# %s\n", strings.Trim(s, "_"))
		return
	}
	m.printf("\n%s\n", prose(s))
}

// section writes one list of steps.
func (m *writer) section(title string, steps []pipeline.Description) {
	// Each section runs in a fresh checkout too (a teardown by another
	// machine): it makes its own directories.
	m.sh.dirs = map[string]bool{}
	if !m.script {
		m.printf("\n### %s\n", title)
	}
	if len(steps) == 0 {
		m.text("No steps.")
	}
	lane := ""
	for i, d := range steps {
		switch {
		case d.Lane != lane && d.Lane != "":
			m.text(fmt.Sprintf("_Lane `%s`, from here: bootstrap runs the lanes of this stretch side by side. By hand, run them one after the other, or each in its own terminal._", d.Lane))
		case d.Lane == "" && lane != "":
			m.text("_From here, once every lane above is done: one step after another._")
		}
		lane = d.Lane
		m.sh.step()
		if m.script {
			m.printf("\n# %d. %s\n", i+1, d.Step)
		} else {
			m.printf("\n#### %d. %s\n", i+1, prose(d.Step))
		}
		if len(d.Summary) > 0 {
			if !m.script {
				m.printf("\n")
			}
			for _, s := range d.Summary {
				if m.script {
					m.printf("# - %s\n", s)
				} else {
					m.printf("- %s\n", prose(s))
				}
			}
		}
		if len(d.Actions) == 0 {
			m.text("No command of its own: see the list above.")
		}
		for _, a := range d.Actions {
			m.action(a)
		}
	}
}

func (m *writer) action(a pipeline.Action) {
	if a.Note != "" {
		m.text(sentence(a.Note, a.Tool))
	}
	lines := strings.Join(m.sh.lines(a), "\n")
	if m.script {
		m.printf("%s\n", lines)
		return
	}
	m.printf("\n```sh\n%s\n```\n", lines)
}

// delimiter is a heredoc delimiter that no line of content equals.
func delimiter(content string) string {
	lines := map[string]bool{}
	for _, l := range strings.Split(content, "\n") {
		lines[l] = true
	}
	eof := "EOF"
	for i := 1; lines[eof]; i++ {
		eof = fmt.Sprintf("EOF_%d", i)
	}
	return eof
}

// sentence turns a step's note ("when the cluster exists: ...") into a
// sentence for prose; a note that starts with a program's name keeps it as
// it is spelled.
func sentence(note, tool string) string {
	s := strings.TrimSpace(note)
	if s == "" {
		return s
	}
	first, _, _ := strings.Cut(s, " ")
	if c := s[0]; c >= 'a' && c <= 'z' && first != tool && !knownTools[first] {
		s = string(c-'a'+'A') + s[1:]
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, ":") {
		s += "."
	}
	return s
}

// placeholderRE finds placeholders such as <vpc-id>, which markdown would
// take for HTML tags and hide.
var placeholderRE = regexp.MustCompile(`<[a-z][a-z0-9-]*>`)

// prose makes a step's text safe in markdown: placeholders become code.
func prose(s string) string { return placeholderRE.ReplaceAllString(s, "`$0`") }

var knownTools = map[string]bool{"eksctl": true, "helm": true, "kubectl": true, "terraform": true, "aws": true}
