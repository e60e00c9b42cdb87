// Package cost is `bootstrap cost`: an environment's monthly cost by service,
// from the profile and internal/cost's dated price table, checked against the
// profile's budget band. It needs no AWS account and changes nothing.
package cost

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/cost"
)

// Options are the command's flags.
type Options struct {
	Env    string
	Output factory.Output
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "cost --env ENV",
		Short: "Estimate the monthly cost of an environment",
		Long: `Estimates what the environment costs a month, line by line and by service,
from us-east-1 on-demand list prices dated in the output, and says whether the
total is inside the profile's budget band (budget.monthlyMin–monthlyMax).

Usage AWS bills by volume (NAT traffic, load balancer capacity, bucket and
registry sizes, logs, CPU above the burstable baseline, KMS requests) comes
from the profile's usage section, each value listed under the table with its
key; the range shows the total with all of them low (×0.5) and high (×3).

Also shown: what the support type (cluster.supportType) does when the
Kubernetes version leaves EKS standard support, a warning from 90 days
before that day, the monthly figure from then on, and the same profile on
the other architecture (x86_64 or arm64 Graviton) with the difference.

A total outside the band is reported plainly; the command still succeeds,
since the estimate itself did not fail.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Output.Check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(f, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Env, "env", "e", "", "environment (staging, production, or one of bootstrap.yaml)")
	factory.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

func run(f *factory.Factory, opts *Options) error {
	p, err := f.Profile(opts.Env)
	if err != nil {
		return err
	}
	r, err := cost.Estimate(p, f.Now())
	if err != nil {
		return err
	}
	if opts.Output.JSON() {
		return factory.WriteJSON(f.IO.Out, r)
	}
	return Write(f.IO.Out, r)
}

// Write renders an estimate for people: the lines, the total, the budget
// verdict, the totals by service, warnings and assumptions.
func Write(w io.Writer, r cost.Report) error {
	fmt.Fprintf(w, "Estimated monthly cost of environment %q in %s\n", r.Environment, r.Region)
	fmt.Fprintf(w, "Prices: %s on-demand list prices read %s; support tiers as of %s.\n\n", r.PriceRegion, r.PricesRead, r.On)

	width := len(cost.Money(r.Total))
	for _, l := range r.Lines {
		width = max(width, len(cost.Money(l.Monthly)))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SERVICE\tITEM\tQUANTITY\t× UNIT PRICE\t%*s\n", width, "MONTHLY")
	for _, l := range r.Lines {
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t× %s\t%*s\n", l.Service, l.Item, cost.Quantity(l.Quantity), units(l.Unit, l.Quantity), cost.Price(l.UnitPrice), width, cost.Money(l.Monthly))
	}
	fmt.Fprintf(tw, "TOTAL\t\t\t\t%*s\n", width, cost.Money(r.Total))
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nRange: %s low, %s expected, %s high (usage assumptions low and high, below).\n",
		cost.Money(r.Range.Low), cost.Money(r.Range.Expected), cost.Money(r.Range.High))
	fmt.Fprintf(w, "Budget: %s.\n", r.Message)
	fmt.Fprintf(w, "Support: %s.\n", r.Support)
	if a := r.After; a != nil {
		fmt.Fprintf(w, "From %s (%s): %s a month, %s.\n", a.From, a.What, cost.Money(a.Total), a.Note)
	}
	if a := r.Alternative; a != nil {
		head := fmt.Sprintf("Architecture: on %s (architecture: %s, with %s) the same shape costs %s a month",
			archName(a.Architecture), a.Architecture, a.Types, cost.Money(a.Total))
		if a.Saving >= 0 {
			fmt.Fprintf(w, "%s, %s less.\n", head, cost.Money(a.Saving))
		} else {
			fmt.Fprintf(w, "%s, %s more: this %s profile saves %s a month.\n", head, cost.Money(-a.Saving), r.Architecture, cost.Money(-a.Saving))
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "Warning: %s.\n", warn)
	}

	fmt.Fprintln(w, "\nBy service:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range r.Services {
		fmt.Fprintf(tw, "  %s\t%*s\n", s.Service, width, cost.Money(s.Monthly))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nAssumptions:")
	for _, a := range r.Assumptions {
		fmt.Fprintf(w, "  - %s\n", a)
	}
	return nil
}

// archName names an architecture for people.
func archName(arch string) string {
	if arch == "arm64" {
		return "Graviton"
	}
	return "x86"
}

// units makes a billing unit plural where a person would: 730
// cluster-hours, 150 GB-months, 100 GB.
func units(unit string, qty float64) string {
	if qty != 1 && (strings.HasSuffix(unit, "hour") || strings.HasSuffix(unit, "month") || unit == "request") {
		return unit + "s"
	}
	return unit
}
