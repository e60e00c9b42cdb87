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
	"github.com/sovd/bootstrap/internal/proc"
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
	Cost  *cost.Report           `json:"cost,omitempty"`
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
	res := Result{Environment: p.Name, Region: p.Region, Protection: p.DescribeProtection(), Mode: mode, Warnings: append(config.Warnings(p, f.Now()), config.CreateWarnings(p)...), Steps: descs}
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
	for i, d := range res.Steps {
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
			cmd := proc.Quote(append([]string{a.Tool}, a.Args...))
			if a.Dir != "" {
				cmd = "(cd " + a.Dir + " && " + cmd + ")"
			}
			fmt.Fprintf(w, "   $ %s\n", cmd)
		}
	}
	if c := res.Cost; c != nil {
		fmt.Fprintf(w, "\nEstimated cost: %s a month (%s prices read %s; budget %s-%s: %s)\n",
			cost.Money(c.Total), c.PriceRegion, c.PricesRead, cost.Money(c.Budget.MonthlyMin), cost.Money(c.Budget.MonthlyMax), c.Verdict)
		for _, s := range c.Services {
			fmt.Fprintf(w, "   %-16s %10s\n", s.Service, cost.Money(s.Monthly))
		}
		fmt.Fprintf(w, "   %s.\n", c.Support)
		fmt.Fprintf(w, "   `bootstrap cost --env %s` itemises it.\n", res.Environment)
	}
	return nil
}
