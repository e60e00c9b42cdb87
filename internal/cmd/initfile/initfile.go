// Package initfile is `bootstrap init`: it writes bootstrap.yaml with the
// built-in profiles spelled out, for editing.
package initfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/config"
)

// Options are init's flags.
type Options struct {
	Path  string
	Force bool
}

// NewCmd returns the command; runF replaces its run in tests.
func NewCmd(f *factory.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write bootstrap.yaml with the built-in profiles, for editing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(f, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Path, "file", "f", config.DefaultPath, "where to write")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite an existing file")
	return cmd
}

func run(f *factory.Factory, opts *Options) error {
	data, err := config.Marshal(config.BuiltinFile())
	if err != nil {
		return err
	}
	header := "# bootstrap configuration: one profile per environment.\n" +
		"# Every key is checked; `bootstrap plan --env <name>` shows the result.\n"
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if opts.Force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	file, err := os.OpenFile(opts.Path, flag, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; edit it, or pass --force to overwrite it", opts.Path)
	}
	if err != nil {
		return err
	}
	if _, err := file.WriteString(header + ProtectionComments(DomainComments(string(data)))); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "wrote %s\n", opts.Path)
	return nil
}

// DomainComments adds, under each profile's app:, the domain keys it leaves
// unset, commented out: app.domain (the app's host name; the certificate,
// the ingress host and the DNS record follow from it) and app.hostedZoneID
// (optional: the public zone is found by name in Route53 when it is not
// given).
func DomainComments(yaml string) string {
	lines := strings.SplitAfter(yaml, "\n")
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		if strings.TrimSpace(l) != "app:" {
			continue
		}
		indent := strings.Repeat(" ", len(l)-len(strings.TrimLeft(l, " "))+2)
		block := appBlock(lines[i+1:], indent)
		if !strings.Contains(block, indent+"domain:") {
			b.WriteString(indent + "# domain: sovd.example.com  # the app's host name: ACM certificate, ingress host, DNS record\n")
		}
		if !strings.Contains(block, indent+"hostedZoneID:") {
			b.WriteString(indent + "# hostedZoneID: Z0123456789ABCDEFGHIJ  # optional: the public Route53 zone of domain, found by name when omitted\n")
		}
	}
	return b.String()
}

// ProtectionComments explains, above a profile's protection: block that turns
// every part off (the built-in staging's), that the keys are what keeps it
// unprotected: an environment a file names starts protected whatever its name
// (config.FileBase), so deleting these lines protects it. The test is on the
// values written, not on the environment's name.
func ProtectionComments(yaml string) string {
	lines := strings.SplitAfter(yaml, "\n")
	var b strings.Builder
	for i, l := range lines {
		if strings.TrimSpace(l) == "protection:" {
			indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
			block := appBlock(lines[i+1:], indent+"  ")
			if strings.Count(block, ": false\n") == 3 {
				b.WriteString(indent + "# Protection off, by these keys alone: an environment in this file is protected\n")
				b.WriteString(indent + "# unless its own keys turn it off, whatever its name. Delete them (and\n")
				b.WriteString(indent + "# secrets.recoveryWindowDays: 0) to protect this environment.\n")
			}
		}
		b.WriteString(l)
	}
	return b.String()
}

// appBlock is the lines of the mapping that starts after app:.
func appBlock(lines []string, indent string) string {
	var b strings.Builder
	for _, l := range lines {
		if !strings.HasPrefix(l, indent) {
			break
		}
		b.WriteString(l)
	}
	return b.String()
}
