package runbook_test

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/app"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/cost"
	"github.com/sovd/bootstrap/internal/golden"
)

// docPath is the infrastructure runbook, from this package's directory.
const docPath = "../../../docs/runbooks/infrastructure_setup.md"

// blockRE finds a generated block: the command after "BEGIN", its output,
// and the verb the END marker names.
var blockRE = regexp.MustCompile(`(?s)<!-- BEGIN bootstrap ([^>\n]*?) -->\n(.*?)<!-- END bootstrap (\S+) -->`)

// requiredBlocks must be in the document: removing one fails the test rather
// than quietly leaving the document unchecked.
var requiredBlocks = []string{"runbook --env production", "cost --env staging", "cost --env production", "verify --commands --env production"}

// TestInfrastructureSetupDoc runs every `bootstrap ...` command the document
// embeds, as the CLI runs it (built-in profiles, no AWS), and fails when the
// embedded output differs from what the command prints now. With -update it
// rewrites the blocks: go test ./internal/cmd/runbook -update.
//
// The clock is the day internal/cost's prices were read, the date the
// document states, so the document does not change by itself as Kubernetes
// versions age; a new price table moves it.
func TestInfrastructureSetupDoc(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	on, err := time.Parse(time.DateOnly, cost.PricesRead)
	if err != nil {
		t.Fatal(err)
	}

	found := map[string]bool{}
	var failed bool
	updated := blockRE.ReplaceAllFunc(doc, func(block []byte) []byte {
		m := blockRE.FindSubmatch(block)
		command, embedded, endVerb := string(m[1]), string(m[2]), string(m[3])
		args := strings.Fields(command)
		found[strings.Join(args, " ")] = true
		if len(args) == 0 || args[0] != endVerb {
			t.Errorf("block %q ends with the marker of %q", command, endVerb)
			failed = true
			return block
		}
		want := embed(args[0], runCLI(t, on, args))
		if embedded != want {
			if !golden.Updating() {
				t.Errorf("the output of `bootstrap %s` in %s is out of date (run go test ./internal/cmd/runbook -update and review the diff):\n--- now\n%s\n--- in the document\n%s", command, docPath, want, embedded)
			}
			failed = true
		}
		return []byte("<!-- BEGIN bootstrap " + command + " -->\n" + want + "<!-- END bootstrap " + endVerb + " -->")
	})
	for _, want := range requiredBlocks {
		if !found[want] {
			t.Errorf("%s has no generated block for `bootstrap %s` (<!-- BEGIN bootstrap %s --> ... <!-- END bootstrap %s -->)", docPath, want, want, strings.Fields(want)[0])
		}
	}
	if golden.Updating() && failed && !bytes.Equal(updated, doc) {
		if err := os.WriteFile(docPath, updated, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// embed is how a command's output sits in markdown: the runbook is markdown
// itself, anything else goes in a text block.
func embed(verb, out string) string {
	if verb == "runbook" || verb == "verify" {
		return out
	}
	return "```text\n" + out + "```\n"
}

// runCLI runs one bootstrap command line through the real command tree,
// offline, with the given clock.
func runCLI(t *testing.T, on time.Time, args []string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &factory.Factory{
		IO:  &factory.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Now: func() time.Time { return on },
	}
	if code := app.Run(context.Background(), f, args); code != app.ExitOK {
		t.Fatalf("bootstrap %s: exit code %d\n%s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}
