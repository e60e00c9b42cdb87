// Package verify is `bootstrap verify`: the checks that prove an
// environment serves (internal/verify), one row each.
package verify

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/verify"
)

// Options are the command's flags.
type Options struct {
	Env        string
	Output     factory.Output
	Kubeconfig string
	// Commands prints the checks as shell commands (the runbook's
	// Verification section) and runs nothing.
	Commands bool
}

// Report is the command's result.
type Report struct {
	Environment string         `json:"environment"`
	Checks      []verify.Check `json:"checks"`
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "verify --env ENV",
		Short: "Prove the environment serves: cluster, add-ons, secret, database, Redis, metrics, HTTPS",
		Long: `Runs the checks of a working environment, one row each (passed, failed, or
skipped with the reason): the API server answers and every node is Ready; the
EKS and Helm add-ons are healthy; External Secrets has synced the app's
Secret (DATABASE_URL, REDIS_URL, JWT_SECRET); from inside the cluster, a
short-lived Job in the app's namespace, with the app's service account and
Secret, connects to PostgreSQL over TLS (select 1) and is refused without
TLS, and PINGs Redis over TLS with AUTH and is refused without it (the Job
is deleted afterwards; until the app's chart has made its service account,
these rows are skipped and no Job is made); the metrics API answers; and, once the app's Ingress
exists, its load balancer is internet-facing and active, the domain resolves
to it and HTTPS answers with a certificate valid for the domain.

A failed check names what to look at next. Exits 1 when any check fails.
Changes nothing but the Job it creates and deletes.`,
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
	cmd.Flags().StringVar(&opts.Kubeconfig, "kubeconfig", "", "the cluster's kubeconfig (default .bootstrap/<env>/kubeconfig, which bootstrap addons writes)")
	cmd.Flags().BoolVar(&opts.Commands, "commands", false, "print the checks as shell commands (the runbook's Verification section); run nothing")
	factory.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

func run(ctx context.Context, f *factory.Factory, opts *Options) error {
	p, err := f.Profile(opts.Env)
	if err != nil {
		return err
	}
	if opts.Commands {
		text, err := verify.Commands(p)
		if err != nil {
			return err
		}
		_, err = io.WriteString(f.IO.Out, text)
		return err
	}
	r, err := f.NewRun(p, "verify")
	if err != nil {
		return err
	}
	defer r.Close()
	api, err := r.State.Cloud(ctx)
	if err != nil {
		return err
	}
	kubeconfig := opts.Kubeconfig
	if kubeconfig == "" {
		kubeconfig = r.Path(pipeline.KubeconfigFile)
	}
	o := verify.Options{Kube: verify.Kube{Runner: r.Runner, Kubectl: r.Tool("kubectl"), Helm: r.Tool("helm"), Kubeconfig: kubeconfig}, Now: f.Now}
	rep := Report{Environment: p.Name, Checks: verify.Run(ctx, p, o, api, verify.DefaultNet(), r.Dir)}
	if opts.Output.JSON() {
		err = factory.WriteJSON(f.IO.Out, rep)
	} else {
		err = Write(f.IO.Out, rep)
	}
	if err != nil {
		return err
	}
	return rep.Err()
}

// Err is the command's failure: the failed checks, by name.
func (rep Report) Err() error {
	var n int
	for _, c := range rep.Checks {
		if c.Status == verify.Failed {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("environment %s: %d of %d checks failed (each names what to look at)", rep.Environment, n, len(rep.Checks))
}

// Write prints the report as a table, with what to look at under each
// failed row.
func Write(w io.Writer, rep Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL")
	for _, c := range rep.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Status, c.Detail)
		if c.Next != "" {
			fmt.Fprintf(tw, "\t\tlook at: %s\n", c.Next)
		}
	}
	return tw.Flush()
}
