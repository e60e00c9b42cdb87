package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/app"
	"github.com/sovd/bootstrap/internal/cmd/factory"
	cmdverify "github.com/sovd/bootstrap/internal/cmd/verify"
	"github.com/sovd/bootstrap/internal/pipeline"
	"github.com/sovd/bootstrap/internal/proc/proctest"
	"github.com/sovd/bootstrap/internal/verify"
)

// The command's flags reach its options; a bad --output and a missing
// --env are usage errors that run nothing.
func TestFlags(t *testing.T) {
	t.Parallel()
	var got *cmdverify.Options
	cmd := cmdverify.NewCmd(&factory.Factory{}, func(_ context.Context, o *cmdverify.Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--env", "staging", "-o", "json", "--kubeconfig", "/tmp/kc", "--commands"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Env != "staging" || !got.Output.JSON() || got.Kubeconfig != "/tmp/kc" || !got.Commands {
		t.Errorf("parsed %+v", got)
	}
	for _, args := range [][]string{{"verify", "--env", "staging", "--output", "yaml"}, {"verify"}} {
		r := run(t, nil, args...)
		if r.exit != app.ExitFailed || r.runner.Calls != nil {
			t.Errorf("bootstrap %q: exit %d, ran %v; want a usage error that runs nothing", args, r.exit, r.runner.Lines())
		}
	}
}

type result struct {
	exit           int
	stdout, stderr string
	runner         *proctest.Runner
}

// run is `bootstrap <args>` through the root command (app.Run: the exit
// code as the process returns it), with kubectl and helm answered by
// proctest as script says, and an AWS handle that is never called: with the
// API server down, no check reads AWS.
func run(t *testing.T, script func(*proctest.Runner), args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	r := proctest.New(t)
	if script != nil {
		script(r)
	}
	f := &factory.Factory{
		IO:      &factory.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Now:     func() time.Time { return time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC) },
		WorkDir: t.TempDir(),
		Runner:  r,
		Tools:   map[string]string{"kubectl": "kubectl", "helm": "helm"},
		AWS: func(_ context.Context, region string) (*pipeline.AWS, error) {
			return &pipeline.AWS{Region: region}, nil
		},
	}
	code := app.Run(context.Background(), f, args)
	return result{exit: code, stdout: out.String(), stderr: errOut.String(), runner: r}
}

// apiServerDown is kubectl's answer when the cluster's endpoint refuses.
func apiServerDown(r *proctest.Runner) {
	r.Expect(`kubectl get --raw /readyz --kubeconfig /kc`).
		Stdout("The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?").Exit(1)
}

// The API server not answering: its row fails with what to look at, the
// rows that need it are skipped with the reason, every row is printed, and
// the command exits 1 with an error that counts the failures.
func TestAPIServerDownTable(t *testing.T) {
	t.Parallel()
	r := run(t, apiServerDown, "verify", "--env", "staging", "--kubeconfig", "/kc")
	if r.exit != app.ExitFailed {
		t.Errorf("exit %d, want %d", r.exit, app.ExitFailed)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	want := []struct{ name, status string }{
		{"The API server answers", "failed"},
		{"", ""}, // look at: ...
		{"Every node is Ready", "skipped"},
		{"The EKS add-ons are healthy", "skipped"},
		{"The Helm add-ons are deployed at their pinned versions", "skipped"},
		{"The Helm add-ons' workloads are available", "skipped"},
	}
	if len(lines) != len(want)+1 || !strings.HasPrefix(lines[0], "CHECK") || !strings.Contains(lines[0], "STATUS") || !strings.Contains(lines[0], "DETAIL") {
		t.Fatalf("table:\n%s", r.stdout)
	}
	for i, w := range want {
		l := lines[i+1]
		if w.name == "" {
			if !strings.Contains(l, "look at: the kubeconfig") {
				t.Errorf("line %d: %q, want what to look at under the failed row", i+1, l)
			}
			continue
		}
		if !strings.HasPrefix(l, w.name) || !strings.Contains(l, w.status) {
			t.Errorf("line %d: %q, want %s %s", i+1, l, w.name, w.status)
		}
		if w.status == "skipped" && !strings.Contains(l, "the API server does not answer") {
			t.Errorf("line %d: %q, want the reason it was skipped", i+1, l)
		}
	}
	if !strings.Contains(r.stderr, "environment staging: 1 of 5 checks failed") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// -o json is the report as data: environment and the checks, each with
// id, name, status and, where there is one, detail and next; the exit code
// is the table's.
func TestJSONShape(t *testing.T) {
	t.Parallel()
	r := run(t, apiServerDown, "verify", "--env", "staging", "--kubeconfig", "/kc", "-o", "json")
	if r.exit != app.ExitFailed {
		t.Errorf("exit %d, want %d", r.exit, app.ExitFailed)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if got := keys(raw); !reflect.DeepEqual(got, []string{"checks", "environment"}) {
		t.Errorf("top-level keys %v", got)
	}
	var checks []map[string]any
	if err := json.Unmarshal(raw["checks"], &checks); err != nil {
		t.Fatal(err)
	}
	var env string
	_ = json.Unmarshal(raw["environment"], &env)
	if env != "staging" || len(checks) != 5 {
		t.Fatalf("environment %q, %d checks:\n%s", env, len(checks), r.stdout)
	}
	wantKeys := map[string][]string{
		"api-server":      {"detail", "id", "name", "next", "status"},
		"nodes-ready":     {"detail", "id", "name", "status"},
		"eks-addons":      {"detail", "id", "name", "status"},
		"helm-addons":     {"detail", "id", "name", "status"},
		"addon-workloads": {"detail", "id", "name", "status"},
	}
	for i, c := range checks {
		id, _ := c["id"].(string)
		if got := keys(c); !reflect.DeepEqual(got, wantKeys[id]) {
			t.Errorf("check %d (%s) has keys %v, want %v", i, id, got, wantKeys[id])
		}
		status := c["status"]
		if (id == "api-server") != (status == string(verify.Failed)) || (id != "api-server" && status != string(verify.Skipped)) {
			t.Errorf("check %s is %v", id, status)
		}
	}
	if strings.Contains(r.stdout, "CHECK") {
		t.Errorf("-o json printed the table too")
	}
}

// --commands prints the checks as shell commands and runs nothing.
func TestCommandsRunNothing(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "verify", "--env", "staging", "--commands")
	if r.exit != app.ExitOK || r.runner.Calls != nil || !strings.Contains(r.stdout, "kubectl get --raw /readyz") {
		t.Errorf("exit %d, ran %v, stdout:\n%s", r.exit, r.runner.Lines(), r.stdout)
	}
}

// The command fails exactly when a check failed: passed and skipped rows
// make no error, and the table shows what to look at only under a failed
// row.
func TestReportErr(t *testing.T) {
	t.Parallel()
	ok := cmdverify.Report{Environment: "production", Checks: []verify.Check{
		{ID: "api-server", Name: "The API server answers", Status: verify.Passed, Detail: "/readyz ok"},
		{ID: "dns", Name: "The domain resolves to the load balancer", Status: verify.Skipped, Detail: "no Ingress"},
	}}
	if err := ok.Err(); err != nil {
		t.Errorf("passed and skipped rows: %v", err)
	}
	bad := ok
	bad.Checks = append(slices.Clone(ok.Checks), verify.Check{ID: "metrics-api", Name: "The metrics API answers (kubectl top nodes)", Status: verify.Failed,
		Detail: "no node metrics yet", Next: "kubectl get apiservice v1beta1.metrics.k8s.io"})
	if err := bad.Err(); err == nil || !strings.Contains(err.Error(), "1 of 3 checks failed") {
		t.Errorf("a failed row: %v", err)
	}
	var out bytes.Buffer
	if err := cmdverify.Write(&out, bad); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "look at:") != 1 || !strings.Contains(out.String(), "look at: kubectl get apiservice v1beta1.metrics.k8s.io") {
		t.Errorf("table:\n%s", out.String())
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
