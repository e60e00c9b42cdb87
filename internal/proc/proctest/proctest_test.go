package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/proc"
)

func TestScriptedAnswers(t *testing.T) {
	t.Parallel()
	r := New(t)
	r.Expect(`eksctl get cluster .*`).Stdout(`[{"Name":"x"}]`)
	r.Expect(`helm upgrade --install .*`).Exit(1).Stdout("Error: timed out")
	var out bytes.Buffer
	if err := r.Run(context.Background(), proc.Cmd{Name: "eksctl", Args: []string{"get", "cluster", "--name", "x"}, Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if out.String() != `[{"Name":"x"}]` {
		t.Errorf("stdout = %q", out.String())
	}
	err := r.Run(context.Background(), proc.Cmd{Name: "helm", Args: []string{"upgrade", "--install", "m", "c"}})
	var re *proc.RunError
	if !errors.As(err, &re) || re.ExitCode != 1 || !strings.Contains(strings.Join(re.Tail, ""), "timed out") {
		t.Fatalf("want a RunError with exit 1 and the output as tail, got %v", err)
	}
	if got := strings.Join(r.Lines(), "\n"); got != "eksctl get cluster --name x\nhelm upgrade --install m c" {
		t.Errorf("recorded %q", got)
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func TestUnexpectedAndUnusedFail(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	r := New(rec)
	r.Expect(`terraform apply`)
	if err := r.Run(context.Background(), proc.Cmd{Name: "rm", Args: []string{"-rf", "/"}}); err == nil {
		t.Error("an unexpected command must return an error")
	}
	for _, c := range rec.cleanups {
		c()
	}
	joined := strings.Join(rec.errors, "\n")
	if !strings.Contains(joined, "unexpected command: rm -rf /") || !strings.Contains(joined, "never ran: ^terraform apply$") {
		t.Errorf("want both an unexpected and an unused failure, got:\n%s", joined)
	}
}
