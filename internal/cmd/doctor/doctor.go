// Package doctor is `bootstrap doctor`: the tools bootstrap drives, found and
// checked against their minimum versions, and the AWS identity and region.
package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/eksctl"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/cost"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/shell"
)

// Tool is one program bootstrap needs.
type Tool struct {
	Name string
	// Minimum is the oldest version bootstrap works with, and why.
	Minimum string
	Why     string
	// Args print the version; Parse reads it from their output.
	Args  []string
	Parse func(out string) (string, error)
	// Optional tools only matter for the manual runbook.
	Optional bool
}

// Tools are checked in this order.
var Tools = []Tool{
	{Name: "eksctl", Minimum: eksctl.MinVersion, Why: "knows Kubernetes 1.35 and the ClusterConfig fields bootstrap renders",
		Args: []string{"version"}, Parse: firstSemver},
	{Name: "helm", Minimum: "3.14.0", Why: "upgrade --install --atomic --wait with server-side CRD handling",
		Args: []string{"version", "--short"}, Parse: firstSemver},
	{Name: "kubectl", Minimum: "1.34.0", Why: "within one minor version of the cluster (1.35)",
		Args: []string{"version", "--client", "-o", "json"}, Parse: kubectlVersion},
	{Name: "terraform", Minimum: pipeline.TerraformMin.String(), Why: "write-only arguments keep secrets out of state",
		Args: []string{"version", "-json"}, Parse: terraformVersion},
	{Name: "aws", Minimum: "1.30.0", Why: "the manual runbook's commands", Optional: true,
		Args: []string{"--version"}, Parse: firstSemver},
}

// Row is one line of the report.
type Row struct {
	Tool    string `json:"tool"`
	Path    string `json:"path,omitempty"`
	Version string `json:"version,omitempty"`
	Minimum string `json:"minimum"`
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
}

// Report is doctor's result.
type Report struct {
	Tools    []Row  `json:"tools"`
	Identity string `json:"awsIdentity,omitempty"`
	Account  string `json:"awsAccount,omitempty"`
	Region   string `json:"awsRegion,omitempty"`
	AWSError string `json:"awsError,omitempty"`
	// SupportWindows are the support-window warnings of every environment
	// of the configuration (SupportWindows): doctor is where a user looks
	// before a run, and a version leaving standard support is a check due.
	SupportWindows []string `json:"supportWindows,omitempty"`
}

// SupportWindows are internal/cost's support-window warnings for every
// environment of the configuration at path ("" is bootstrap.yaml or the
// built-in profiles), each prefixed with its environment, in name order, on
// the day now. A configuration that cannot be read is one line saying so:
// the other commands report its problems in full.
func SupportWindows(path string, now time.Time) []string {
	f, err := config.Load(path)
	if err != nil {
		return []string{"the profiles could not be read, so their support windows are unchecked: " + strings.SplitN(err.Error(), "\n", 2)[0]}
	}
	names := make([]string, 0, len(f.Environments))
	for n := range f.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		for _, w := range cost.SupportWarnings(f.Environments[n], now) {
			out = append(out, "environment "+n+": "+w)
		}
	}
	return out
}

// Options are doctor's flags.
type Options struct {
	Output factory.Output
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the tools bootstrap needs and the AWS identity",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Output.Check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	factory.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

func run(ctx context.Context, f *factory.Factory, opts *Options) error {
	runner := f.Runner
	if runner == nil {
		runner = pipeline.ToolRunner(2 * time.Second)
	}
	rep := Check(ctx, runner, lookPath(f), sdkIdentity(f))
	rep.SupportWindows = SupportWindows(f.ConfigPath, f.Now())
	if opts.Output.JSON() {
		if err := factory.WriteJSON(f.IO.Out, rep); err != nil {
			return err
		}
	} else {
		write(f, rep)
	}
	for _, r := range rep.Tools {
		if !r.OK && !isOptional(r.Tool) {
			return fmt.Errorf("doctor: %s: %s", r.Tool, r.Problem)
		}
	}
	return nil
}

func isOptional(name string) bool {
	for _, t := range Tools {
		if t.Name == name {
			return t.Optional
		}
	}
	return false
}

// lookPath finds a tool: BOOTSTRAP_<TOOL>, the factory's override, PATH; for
// terraform, the binary bootstrap would run (BOOTSTRAP_TERRAFORM or the
// pinned release hc-install installed), never one merely on PATH.
func lookPath(f *factory.Factory) func(ctx context.Context, name string) (string, error) {
	return func(ctx context.Context, name string) (string, error) {
		if p := f.Tools[name]; p != "" {
			return p, nil
		}
		if name == "terraform" {
			return pipeline.LocateTerraform(ctx)
		}
		env := map[string]string{"eksctl": "BOOTSTRAP_EKSCTL", "helm": "BOOTSTRAP_HELM", "kubectl": "BOOTSTRAP_KUBECTL", "aws": "BOOTSTRAP_AWS"}[name]
		if p := os.Getenv(env); p != "" {
			return p, nil
		}
		return exec.LookPath(name)
	}
}

// Check runs every tool's version command and the AWS identity check
// (identity nil skips it).
func Check(ctx context.Context, runner pipeline.Runner, find func(context.Context, string) (string, error), identity IdentityFunc) Report {
	var rep Report
	for _, t := range Tools {
		row := Row{Tool: t.Name, Minimum: t.Minimum}
		path, err := find(ctx, t.Name)
		if err != nil {
			row.Problem = "not found: install " + t.Name + " " + t.Minimum + " or newer (" + t.Why + ")"
			rep.Tools = append(rep.Tools, row)
			continue
		}
		row.Path = path
		var out bytes.Buffer
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = runner.Run(cctx, pipeline.Cmd{Name: path, Args: t.Args, Stdout: &out})
		cancel()
		if err != nil {
			row.Problem = fmt.Sprintf("`%s %s` failed: %v", t.Name, shell.Quote(t.Args), err)
			rep.Tools = append(rep.Tools, row)
			continue
		}
		v, err := t.Parse(out.String())
		if err != nil {
			row.Problem = err.Error()
			rep.Tools = append(rep.Tools, row)
			continue
		}
		row.Version = v
		row.OK, row.Problem = atLeast(v, t.Minimum, t.Why)
		rep.Tools = append(rep.Tools, row)
	}
	rep.Region = firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	if identity != nil {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		id, err := identity(cctx)
		cancel()
		if err != nil {
			rep.AWSError = err.Error() + " (plan works without credentials; the other commands need them)"
		} else {
			rep.Identity, rep.Account = id.Arn, id.Account
		}
	}
	return rep
}

// IdentityFunc asks AWS who the caller is.
type IdentityFunc func(ctx context.Context) (pipeline.Identity, error)

// sdkIdentity asks STS through the factory's AWS handle, as every other
// command does, so doctor checks the identity bootstrap will use even where
// the aws CLI is not installed. A region is needed only to pick an endpoint.
func sdkIdentity(f *factory.Factory) IdentityFunc {
	return func(ctx context.Context) (pipeline.Identity, error) {
		region := firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
		c, err := f.AWSHandle(region)(ctx)
		if err != nil {
			return pipeline.Identity{}, err
		}
		return c.Identity(ctx)
	}
}

func atLeast(have, minimum, why string) (bool, string) {
	h, err := version.NewVersion(have)
	if err != nil {
		return false, fmt.Sprintf("cannot read version %q", have)
	}
	m := version.Must(version.NewVersion(minimum))
	if h.LessThan(m) {
		return false, fmt.Sprintf("version %s is older than %s (%s)", have, minimum, why)
	}
	return true, ""
}

var semverRE = regexp.MustCompile(`v?(\d+\.\d+\.\d+)`)

func firstSemver(out string) (string, error) {
	m := semverRE.FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("no version in %q", trim(out))
	}
	return m[1], nil
}

func kubectlVersion(out string) (string, error) {
	var v struct {
		ClientVersion struct{ GitVersion string } `json:"clientVersion"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ClientVersion.GitVersion == "" {
		return firstSemver(out)
	}
	return firstSemver(v.ClientVersion.GitVersion)
}

func terraformVersion(out string) (string, error) {
	var v struct {
		TerraformVersion string `json:"terraform_version"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.TerraformVersion == "" {
		return firstSemver(out)
	}
	return v.TerraformVersion, nil
}

func trim(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func write(f *factory.Factory, rep Report) {
	tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOOL\tVERSION\tMINIMUM\tSTATUS")
	for _, r := range rep.Tools {
		status := "ok"
		if !r.OK {
			status = r.Problem
			if isOptional(r.Tool) {
				status += " (optional)"
			}
		}
		v := r.Version
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Tool, v, r.Minimum, status)
	}
	tw.Flush()
	switch {
	case rep.Identity != "":
		fmt.Fprintf(f.IO.Out, "\nAWS identity: %s\nAWS account:  %s\nAWS region:   %s\n", rep.Identity, rep.Account, orDash(rep.Region))
	case rep.AWSError != "":
		fmt.Fprintf(f.IO.Out, "\nAWS: %s\n", rep.AWSError)
	}
	if len(rep.SupportWindows) > 0 {
		fmt.Fprintln(f.IO.Out)
	}
	for _, w := range rep.SupportWindows {
		fmt.Fprintf(f.IO.Out, "Warning: %s.\n", w)
	}
}

func orDash(s string) string {
	if s == "" {
		return "- (set AWS_REGION; the profile's region is used for every call)"
	}
	return s
}
