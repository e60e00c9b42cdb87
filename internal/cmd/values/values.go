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
)

// Options are the command's flags.
type Options struct {
	Env    string
	Output factory.Output
	// OutputsFile holds what `terraform output -json` prints for the data
	// tier; "-" is standard input.
	OutputsFile string
	// AccountID is the AWS account; "" reads it from the ECR repository URLs.
	AccountID string
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "values --env ENV --outputs-file FILE",
		Short: "Print the Helm values overlay for the app's chart from the data tier's outputs",
		Long: `Prints the values overlay for the app's chart (infrastructure/helm/sovd-webapp):
config.database.host/port/name/user, config.redis.host/port, the ingress
certificate ARN, the service account's name and IRSA role ARN, and the ECR
repository of each image. Give it after the chart's values-production.yaml:

  terraform -chdir=terraform/stateful output -json > outputs.json
  bootstrap values --env production --outputs-file outputs.json > overlay.yaml
  helm upgrade --install sovd-webapp infrastructure/helm/sovd-webapp \
    -f infrastructure/helm/sovd-webapp/values-production.yaml -f overlay.yaml

Reading the outputs from the Terraform state directly is not built yet: pass
--outputs-file.`,
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
	cmd.Flags().StringVar(&opts.OutputsFile, "outputs-file", "", "the data tier's `terraform output -json`, as a file (- for standard input)")
	cmd.Flags().StringVar(&opts.AccountID, "account-id", "", "AWS account ID (default: read from the ECR repository URLs)")
	factory.AddOutputFlag(cmd, &opts.Output)
	return cmd
}

// ErrNoOutputs is returned without --outputs-file.
var ErrNoOutputs = errors.New("reading the data tier's outputs from the Terraform state is not built yet in this version of bootstrap: " +
	"pass --outputs-file with what `terraform -chdir=terraform/stateful output -json` prints")

func run(f *factory.Factory, opts *Options) error {
	p, err := f.Profile(opts.Env)
	if err != nil {
		return err
	}
	if opts.OutputsFile == "" {
		return ErrNoOutputs
	}
	data, err := readOutputs(f, opts.OutputsFile)
	if err != nil {
		return err
	}
	v, err := Overlay(p, data, opts.AccountID)
	if err != nil {
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

// Overlay makes the overlay of a profile from `terraform output -json` of its
// data tier. Outputs of another environment or region are refused: their
// hosts would point the app at the wrong database.
func Overlay(p *config.Profile, terraformOutputJSON []byte, accountID string) (addons.AppValues, error) {
	raw, err := addons.ParseTerraformOutputJSON(terraformOutputJSON)
	if err != nil {
		return addons.AppValues{}, err
	}
	for name, want := range map[string]string{"environment": p.Name, "region": p.Region} {
		if got, ok := raw[name].(string); ok && got != want {
			return addons.AppValues{}, fmt.Errorf("the outputs are of %s %q, not %q: run terraform output in the data tier of environment %s", name, got, want, p.Name)
		}
	}
	out, err := addons.ParseOutputs(raw)
	if err != nil {
		return addons.AppValues{}, err
	}
	if accountID == "" {
		if accountID, err = addons.AccountFromRepositoryURL(out.ECRRepositoryURLs); err != nil {
			return addons.AppValues{}, fmt.Errorf("the AWS account ID: %w; pass --account-id", err)
		}
	}
	return addons.AppOverlay(p, out, accountID)
}
