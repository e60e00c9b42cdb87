// Package plan is `bootstrap plan`: everything `up` would do, changing
// nothing. It works on a fresh machine with no configuration file and no AWS
// account, from the built-in profiles.
package plan

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/cost"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/shell"
)

// Options are plan's parsed flags.
type Options struct {
	Env     string
	Output  factory.Output
	Offline bool
}

// Result is the plan as data (--output json).
type Result struct {
	Environment string `json:"environment"`
	Region      string `json:"region"`
	// Protection is the profile's protection in words.
	Protection string   `json:"protection"`
	Warnings   []string `json:"warnings,omitempty"`
	// Mode says whether the plan read the live environment.
	Mode  string                 `json:"mode"`
	Steps []pipeline.Description `json:"steps"`
	// Upgrade lists what `bootstrap upgrade` would run, when the live
	// cluster's versions differ from the profile's; UpgradeWhy says how.
	Upgrade    []pipeline.Description `json:"upgrade,omitempty"`
	UpgradeWhy []string               `json:"upgradeWhy,omitempty"`
	// UpgradeCommand is the command that makes the upgrade (with
	// --allow-database-major when the PostgreSQL major moves).
	UpgradeCommand string       `json:"upgradeCommand,omitempty"`
	Cost           *cost.Report `json:"cost,omitempty"`
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "plan --env ENV",
		Short: "Show everything up would do, changing nothing",
		Long: `Shows, for each step of 'bootstrap up' in order, what it would run: the tool,
its arguments and the files it renders. Needs no AWS account: values only the
live environment knows are shown as placeholders such as <vpc-id>.`,
		Args: cobra.NoArgs,
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
	cmd.Flags().StringVarP(&opts.Env, "env", "e", "", "environment (staging, production, or one of bootstrap.yaml)")
	factory.AddOutputFlag(cmd, &opts.Output)
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "do not contact AWS even when credentials are configured")
	return cmd
}

func run(ctx context.Context, f *factory.Factory, opts *Options) error {
	p, err := f.Profile(opts.Env)
	if err != nil {
		return err
	}
	r, err := f.NewRun(p, "plan")
	if err != nil {
		return err
	}
	defer r.Close()
	r.ReadOnly = true // no lock taken: keep off the working directory of a running up
	mode := "offline: --offline given; values only AWS knows are placeholders"
	if !opts.Offline {
		mode = pipeline.ProbeLive(ctx, r.State)
	}
	descs, err := pipeline.Describe(ctx, r.State, pipeline.UpSteps())
	if err != nil {
		return fmt.Errorf("planning environment %s: %w", p.Name, err)
	}
	res := Result{Environment: p.Name, Region: p.Region, Protection: p.DescribeProtection(), Mode: mode, Steps: descs}
	res.Warnings = append(append(config.Warnings(p, f.Now()), cost.SupportWarnings(p, f.Now())...), config.CreateWarnings(p)...)
	if r.State.Live && r.State.Network != nil {
		var major bool
		if res.UpgradeWhy, major = upgradeWhy(ctx, r.State); len(res.UpgradeWhy) > 0 {
			steps := pipeline.UpgradeSteps()
			res.UpgradeCommand = "bootstrap upgrade --env " + p.Name
			if major {
				steps = pipeline.DatabaseMajorUpgradeSteps()
				res.UpgradeCommand += " " + pipeline.AllowDatabaseMajorFlag
			}
			if res.Upgrade, err = pipeline.Describe(ctx, r.State, steps); err != nil {
				return fmt.Errorf("planning the upgrade of environment %s: %w", p.Name, err)
			}
		}
	}
	if est, err := cost.Estimate(p, f.Now()); err == nil {
		res.Cost = &est
	} else {
		res.Warnings = append(res.Warnings, "no cost estimate: "+err.Error())
	}
	if opts.Output.JSON() {
		return factory.WriteJSON(f.IO.Out, res)
	}
	return Write(f.IO.Out, res, r.State.Account())
}

// upgradeWhy compares the live cluster's and database's versions with the
// profile's: what `bootstrap upgrade` would move, and whether that includes
// a PostgreSQL major (which needs --allow-database-major). A read that
// fails says nothing (plan must not fail on it); the run log has it.
func upgradeWhy(ctx context.Context, st *pipeline.State) (why []string, major bool) {
	p := st.Profile
	c, err := st.Cloud(ctx)
	if err != nil {
		fmt.Fprintf(st.Log, "plan: reading the live versions: %v\n", err)
		return nil, false
	}
	if cl, err := c.ClusterFacts(ctx, p.Cluster.Name); err == nil && cl.Exists && cl.Version != p.Cluster.KubernetesVersion {
		why = append(why, fmt.Sprintf("control plane at %s, profile %s", cl.Version, p.Cluster.KubernetesVersion))
	}
	if ng, err := c.NodeGroupFacts(ctx, p.Cluster.Name, p.Cluster.NodeGroup.Name); err == nil && ng.Exists && ng.Version != p.Cluster.KubernetesVersion {
		why = append(why, fmt.Sprintf("node group %s at %s, profile %s", ng.Name, ng.Version, p.Cluster.KubernetesVersion))
	}
	if db, err := c.DBFacts(ctx, p.Database.Identifier); err == nil && pipeline.DatabaseMajorPending(p, db.EngineVersion) {
		why = append(why, fmt.Sprintf("PostgreSQL at %s, profile %s: a major upgrade, made only with %s", db.EngineVersion, p.Database.EngineVersion, pipeline.AllowDatabaseMajorFlag))
		major = true
	}
	return why, major
}

// Write renders a plan for people.
func Write(w io.Writer, res Result, account string) error {
	fmt.Fprintf(w, "Plan for environment %q in %s (account %s)\n", res.Environment, res.Region, account)
	fmt.Fprintf(w, "Mode: %s\n", res.Mode)
	if res.Protection != "" {
		fmt.Fprintf(w, "Protection: %s\n", res.Protection)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warn)
	}
	var lanes []string
	for _, d := range res.Steps {
		if d.Lane != "" && !slices.Contains(lanes, d.Lane) {
			lanes = append(lanes, d.Lane)
		}
	}
	if len(lanes) > 1 {
		fmt.Fprintf(w, "Lanes: the steps of the %s lanes run side by side, each lane's in order.\n", strings.Join(lanes, " and "))
	}
	writeSteps(w, res.Steps)
	if len(res.Upgrade) > 0 {
		fmt.Fprintf(w, "\nUpgrade: the live environment differs from the profile (%s); `%s` would run:\n", strings.Join(res.UpgradeWhy, "; "), upgradeCommand(res))
		writeSteps(w, res.Upgrade)
	}
	if c := res.Cost; c != nil {
		fmt.Fprintf(w, "\nEstimated cost: %s a month (%s prices read %s; budget %s-%s: %s)\n",
			cost.Money(c.Total), c.PriceRegion, c.PricesRead, cost.Money(c.Budget.MonthlyMin), cost.Money(c.Budget.MonthlyMax), c.Verdict)
		for _, s := range c.Services {
			fmt.Fprintf(w, "   %-16s %10s\n", s.Service, cost.Money(s.Monthly))
		}
		fmt.Fprintf(w, "   Range %s–%s with usage low and high.\n", cost.Money(c.Range.Low), cost.Money(c.Range.High))
		fmt.Fprintf(w, "   %s.\n", c.Support)
		if a := c.After; a != nil {
			fmt.Fprintf(w, "   From %s (%s): %s a month, %s.\n", a.From, a.What, cost.Money(a.Total), a.Note)
		}
		if a := c.Alternative; a != nil && a.Saving > 0 {
			fmt.Fprintf(w, "   On %s (%s) it would cost %s, %s less.\n", a.Architecture, a.Types, cost.Money(a.Total), cost.Money(a.Saving))
		}
		fmt.Fprintf(w, "   `bootstrap cost --env %s` itemises it.\n", res.Environment)
	}
	return nil
}

// writeSteps writes numbered steps with their files, notes and commands.
func writeSteps(w io.Writer, steps []pipeline.Description) {
	for i, d := range steps {
		lane := ""
		if d.Lane != "" {
			lane = " (" + d.Lane + " lane)"
		}
		fmt.Fprintf(w, "\n%d. %s%s\n", i+1, d.Step, lane)
		for _, s := range d.Summary {
			fmt.Fprintf(w, "   %s\n", s)
		}
		for _, a := range d.Actions {
			for _, file := range a.Files {
				fmt.Fprintf(w, "   file %s:\n", file.Path)
				for _, line := range strings.Split(strings.TrimRight(file.Content, "\n"), "\n") {
					fmt.Fprintf(w, "     | %s\n", line)
				}
			}
			if a.Note != "" {
				fmt.Fprintf(w, "   # %s\n", a.Note)
			}
			cmd := shell.Quote(append([]string{a.Tool}, a.Args...))
			if a.Script != "" {
				cmd = strings.ReplaceAll(strings.TrimSuffix(a.Script, "\n"), "\n", "\n     ")
			}
			if a.Dir != "" {
				cmd = "(cd " + a.Dir + " && " + cmd + ")"
			}
			fmt.Fprintf(w, "   $ %s\n", cmd)
		}
	}
}

func upgradeCommand(res Result) string {
	if res.UpgradeCommand != "" {
		return res.UpgradeCommand
	}
	return "bootstrap upgrade --env " + res.Environment
}
