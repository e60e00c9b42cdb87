package verify

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
)

// TestMetricsAndHelmRowsOnLocalControlPlane breaks the Helm add-on row, the
// add-on workloads row and the metrics API row on a real control plane
// (API server, controller-manager, scheduler, kwok's node) with the real
// helm.
//
// Helm: every pin is installed as a release of a chart of the pin's name and
// version (one ConfigMap; the row reads only what `helm list -o json` says:
// the release's status and its chart-version), so the row passes;
// then one release at another chart version, one whose upgrade the API
// server refused (helm records that revision as failed) and one uninstalled
// each fail it, naming the release.
//
// Workloads: each chart also makes a Deployment; once rolled out the row
// passes; a Deployment whose new pod no node can take, and the uninstalled
// release, each fail it, naming the release and the Deployment.
//
// Metrics: the control plane serves no metrics.k8s.io, as a cluster
// without metrics-server; then the APIService is registered with a Service
// that has nothing behind it, as metrics-server's chart leaves it while its
// pods are not ready: the aggregator marks it unavailable and answers 503.
// Both fail the row. (The row passing is TestMetricsAPIRow's: kwok's fake
// pods cannot serve an aggregated API.)
func TestMetricsAndHelmRowsOnLocalControlPlane(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	t.Parallel()
	testenv.Tools(t, "bash", "jq") // RolloutScript, run beside the row
	helm := testenv.Helm(t)
	// A control plane of its own: the releases have the pins' fixed names
	// and namespaces, and the metrics APIService is cluster-wide.
	kc := testenv.OwnKube(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Missing(t, "kubectl", err.Error())
	}
	ctx := context.Background()
	var log bytes.Buffer
	k := Kube{Runner: &proc.Exec{Log: &log}, Kubectl: kubectl, Helm: helm, Kubeconfig: kc}
	dir := t.TempDir()

	// chart writes a chart named and versioned as given, holding one
	// ConfigMap of the given name.
	chart := func(name, version, configMap string) string {
		t.Helper()
		d := filepath.Join(dir, name+"-"+version+"-"+strings.ToLower(configMap))
		if err := os.MkdirAll(filepath.Join(d, "templates"), 0o755); err != nil {
			t.Fatal(err)
		}
		files := map[string]string{
			"Chart.yaml": fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\ntype: application\n", name, version),
			"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + configMap +
				"\n  namespace: {{ .Release.Namespace }}\ndata:\n  chart: {{ .Chart.Name }}-{{ .Chart.Version }}\n",
			// A Deployment labelled by no app.kubernetes.io/ key: the
			// workloads row finds it by Helm's release annotation.
			"templates/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\n" +
				"spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {{ .Release.Name }}\n  template:\n    metadata:\n      labels:\n        app: {{ .Release.Name }}\n" +
				"    spec:\n      containers:\n        - name: c\n          image: registry.k8s.io/pause:3.10\n",
		}
		for f, content := range files {
			if err := os.WriteFile(filepath.Join(d, f), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	helmRun := func(wantErr bool, args ...string) {
		t.Helper()
		out, err := exec.Command(helm, append(args, "--kubeconfig", kc)...).CombinedOutput()
		if (err != nil) != wantErr {
			t.Fatalf("helm %s: %v (want error %v)\n%s", strings.Join(args, " "), err, wantErr, out)
		}
	}
	// install puts the release of c at version; its ConfigMap is named
	// after the release, or bad when given (a name the API server refuses).
	install := func(c addons.Chart, version, bad string, wantErr bool) {
		t.Helper()
		name := "verify-" + c.Release
		if bad != "" {
			name = bad
		}
		helmRun(wantErr, "upgrade", "--install", c.Release, chart(c.Chart, version, name), "--namespace", c.Namespace, "--create-namespace")
	}
	expect := func(what string, want Status, detail string) {
		t.Helper()
		c := HelmAddons(ctx, k)
		if c.ID != "helm-addons" || c.Status != want || !strings.Contains(c.Detail, detail) {
			t.Errorf("%s: %+v, want %s with %q", what, c, want, detail)
		}
		if c.Status == Failed && c.Next == "" {
			t.Errorf("%s: a failed row names what to look at", what)
		}
	}

	pins := addons.Charts()
	for _, c := range pins {
		install(c, c.Version, "", false)
	}
	var all []string
	for _, c := range pins {
		all = append(all, c.Release+" "+c.Version)
	}
	expect("every release at its pin", Passed, strings.Join(all, ", "))

	// The workloads: each release's Deployment rolled out (kwok's node runs
	// the pods), then one whose new pod no node can take (Recreate: the old
	// pod goes first), then that undone.
	kubectl1 := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(kubectl, append(args, "--kubeconfig", kc)...).CombinedOutput(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	var made []string
	for _, c := range pins {
		kubectl1("rollout", "status", "deployment/"+c.Release, "--namespace", c.Namespace, "--timeout=90s")
		made = append(made, c.Release+" (1)")
	}
	workloads := func(what string, want Status, detail string) {
		t.Helper()
		var c Check
		for i := 0; i < 60; i++ { // the controllers write status within seconds
			if c = AddonWorkloads(ctx, k); c.Status == want && strings.Contains(c.Detail, detail) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if c.ID != "addon-workloads" || c.Status != want || !strings.Contains(c.Detail, detail) {
			t.Errorf("%s: %+v, want %s with %q", what, c, want, detail)
		}
		if c.Status == Failed && c.Next == "" {
			t.Errorf("%s: a failed row names what to look at", what)
		}
	}
	// RolloutScript, the row as the runbook's bash (real jq, kubectl and
	// bash), must agree: true when the row passes, false when it fails.
	script := func(what string, c addons.Chart, timeout string, wantOK bool, wantOut string) {
		t.Helper()
		out, err := exec.Command("bash", "-c", "set -o pipefail\n"+RolloutScript(c, kc, timeout)).CombinedOutput()
		if (err == nil) != wantOK || !strings.Contains(string(out), wantOut) {
			t.Errorf("%s: RolloutScript of %s: %v (want success %t, output with %q)\n%s", what, c.Release, err, wantOK, wantOut, out)
		}
	}
	workloads("every release's Deployment rolled out", Passed, strings.Join(made, ", "))
	for _, c := range pins {
		script("rolled out", c, "30s", true, "deployment \""+c.Release+"\" successfully rolled out")
	}
	stuck := pins[0]
	kubectl1("patch", "deployment", stuck.Release, "--namespace", stuck.Namespace, "--type=merge", "-p",
		`{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null},"template":{"spec":{"nodeSelector":{"no-such-node":"true"}}}}}`)
	workloads("a Deployment whose pod cannot be scheduled", Failed, stuck.Release+" deployment/"+stuck.Release+": 0 of 1 updated replicas available")
	script("a Deployment whose pod cannot be scheduled", stuck, "3s", false, "timed out")
	kubectl1("patch", "deployment", stuck.Release, "--namespace", stuck.Namespace, "--type=merge", "-p", `{"spec":{"template":{"spec":{"nodeSelector":null}}}}`)
	kubectl1("rollout", "status", "deployment/"+stuck.Release, "--namespace", stuck.Namespace, "--timeout=90s")
	workloads("rolled out again", Passed, strings.Join(made, ", "))

	// One release at another chart version.
	first := pins[0]
	install(first, "0.0.1", "", false)
	expect("a release at another version", Failed, first.Release+" is chart 0.0.1, pinned "+first.Version)
	install(first, first.Version, "", false)
	expect("back at the pin", Passed, strings.Join(all, ", "))

	// An upgrade the API server refuses (a ConfigMap name it rejects): helm
	// records the revision as failed, the release's status is failed.
	last := pins[len(pins)-1]
	install(last, last.Version, "Not_A_DNS_Name", true)
	expect("a failed release", Failed, last.Release+" is failed (revision 2)")
	install(last, last.Version, "", false)
	expect("deployed again", Passed, strings.Join(all, ", "))

	// A release that is not there.
	helmRun(false, "uninstall", pins[1].Release, "--namespace", pins[1].Namespace, "--wait")
	expect("a release missing", Failed, pins[1].Release+" is not installed in namespace "+pins[1].Namespace)
	workloads("a release missing", Failed, pins[1].Release+" made no Deployment, StatefulSet or DaemonSet in namespace "+pins[1].Namespace)
	script("a release missing", pins[1], "3s", false, pins[1].Release+" made no Deployment, StatefulSet or DaemonSet in namespace "+pins[1].Namespace)

	// The metrics API, not served.
	if c := MetricsAPI(ctx, k); c.Status != Failed || c.Next == "" {
		t.Errorf("no metrics APIService: %+v", c)
	}
	// Registered, with nothing behind its Service: unavailable.
	apiService := `{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1beta1.metrics.k8s.io"},` +
		`"spec":{"group":"metrics.k8s.io","version":"v1beta1","groupPriorityMinimum":100,"versionPriority":100,"insecureSkipTLSVerify":true,` +
		`"service":{"name":"metrics-server","namespace":"kube-system","port":443}}}`
	cmd := exec.Command(kubectl, "apply", "-f", "-", "--kubeconfig", kc)
	cmd.Stdin = strings.NewReader(apiService)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("applying the APIService: %v\n%s", err, out)
	}
	var available string
	for i := 0; i < 50; i++ {
		out, _ := exec.Command(kubectl, "get", "apiservice", "v1beta1.metrics.k8s.io", "-o", `jsonpath={.status.conditions[?(@.type=="Available")].status}`, "--kubeconfig", kc).Output()
		if available = string(out); available != "" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if available != "False" {
		t.Errorf("the APIService with nothing behind it is Available=%q, want False", available)
	}
	if c := MetricsAPI(ctx, k); c.Status != Failed || c.Next == "" {
		t.Errorf("metrics APIService unavailable: %+v", c)
	}
	if t.Failed() {
		t.Logf("run log:\n%s", log.String())
	}
}
