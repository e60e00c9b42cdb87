// Package teardown is `bootstrap teardown`: the environment removed in the
// order that leaves nothing behind, guarded against losing production data
// by accident.
package teardown

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// Options are teardown's parsed flags.
type Options struct {
	Env     string
	Yes     bool
	Confirm string
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "teardown --env ENV --yes [--confirm ENV]",
		Short: "Remove the whole environment, leaving nothing behind",
		Long: `Removes the environment in the order that leaves nothing behind: Ingresses and
LoadBalancer Services first (while the load balancer controller can delete
their load balancers), then the add-ons, the data tier and (beside it) the
node group, the cluster, and a sweep of leftovers tagged for the cluster.

It first lists what will be deleted and what kept (the final snapshot and its
name, the backups bucket emptied of every version, the images deleted, the
secrets deleted at once or with a recovery window), from the same settings
the data tier's destroy applies. Nothing is removed without --yes. An environment whose data is protected
(production, or deletion protection on) also needs its name typed at the
prompt, or --confirm=<env> when not on a terminal; a final RDS snapshot with a
unique name is taken before the database goes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Env, "env", "e", "", "environment to remove")
	cmd.Flags().BoolVar(&opts.Yes, "yes", false, "confirm that the environment is to be removed")
	cmd.Flags().StringVar(&opts.Confirm, "confirm", "", "the environment's name, for a protected environment when not on a terminal")
	return cmd
}

func run(ctx context.Context, f *factory.Factory, opts *Options) error {
	p, err := f.Profile(opts.Env)
	if err != nil {
		return err
	}
	if err := Confirm(p, opts, f.IO.In, f.IO.InTTY, f.IO.ErrOut); err != nil {
		return err
	}
	r, err := f.NewRun(p, "teardown")
	if err != nil {
		return err
	}
	defer r.Close()
	return r.ExecuteLocked(ctx, fmt.Sprintf("bootstrap teardown --env %s --yes", p.Name)+confirmFlag(p), false, pipeline.TeardownSteps())
}

func confirmFlag(p *config.Profile) string {
	if p.Protection.TypedConfirmation {
		return " --confirm=" + p.Name
	}
	return ""
}

// protectionSummary says what teardown does about the database's protection.
func protectionSummary(p *config.Profile) string {
	var parts []string
	if p.Protection.DeletionProtection {
		parts = append(parts, "database "+p.Database.Identifier+" has deletion protection, which teardown lifts")
	}
	if p.Protection.FinalSnapshot {
		parts = append(parts, "a final snapshot will be taken")
	} else {
		parts = append(parts, "no final snapshot will be taken (protection.finalSnapshot is off)")
	}
	return strings.Join(parts, "; ")
}

// ErrNotConfirmed is a teardown refused for want of confirmation.
var ErrNotConfirmed = errors.New("teardown not confirmed")

// Confirm is the guard in front of everything destructive: --yes always, and
// where the profile's protection asks for it (protection.typedConfirmation),
// the environment's name, typed at a terminal or given with --confirm. It
// runs before any process starts.
func Confirm(p *config.Profile, opts *Options, in io.Reader, inTTY bool, prompt io.Writer) error {
	fmt.Fprintf(prompt, "Teardown of environment %s (region %s):\n", p.Name, p.Region)
	for _, l := range pipeline.TeardownLosses(p, "") {
		fmt.Fprintf(prompt, "  - %s\n", l)
	}
	if !opts.Yes {
		return fmt.Errorf("%w: teardown removes environment %s (cluster %s, database %s); run it again with --yes",
			ErrNotConfirmed, p.Name, p.Cluster.Name, p.Database.Identifier)
	}
	if !p.Protection.TypedConfirmation {
		return nil
	}
	if opts.Confirm != "" {
		if opts.Confirm != p.Name {
			return fmt.Errorf("%w: --confirm=%s does not name environment %s", ErrNotConfirmed, opts.Confirm, p.Name)
		}
		return nil
	}
	if !inTTY {
		return fmt.Errorf("%w: environment %s holds protected data; not on a terminal, so pass --confirm=%s", ErrNotConfirmed, p.Name, p.Name)
	}
	fmt.Fprintf(prompt, "Environment %s is protected (protection.typedConfirmation): %s; above, what is kept and what is lost.\n", p.Name, protectionSummary(p))
	fmt.Fprintf(prompt, "Type the environment name (%s) to remove it: ", p.Name)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("%w: no answer", ErrNotConfirmed)
	}
	if strings.TrimSpace(line) != p.Name {
		return fmt.Errorf("%w: %q is not %q", ErrNotConfirmed, strings.TrimSpace(line), p.Name)
	}
	return nil
}
