package factory

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// PhaseOptions are the options of a command that runs a list of steps
// (cluster, data, addons, up).
type PhaseOptions struct {
	Env   string
	Verb  string
	Steps func() []pipeline.Step
	// Again are the flags beside --env that the command printed to continue
	// after a failure repeats (upgrade's --allow-database-major).
	Again []string
}

// NewPhaseCmd builds such a command. runF replaces the run in tests (cli's
// runF pattern), receiving the parsed options.
func NewPhaseCmd(f *Factory, verb, short, long string, steps func() []pipeline.Step, runF func(context.Context, *PhaseOptions) error) *cobra.Command {
	opts := &PhaseOptions{Verb: verb, Steps: steps}
	cmd := &cobra.Command{
		Use:   verb + " --env ENV",
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return RunPhase(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Env, "env", "e", "", "environment (staging, production, or one of bootstrap.yaml)")
	return cmd
}

// RunPhase validates the profile, then runs the steps. Nothing starts when
// the configuration has a problem.
func RunPhase(ctx context.Context, f *Factory, opts *PhaseOptions) error {
	p, err := f.Profile(opts.Env)
	if err != nil {
		return err
	}
	// A protected cluster is made only with its endpoint limited and its
	// Secrets key set (plan merely warns); nothing starts otherwise.
	if probs := config.ReadyToCreate(p); len(probs) > 0 && (opts.Verb == "cluster" || opts.Verb == "up") {
		return probs
	}
	run, err := f.NewRun(p, opts.Verb)
	if err != nil {
		return err
	}
	defer run.Close()
	next := strings.Join(append([]string{"bootstrap", opts.Verb, "--env", p.Name}, opts.Again...), " ")
	// The lock lives in the state bucket; the phases that may be the first
	// to run make the bucket first (the add-ons need the data tier anyway).
	if err := run.ExecuteLocked(ctx, next, opts.Verb != "addons", opts.Steps()); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s: %s finished for environment %s\n", opts.Verb, "bootstrap "+opts.Verb, p.Name)
	return nil
}
