// Package status is `bootstrap status`: one row per component of an
// environment (the cluster, its node group and IRSA roles, the data tier,
// the state bucket, the Helm releases) saying whether it exists, whether it
// is healthy, and how it differs from the profile.
//
// Status reports; it does not judge. A missing or unhealthy component is a
// row, not a failure: the command fails (exit 1) only when it could not read
// something, such as with wrong credentials. It changes nothing.
package status

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// Options are the command's flags.
type Options struct {
	Env    string
	Output factory.Output
	// Kubeconfig is the cluster's kubeconfig for helm; "" is the run
	// directory's, which bootstrap addons writes.
	Kubeconfig string
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "status --env ENV",
		Short: "Show every component: exists, healthy, matches the profile",
		Long: `Shows one row per component of the environment: the EKS cluster, its node
group, the IRSA roles, the RDS instance, the Redis replication group, the
backups bucket, the ECR repositories, the secrets, the Terraform state bucket
and the Helm releases. For each: whether it exists, whether it is healthy,
and its drift (what differs from the profile, such as the Kubernetes version,
the node group's sizes, the database class, a chart version other than the pin).

Helm releases are read with the kubeconfig 'bootstrap addons' writes in
.bootstrap/<env>/; without it, or without a cluster, they show as unknown.

Changes nothing. Exits 0 whenever it could read everything, whatever it
found; 1 when a read failed (credentials, permissions, helm).`,
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
	cmd.Flags().StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig for reading the Helm releases (default .bootstrap/<env>/kubeconfig)")
	factory.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

func run(ctx context.Context, f *factory.Factory, opts *Options) error {
	p, err := f.Profile(opts.Env)
	if err != nil {
		return err
	}
	r, err := f.NewRun(p, "status")
	if err != nil {
		return err
	}
	defer r.Close()
	api, err := r.Cloud(ctx)
	if err != nil {
		return err
	}
	facts, err := ReadAWS(ctx, api, p)
	if err != nil {
		return fmt.Errorf("reading environment %s: %w", p.Name, err)
	}
	kubeconfig, shown := opts.Kubeconfig, opts.Kubeconfig
	if kubeconfig == "" {
		kubeconfig, shown = r.Path(pipeline.KubeconfigFile), r.RelPath(pipeline.KubeconfigFile)
	}
	ReadReleases(ctx, &facts, p, kubeconfig, shown, helmList(r.State, kubeconfig))
	rep := Compare(p, facts)
	rep.Warnings = SupportWarnings(p, facts, f.Now())
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

// helmList reads a release with `helm list` through the run's Runner.
func helmList(st *pipeline.State, kubeconfig string) ListRelease {
	return func(ctx context.Context, c addons.Chart) (*addons.ReleaseStatus, error) {
		var out bytes.Buffer
		if err := st.Runner.Run(ctx, pipeline.Cmd{Name: st.Tool("helm"), Args: addons.List(c, kubeconfig), Stdout: &out}); err != nil {
			return nil, fmt.Errorf("helm list: %w", err)
		}
		return addons.ParseList(c, out.Bytes())
	}
}

// Write renders a report for people: the table, then a count.
func Write(w io.Writer, rep Report) error {
	fmt.Fprintf(w, "Status of environment %q in %s (account %s)\n\n", rep.Environment, rep.Region, rep.Account)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tNAME\tEXISTS\tHEALTHY\tDRIFT\tDETAIL")
	var exist, healthy, drifted, unknown int
	for _, r := range rep.Components {
		drift := "-"
		if len(r.Drift) > 0 {
			drift = strings.Join(r.Drift, "; ")
			drifted++
		}
		switch r.Exists {
		case Yes:
			exist++
		case Unknown:
			unknown++
		}
		if r.Healthy == Yes {
			healthy++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Component, r.Name, r.Exists, r.Healthy, drift, r.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d components: %d exist, %d healthy, %d drifted, %d unknown.\n", len(rep.Components), exist, healthy, drifted, unknown)
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "Warning: %s.\n", warn)
	}
	return nil
}
