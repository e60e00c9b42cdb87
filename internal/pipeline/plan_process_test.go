package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/cmd/factory"
	"github.com/sovd/bootstrap/internal/cmd/plan"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// The live plan of TestUpgrade: `bootstrap plan` as the CLI runs it, in a
// working directory of its own whose bootstrap.yaml sets the staging
// profile's versions, against the environment TestUpgrade made (moto
// through AWS_ENDPOINT_URL, the real terraform for the data tier's plan).
func init() {
	pipeline.LivePlan = func(t *testing.T, tools map[string]string, kubernetesVersion, engineVersion string) string {
		t.Helper()
		work := t.TempDir()
		file := fmt.Sprintf("apiVersion: bootstrap.sovd.io/v1alpha1\nkind: Config\nenvironments:\n  staging:\n    cluster:\n      kubernetesVersion: %q\n    database:\n      engineVersion: %q\n", kubernetesVersion, engineVersion)
		if err := os.WriteFile(filepath.Join(work, "bootstrap.yaml"), []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		f := &factory.Factory{
			IO:         &factory.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
			WorkDir:    work,
			ConfigPath: filepath.Join(work, "bootstrap.yaml"),
			Now:        time.Now,
			Tools:      tools,
		}
		cmd := plan.NewCmd(f, nil)
		cmd.SetArgs([]string{"--env", "staging"})
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("bootstrap plan --env staging against the live environment: %v\n%s\n%s", err, out.String(), errOut.String())
		}
		if !strings.Contains(out.String(), "Mode: live") {
			t.Errorf("the plan did not read the live environment:\n%s", firstLines(out.String(), 5))
		}
		return out.String()
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
