// Package values is `bootstrap values`: the Helm values overlay for the app's
// chart, made of the data tier's outputs.
package values

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/terraform/stateful"
)

// Options are the command's flags.
type Options struct {
	Env    string
	Output factory.Output
	// OutputsFile holds what `terraform output -json` prints for the data
	// tier; "-" is standard input; "" reads them from the Terraform remote
	// state.
	OutputsFile string
	// AccountID is the AWS account; "" reads it from the ECR repository URLs.
	AccountID string
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "values --env ENV [--outputs-file FILE]",
		Short: "Print the Helm values overlay for the app's chart from the data tier's outputs",
		Long: `Prints the values overlay for the app's chart (infrastructure/helm/sovd-webapp):
config.database.host/port/name/user, config.redis.host/port, the ingress
certificate ARN, the service account's name and IRSA role ARN, and the ECR
repository of each image. Give it after the chart's values-production.yaml:

  bootstrap values --env production > overlay.yaml
  helm upgrade --install sovd-webapp infrastructure/helm/sovd-webapp \
    -f infrastructure/helm/sovd-webapp/values-production.yaml -f overlay.yaml

The outputs are read from the data tier's Terraform remote state (AWS
credentials and terraform needed; nothing is changed). Without AWS, give
what the data tier's ` + "`terraform output -json`" + ` printed with --outputs-file.`,
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
	cmd.Flags().StringVar(&opts.OutputsFile, "outputs-file", "", "the data tier's `terraform output -json`, as a file (- for standard input); default: read from the Terraform remote state")
	cmd.Flags().StringVar(&opts.AccountID, "account-id", "", "AWS account ID (default: read from the ECR repository URLs)")
	factory.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

func run(ctx context.Context, f *factory.Factory, opts *Options) error {
	p, err := f.Profile(opts.Env)
	if err != nil {
		return err
	}
	var v addons.AppValues
	if opts.OutputsFile != "" {
		data, err := readOutputs(f, opts.OutputsFile)
		if err != nil {
			return err
		}
		if v, err = Overlay(p, data, opts.AccountID); err != nil {
			return err
		}
	} else if v, err = liveOverlay(ctx, f, p, opts.AccountID); err != nil {
		return err
	}
	for _, w := range v.Warnings() {
		fmt.Fprintf(f.IO.ErrOut, "Warning: %s\n", w)
	}
	m, err := v.Map()
	if err != nil {
		return err
	}
	if opts.Output.JSON() {
		return factory.WriteJSON(f.IO.Out, m)
	}
	out, err := v.YAML()
	if err != nil {
		return err
	}
	_, err = f.IO.Out.Write(out)
	return err
}

func readOutputs(f *factory.Factory, name string) ([]byte, error) {
	if name == "-" {
		data, err := io.ReadAll(f.IO.In)
		if err != nil {
			return nil, fmt.Errorf("reading the outputs from standard input: %w", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading the outputs: %w", err)
	}
	return data, nil
}

// liveOverlay reads the data tier's outputs from its Terraform remote state
// (the same step `up` and `addons` use; read-only, so no environment lock)
// and makes the overlay.
func liveOverlay(ctx context.Context, f *factory.Factory, p *config.Profile, accountID string) (addons.AppValues, error) {
	r, err := f.NewRun(p, "values")
	if err != nil {
		return addons.AppValues{}, err
	}
	defer r.Close()
	r.ReadOnly = true // no lock taken: keep off the working directory of a running up
	if err := r.Execute(ctx, "bootstrap values --env "+p.Name, []pipeline.Step{pipeline.ReadDataOutputs{}}); err != nil {
		var credErr *pipeline.CredentialsError
		if errors.As(err, &credErr) {
			credErr.Also = "or, without AWS, give values the data tier's outputs: --outputs-file (from `terraform output -json`)"
		}
		return addons.AppValues{}, err
	}
	if accountID == "" {
		accountID = r.State.AccountID
	}
	return overlay(p, *r.State.Data, accountID)
}

// Overlay makes the overlay of a profile from `terraform output -json` of its
// data tier. Outputs of another environment or region are refused: their
// hosts would point the app at the wrong database.
func Overlay(p *config.Profile, terraformOutputJSON []byte, accountID string) (addons.AppValues, error) {
	raw, err := stateful.ParseTerraformOutputJSON(terraformOutputJSON)
	if err != nil {
		return addons.AppValues{}, err
	}
	out, err := stateful.ParseOutputs(raw)
	if err != nil {
		return addons.AppValues{}, err
	}
	return overlay(p, out, accountID)
}

// overlay makes the overlay from the parsed outputs.
func overlay(p *config.Profile, out stateful.DataOutputs, accountID string) (addons.AppValues, error) {
	var err error
	if err = out.CheckOf(p); err != nil {
		return addons.AppValues{}, err
	}
	if accountID == "" {
		if accountID, err = stateful.AccountFromRepositoryURL(out.ECRRepositoryURLs); err != nil {
			return addons.AppValues{}, fmt.Errorf("the AWS account ID: %w; pass --account-id", err)
		}
	}
	return addons.AppOverlay(p, out, accountID)
}
