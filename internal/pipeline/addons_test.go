package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/sovd/bootstrap/terraform/stateful"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/golden"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/proc/proctest"
	"github.com/sovd/bootstrap/internal/shell"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/test/charts"
)

// dataTier is what the data tier's outputs hold once read into State.Data
// (values invented, names as terraform/stateful/outputs.tf declares them).
func dataTier() *stateful.DataOutputs {
	out, err := stateful.ParseOutputs(map[string]any{
		"db_host":                   "sovd-production.c9akciq32xyz.us-east-1.rds.amazonaws.com",
		"db_port":                   float64(5432),
		"db_name":                   "sovd_production",
		"db_username":               "sovd_admin",
		"db_master_user_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-5a9c0e2f-AbCdEf",
		"redis_host":                "master.sovd-production.abc123.use1.cache.amazonaws.com",
		"redis_port":                float64(6379),
		"certificate_arn":           "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c",
		"ecr_repository_urls": map[string]any{
			"sovd-backend":  "123456789012.dkr.ecr.us-east-1.amazonaws.com/sovd-backend",
			"sovd-frontend": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sovd-frontend",
		},
	})
	if err != nil {
		panic(err)
	}
	return &out
}

// addonState is a production State with the live environment known, its run
// directory in a temporary directory.
func addonState(t *testing.T, r proc.Runner) *State {
	t.Helper()
	return &State{
		Profile: config.Builtin("production"),
		Dir:     filepath.Join(t.TempDir(), ".bootstrap", "production"),
		Services: Services{
			Runner: r,
			Tools:  map[string]string{},
		},
		Facts: Facts{
			AccountID:    "123456789012",
			HostedZoneID: "Z0123456789ABCDEFGHIJ",
			Network:      &Network{VPCID: "vpc-0123456789abcdef0"},
			Data:         dataTier(),
		},
	}
}

// transcript is the commands run, one a line, with the run directory shown
// as <run-dir> so that the golden file is the same on every machine.
func transcript(st *State, r *proctest.Runner) []byte {
	var b strings.Builder
	for _, l := range r.Lines() {
		b.WriteString(strings.ReplaceAll(l, st.Dir, "<run-dir>"))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func valuesJSON(t *testing.T, c addons.Addon, st *State) string {
	t.Helper()
	v := c.Values(st.Profile, addons.Live{AccountID: st.AccountID, VPCID: st.Network.VPCID, HostedZoneID: st.HostedZoneID})
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func deployed(c addons.Addon, revision string) string {
	return `[{"name":"` + c.Release + `","namespace":"` + c.Namespace + `","revision":"` + revision +
		`","status":"deployed","chart":"` + c.NameVersion() + `","app_version":"` + c.AppVersion + `"}]`
}

// A first run on AWS: repositories, the controller's CRDs from the pulled
// chart, each release installed, then the manifests and the overlay.
func TestAddonsFirstRunTranscript(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := addonState(t, r)
	r.Expect(`eksctl utils write-kubeconfig .*`)
	for range addons.All {
		r.Expect(`helm repo add .*`)
	}
	var repos []string
	for _, c := range addons.All {
		repos = append(repos, c.RepoName)
	}
	r.Expect(`helm repo update ` + strings.Join(repos, " ")) // bootstrap-metrics-server bootstrap-eks bootstrap-external-secrets
	r.Expect(`helm pull bootstrap-eks/aws-load-balancer-controller .*`).Do(func(c proc.Cmd) error {
		// helm pull --untar refuses an existing directory: it must not be there.
		if _, err := os.Stat(c.Args[len(c.Args)-1]); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("untar directory exists before helm pull: %v", err)
		}
		return nil
	})
	r.Expect(`kubectl apply .*/charts/aws-load-balancer-controller-3.5.0/aws-load-balancer-controller/crds .*`)
	for _, c := range addons.All {
		r.Expect(listRE(c)).Stdout("[]")
		if c.NeedsAppNamespace {
			// The app's namespace exists before the chart puts objects in it.
			r.Expect(`kubectl apply .* --filename \S+/manifests/app-namespace.yaml .*`).Do(func(cmd proc.Cmd) error {
				got, err := os.ReadFile(cmd.Args[indexOf(cmd.Args, "--filename")+1])
				if err != nil {
					return err
				}
				if !bytes.Contains(got, []byte("kind: Namespace")) || !bytes.Contains(got, []byte("name: "+st.Profile.App.Namespace)) {
					t.Errorf("app namespace file:\n%s", got)
				}
				return nil
			})
		}
		r.Expect(`helm upgrade --install ` + c.Release + ` .*`).Do(func(cmd proc.Cmd) error {
			// The values file is written before helm reads it.
			path := cmd.Args[indexOf(cmd.Args, "--values")+1]
			got, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			want, _ := addons.ValuesYAML(c, st.Profile, addons.Live{AccountID: st.AccountID, VPCID: st.Network.VPCID, HostedZoneID: st.HostedZoneID})
			if !bytes.Equal(got, want) {
				t.Errorf("%s: values file differs from the rendered values", c.Release)
			}
			return nil
		})
	}
	// The app's database role: no version yet, so the role Job runs; the
	// secrets go on standard input, never in argv.
	db := newMemDBRoleAPI()
	noSecret := func(c proc.Cmd) error {
		for _, a := range c.Args {
			if strings.Contains(a, db.masterPW) {
				t.Errorf("the master password is in argv: %v", c.Args)
			}
		}
		if c.Stdin != nil {
			b, _ := io.ReadAll(c.Stdin)
			if bytes.Contains(b, []byte("kind: Secret")) && !bytes.Contains(b, []byte(db.masterPW)) {
				t.Errorf("the Job's Secret lacks the master password")
			}
		}
		return nil
	}
	r.Expect(`kubectl --kubeconfig .* delete job app-db-roles-\S+ -n bootstrap-db --ignore-not-found --wait=true`)
	r.Expect(`kubectl --kubeconfig .* apply --server-side --field-manager bootstrap -f -`).Do(noSecret)
	r.Expect(`kubectl --kubeconfig .* get job app-db-roles-\S+ -n bootstrap-db -o 'jsonpath=\{\.metadata\.uid\}'`).Stdout("0b0e4c1a-uid")
	r.Expect(`kubectl --kubeconfig .* apply --server-side --field-manager bootstrap -f -`).Do(noSecret)
	r.Expect(`kubectl --kubeconfig .* get job app-db-roles-\S+ -n bootstrap-db -o 'jsonpath=.*`).Stdout("1,")
	r.Expect(`kubectl --kubeconfig .* delete job,secret app-db-roles-\S+ -n bootstrap-db --ignore-not-found --cascade=foreground --wait=false`)
	r.Expect(`kubectl apply .* --filename <?.*manifests/external-secrets.yaml .*`).Do(func(cmd proc.Cmd) error {
		got, err := os.ReadFile(cmd.Args[indexOf(cmd.Args, "--filename")+1])
		if err != nil {
			return err
		}
		if !bytes.Contains(got, []byte("kind: ClusterSecretStore")) || bytes.Contains(got, []byte("rds!db-5a9c0e2f-AbCdEf")) {
			t.Errorf("manifests (a store, and no reference to the master secret):\n%s", got)
		}
		return nil
	})
	if err := Run(context.Background(), st, "bootstrap addons --env production", AddonSteps(AddonOptions{EKS: noEKSExtras(), DB: db})); err != nil {
		t.Fatal(err)
	}
	// The Job's name carries the new version's random ID.
	golden.Assert(t, "addons-first-run.txt", regexp.MustCompile(`app-db-roles-[0-9a-f]{8}`).ReplaceAll(transcript(st, r), []byte("app-db-roles-<version>")))
	overlay, err := os.ReadFile(st.Path(AppValuesFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(overlay, []byte("host: sovd-production.c9akciq32xyz.us-east-1.rds.amazonaws.com")) {
		t.Errorf("overlay:\n%s", overlay)
	}
}

// listRE matches the helm list of a chart's release.
func listRE(c addons.Addon) string {
	return `helm list --namespace ` + c.Namespace + ` --filter '\^` + c.Release + `\$' .*`
}

func indexOf(args []string, s string) int {
	for i, a := range args {
		if a == s {
			return i
		}
	}
	return -1
}

// A re-run finds every release at its pin with its values and upgrades
// nothing.
func TestAddonsRerunUpgradesNothing(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := addonState(t, r)
	src := addons.Source{Local: map[string]string{}}
	for _, c := range addons.All {
		src.Local[c.Release] = "/charts/" + c.Release
	}
	// The app's database role is current: no Job.
	db := newMemDBRoleAPI()
	out, err := dataOutputs(st, false)
	if err != nil {
		t.Fatal(err)
	}
	cur := wantSecret(st, out)
	cur.Username, cur.Password = "sovd_app_1", "current0password"
	db.versions["v1"] = &cloud.LabelledVersion{ID: "v1", Labels: []string{"AWSCURRENT"}, Created: time.Now(), Value: cur.JSON()}
	o := AddonOptions{Kubeconfig: "/kube/config", Charts: src, EKS: noEKSExtras(), DB: db}
	r.Expect(`kubectl apply .* --filename /charts/aws-load-balancer-controller/crds --kubeconfig /kube/config`)
	for _, c := range addons.All {
		r.Expect(listRE(c)).Stdout(deployed(c, "1"))
		r.Expect(`helm get values ` + c.Release + ` .*`).Stdout(valuesJSON(t, c, st))
	}
	r.Expect(`kubectl apply .*manifests/external-secrets.yaml .*`)
	var progress bytes.Buffer
	st.Progress = NewProgress(&progress, false, false)
	if err := Run(context.Background(), st, "bootstrap addons --env production", AddonSteps(o)); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "addons-rerun.txt", transcript(st, r))
	if !strings.Contains(progress.String(), "metrics-server is already metrics-server-3.13.1 with these values (revision 1): nothing to do") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

// Changed values, an older chart version, a failed release: each is
// upgraded. A release helm left pending stops the run with the command that
// clears it.
func TestInstallReleaseDecides(t *testing.T) {
	t.Parallel()
	c := addons.MetricsServer
	tests := []struct {
		name    string
		list    string
		values  string // "" when helm get values must not run
		upgrade bool
		errs    string
	}{
		{"other values", deployed(c, "3"), `{"replicas":1}`, true, ""},
		{"older chart", strings.Replace(deployed(c, "3"), c.NameVersion(), "metrics-server-3.12.2", 1), "", true, ""},
		{"failed", strings.Replace(deployed(c, "2"), `"deployed"`, `"failed"`, 1), "", true, ""},
		{"pending", strings.Replace(deployed(c, "2"), `"deployed"`, `"pending-upgrade"`, 1), "", false, "helm rollback metrics-server --namespace kube-system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := proctest.New(t)
			st := addonState(t, r)
			r.Expect(`helm list .*`).Stdout(tt.list)
			if tt.values != "" {
				r.Expect(`helm get values .*`).Stdout(tt.values)
			}
			if tt.upgrade {
				r.Expect(`helm upgrade --install metrics-server .*`)
			}
			err := InstallRelease{Options: AddonOptions{Kubeconfig: "k"}, Chart: c}.Run(context.Background(), st)
			if tt.errs == "" && err != nil {
				t.Fatal(err)
			}
			if tt.errs != "" && (err == nil || !strings.Contains(err.Error(), tt.errs)) {
				t.Fatalf("err = %v, want it to say %q", err, tt.errs)
			}
		})
	}
}

// Without what the live environment knows, a step says what is missing and
// runs nothing.
func TestAddonStepsNeedTheLiveEnvironment(t *testing.T) {
	t.Parallel()
	r := proctest.New(t) // nothing may run
	st := addonState(t, r)
	st.AccountID, st.Network, st.Data = "", nil, nil
	o := AddonOptions{Kubeconfig: "k"}
	err := InstallRelease{Options: o, Chart: addons.LoadBalancerController}.Run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "account ID is not known") || !strings.Contains(err.Error(), "VPC is not known") {
		t.Errorf("load balancer controller without account and VPC: %v", err)
	}
	err = ApplySecretManifests{Options: o}.Run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "bootstrap data --env production") {
		t.Errorf("manifests without the data tier: %v", err)
	}
	if err := (WriteAppValues{}).Run(context.Background(), st); err == nil {
		t.Error("overlay written without the data tier")
	}
}

func TestAddonTeardownTranscript(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := addonState(t, r)
	st.Data = nil // teardown needs only names
	r.Expect(`eksctl utils write-kubeconfig .*`)
	r.Expect(listRE(addons.ExternalSecrets)).Stdout(deployed(addons.ExternalSecrets, "1"))
	r.Expect(`kubectl delete --filename .*manifests/external-secrets.yaml --ignore-not-found .*`)
	for i := len(addons.All) - 1; i >= 0; i-- {
		c := addons.All[i]
		r.Expect(listRE(c)).Stdout(deployed(c, "1"))
		r.Expect(`helm uninstall ` + c.Release + ` .*`)
		if c.Namespace != "kube-system" {
			r.Expect(`kubectl delete namespace ` + c.Namespace + ` .*`) // external-secrets
		}
	}
	r.Expect(`helm repo add bootstrap-eks .*`)
	r.Expect(`helm repo update bootstrap-eks`)
	r.Expect(`helm pull bootstrap-eks/aws-load-balancer-controller .*`)
	r.Expect(`kubectl delete --filename .*/aws-load-balancer-controller/crds .*`)
	if err := Run(context.Background(), st, "bootstrap teardown --env production", AddonTeardownSteps(AddonOptions{})); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "addons-teardown.txt", transcript(st, r))
}

// Teardown after External Secrets is gone deletes only the namespace: the
// store and the ExternalSecret went with the CRDs.
func TestDeleteSecretManifestsWithoutExternalSecrets(t *testing.T) {
	t.Parallel()
	r := proctest.New(t)
	st := addonState(t, r)
	r.Expect(`helm list .*`).Stdout("[]")
	r.Expect(`kubectl delete namespace production --ignore-not-found --wait --timeout 10m --kubeconfig k`)
	if err := (DeleteSecretManifests{Options: AddonOptions{Kubeconfig: "k"}}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

// Offline, every add-on step describes itself with placeholders for what
// only the live environment knows.
func TestAddonStepsDescribeOffline(t *testing.T) {
	t.Parallel()
	st := &State{Profile: config.Builtin("staging"), Dir: ".bootstrap/staging", Services: Services{Runner: proctest.New(t)}}
	descs, err := Describe(context.Background(), st, AddonSteps(AddonOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, d := range descs {
		b.WriteString("## " + d.Step + "\n")
		for _, a := range d.Actions {
			for _, f := range a.Files {
				b.WriteString("file " + f.Path + ":\n" + f.Content)
			}
			b.WriteString("$ " + shell.Quote(append([]string{a.Tool}, a.Args...)) + "\n")
		}
	}
	got := b.String()
	for _, want := range []string{"vpcId: <vpc-id>", "arn:aws:iam::<account-id>:role/sovd-staging-external-secrets", "host: <db-host>"} {
		if !strings.Contains(got, want) {
			t.Errorf("description lacks %q", want)
		}
	}
	golden.Assert(t, "addons-describe-staging.txt", []byte(got))
}

// --- Against a real control plane -------------------------------------------

// kube runs kubectl against the local control plane and returns its output.
type kube struct {
	t          *testing.T
	kubectl    string
	kubeconfig string
}

func (k kube) run(stdin string, args ...string) (string, error) {
	cmd := exec.Command(k.kubectl, append(args, "--kubeconfig", k.kubeconfig)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (k kube) must(args ...string) string {
	k.t.Helper()
	out, err := k.run("", args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// releases maps each pinned release to "status/revision", or "" when absent.
func releases(t *testing.T, helm, kubeconfig string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range addons.All {
		b, err := exec.Command(helm, addons.List(c.Chart, kubeconfig)...).Output()
		if err != nil {
			t.Fatalf("helm list: %v", err)
		}
		r, err := addons.ParseList(c.Chart, b)
		if err != nil {
			t.Fatal(err)
		}
		out[c.Release] = ""
		if r != nil {
			out[c.Release] = r.Status + "/" + r.Revision
		}
	}
	return out
}

// TestAddonsOnLocalControlPlane installs the pinned releases from charts of
// the upstream shape with the real helm on a real API server: a chart that
// fails in the middle leaves the releases before it deployed and a re-run
// completes; another re-run changes nothing; the ClusterSecretStore and the
// ExternalSecret pass External Secrets' real CRD schema and its webhook;
// teardown leaves nothing, twice.
func TestAddonsOnLocalControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("installs charts on the local control plane")
	}
	if testenv.OwnProcess(t) {
		return
	}
	helm := testenv.Helm(t)
	// A control plane of its own: the releases have fixed names in
	// kube-system, their webhooks (failurePolicy Fail) intercept every
	// Service created while they are installed, and the test asserts the
	// releases the cluster holds.
	kubeconfig := testenv.OwnKube(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Missing(t, "kubectl", "not on PATH")
	}
	k := kube{t: t, kubectl: kubectl, kubeconfig: kubeconfig}

	hook := charts.StartWebhook(t)
	good, err := charts.Build(filepath.Join(t.TempDir(), "good"), charts.Options{WebhookURL: hook.URL, WebhookCA: hook.CA})
	if err != nil {
		t.Fatal(err)
	}
	broken, err := charts.Build(filepath.Join(t.TempDir(), "broken"), charts.Options{WebhookURL: hook.URL, WebhookCA: hook.CA, Broken: addons.ExternalSecrets.Release})
	if err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	st := addonState(t, &proc.Exec{Log: &log})
	st.Tools = map[string]string{"helm": helm, "kubectl": kubectl}
	var progress bytes.Buffer
	st.Progress = NewProgress(&progress, false, false)
	// The role Job runs on this control plane (kwok completes a Job's pod,
	// its pod-complete stage); the secrets' versions are in memory.
	db := newMemDBRoleAPI()
	opts := func(src addons.Source) AddonOptions {
		return AddonOptions{Kubeconfig: kubeconfig, Charts: src, Timeout: 15 * time.Second, EKS: noEKSExtras(), DB: db}
	}
	run := func(name string, steps []Step) error {
		start := time.Now()
		log.Reset()
		err := Run(context.Background(), st, "bootstrap addons --env production", steps)
		t.Logf("%s: %s", name, time.Since(start).Round(100*time.Millisecond))
		if err != nil {
			t.Logf("%s failed: %v\nrun log tail:\n%s", name, err, lastLines(log.String(), 30))
		}
		return err
	}
	// Our webhooks have failurePolicy Fail: none may outlive the handler it
	// calls, or every Service created on the shared control plane fails.
	// Whatever happens, leave the control plane as it was; and clear what a
	// killed earlier run left before starting.
	dropWebhooks := func() {
		for _, obj := range []string{"mutatingwebhookconfiguration/aws-load-balancer-webhook", "validatingwebhookconfiguration/aws-load-balancer-webhook",
			"validatingwebhookconfiguration/secretstore-validate", "validatingwebhookconfiguration/externalsecret-validate"} {
			_, _ = k.run("", "delete", obj, "--ignore-not-found")
		}
	}
	clear := func(name string) {
		if err := run(name, AddonTeardownSteps(opts(good))); err != nil {
			dropWebhooks()
			if err := run(name+", without webhooks", AddonTeardownSteps(opts(good))); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	t.Cleanup(func() { clear("cleanup") })
	if got := releases(t, helm, kubeconfig); strings.Join(slices.Collect(maps.Values(got)), "") != "" {
		t.Logf("releases left by an earlier run: %v; removing them", got)
		dropWebhooks()
		clear("clearing an earlier run")
	}

	// 1. External Secrets' chart cannot become ready: helm --atomic removes
	// it, the two releases installed before it stay deployed.
	err = run("first run, broken external-secrets", AddonSteps(opts(broken)))
	var se *StepError
	if !errors.As(err, &se) || se.Step != "Installing external-secrets 2.9.0 with Helm" {
		t.Fatalf("want the external-secrets step to fail, got %v", err)
	}
	// The add-ons before External Secrets deployed, it and those after it not.
	want := map[string]string{}
	failed := false
	for _, c := range addons.All {
		failed = failed || c.Release == addons.ExternalSecrets.Release
		want[c.Release] = "deployed/1"
		if failed {
			want[c.Release] = ""
		}
	}
	if got := releases(t, helm, kubeconfig); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the failed run: %v, want %v", got, want)
	}

	// 2. The re-run completes, and upgrades nothing that was right.
	if err := run("second run", AddonSteps(opts(good))); err != nil {
		t.Fatal(err)
	}
	for r := range want {
		want[r] = "deployed/1"
	}
	if got := releases(t, helm, kubeconfig); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the re-run: %v, want %v", got, want)
	}
	// The role Job ran and its Secret, which held the master password, is
	// gone; the database secret's new version is AWSCURRENT.
	if v, _ := db.VersionsLabelled(context.Background(), "", "AWSCURRENT", "AWSPENDING"); v["AWSCURRENT"].ID == "" || v["AWSPENDING"].ID != "" {
		t.Errorf("database secret after the role Job: %+v", v)
	}
	if got := k.must("get", "secrets", "-n", addons.RoleJobNamespace, "-l", "app.kubernetes.io/managed-by=bootstrap", "-o", "name"); got != "" {
		t.Errorf("the role Job's Secret outlived it: %s", got)
	}
	for _, obj := range []string{"deployment/aws-load-balancer-controller", "deployment/metrics-server"} {
		if got := k.must("get", obj, "-n", "kube-system", "-o", "jsonpath={.status.readyReplicas}"); got != "2" {
			t.Errorf("%s ready replicas = %q, want 2", obj, got)
		}
	}
	// Reloader: two replicas, and it may read Secrets in the app's namespace
	// only (a Role there, no ClusterRole), as its ServiceAccount.
	if got := k.must("get", "deployment/reloader-reloader", "-n", addons.Reloader.Namespace, "-o", "jsonpath={.status.readyReplicas}"); got != "2" {
		t.Errorf("reloader ready replicas = %q, want 2", got)
	}
	sa := "system:serviceaccount:" + addons.Reloader.Namespace + ":reloader-reloader"
	for ns, want := range map[string]string{"production": "yes", "kube-system": "no", "external-secrets": "no"} {
		if got, _ := k.run("", "auth", "can-i", "list", "secrets", "-n", ns, "--as", sa); strings.TrimSpace(got) != want {
			t.Errorf("reloader may list secrets in %s: %q, want %s", ns, strings.TrimSpace(got), want)
		}
	}
	if got := k.must("get", "clusterrolebindings", "-l", "release=reloader", "-o", "name"); got != "" {
		t.Errorf("reloader has cluster-wide bindings: %s", got)
	}
	for _, pdb := range []string{"kube-system/aws-load-balancer-controller", "kube-system/metrics-server", "external-secrets/external-secrets-pdb", "external-secrets/external-secrets-webhook-pdb", "reloader/reloader-reloader"} {
		ns, name, _ := strings.Cut(pdb, "/")
		k.must("get", "poddisruptionbudget", name, "-n", ns)
	}
	// The IRSA role is on the store's own ServiceAccount, which runs no pod;
	// the controller's carries none (a SecretStore naming no auth would
	// otherwise read with the controller's credentials).
	if got := k.must("get", "serviceaccount", addons.ExternalSecretsStoreServiceAccount, "-n", "external-secrets", "-o", "jsonpath={.metadata.annotations.eks\\.amazonaws\\.com/role-arn}"); got != "arn:aws:iam::123456789012:role/sovd-production-external-secrets" {
		t.Errorf("External Secrets' store ServiceAccount's IRSA role = %q", got)
	}
	if got := k.must("get", "serviceaccount", addons.ExternalSecretsServiceAccount, "-n", "external-secrets", "-o", "jsonpath={.metadata.annotations}"); strings.Contains(got, "role-arn") {
		t.Errorf("External Secrets' controller ServiceAccount carries a role: %s", got)
	}
	k.must("get", "crd", "targetgroupbindings.elbv2.k8s.aws", "ingressclassparams.elbv2.k8s.aws",
		"externalsecrets.external-secrets.io", "clustersecretstores.external-secrets.io", "secretstores.external-secrets.io")
	// The API server accepted the store and the ExternalSecret, with the
	// real schema, and called External Secrets' webhook for them.
	if got := k.must("get", "clustersecretstore", addons.SecretStoreName, "-o", "jsonpath={.spec.provider.aws.region}/{.spec.provider.aws.auth.jwt.serviceAccountRef.name}"); got != "us-east-1/"+addons.ExternalSecretsStoreServiceAccount {
		t.Errorf("ClusterSecretStore = %q", got)
	}
	if got := k.must("get", "externalsecret", addons.AppSecretName, "-n", "production", "-o", "jsonpath={.spec.target.name}/{.spec.target.template.engineVersion}/{.spec.data[4].remoteRef.key}"); got != "sovd-webapp-secrets/v2/sovd/production/database" { // the app role's login, not the RDS master secret
		t.Errorf("ExternalSecret = %q", got)
	}
	var called []string
	for _, r := range hook.Seen() {
		called = append(called, r.Operation+" "+r.Kind+" "+r.Name)
	}
	for _, want := range []string{"CREATE ClusterSecretStore aws-secrets-manager", "CREATE ExternalSecret sovd-webapp-secrets", "CREATE Service external-secrets-webhook"} {
		if !slices.Contains(called, want) {
			t.Errorf("webhook was not called for %q; it saw %v", want, called)
		}
	}
	// The schema is External Secrets' own: what it forbids, the API server
	// refuses.
	for _, bad := range []struct{ name, obj, says string }{
		{"store without region", `{"apiVersion":"external-secrets.io/v1","kind":"ClusterSecretStore","metadata":{"name":"bad"},"spec":{"provider":{"aws":{"service":"SecretsManager"}}}}`,
			"spec.provider.aws.region: Required value"},
		{"store of another AWS service", `{"apiVersion":"external-secrets.io/v1","kind":"ClusterSecretStore","metadata":{"name":"bad"},"spec":{"provider":{"aws":{"service":"KMS","region":"us-east-1"}}}}`,
			`spec.provider.aws.service: Unsupported value: "KMS"`},
		{"secret key with a slash", `{"apiVersion":"external-secrets.io/v1","kind":"ExternalSecret","metadata":{"name":"bad","namespace":"production"},"spec":{"secretStoreRef":{"kind":"ClusterSecretStore","name":"x"},"data":[{"secretKey":"a/b","remoteRef":{"key":"k"}}]}}`,
			"spec.data[0].secretKey: Invalid value"},
		{"template engine v1", `{"apiVersion":"external-secrets.io/v1","kind":"ExternalSecret","metadata":{"name":"bad","namespace":"production"},"spec":{"secretStoreRef":{"kind":"ClusterSecretStore","name":"x"},"target":{"template":{"engineVersion":"v1"}}}}`,
			`spec.target.template.engineVersion: Unsupported value: "v1"`},
		{"v1beta1", `{"apiVersion":"external-secrets.io/v1beta1","kind":"ClusterSecretStore","metadata":{"name":"bad"},"spec":{"provider":{"aws":{"service":"SecretsManager","region":"us-east-1"}}}}`,
			`no matches for kind "ClusterSecretStore" in version "external-secrets.io/v1beta1"`},
	} {
		out, err := k.run(bad.obj, "apply", "--dry-run=server", "-f", "-")
		if err == nil || !strings.Contains(out, bad.says) {
			t.Errorf("%s: want it refused with %q, got %v:\n%s", bad.name, bad.says, err, out)
		}
	}

	// 3. Another run changes nothing: no new revision, no new resourceVersion.
	versions := func() string {
		return k.must("get", "clustersecretstore/"+addons.SecretStoreName, "crd/targetgroupbindings.elbv2.k8s.aws", "-o", "jsonpath={.items[*].metadata.resourceVersion}") +
			" " + k.must("get", "externalsecret/"+addons.AppSecretName, "-n", "production", "-o", "jsonpath={.metadata.resourceVersion}")
	}
	before := versions()
	progress.Reset()
	if err := run("third run", AddonSteps(opts(good))); err != nil {
		t.Fatal(err)
	}
	if got := releases(t, helm, kubeconfig); !reflect.DeepEqual(got, want) {
		t.Errorf("after a run with nothing to do: %v, want %v", got, want)
	}
	if after := versions(); after != before {
		t.Errorf("resourceVersions changed on a run with nothing to do: %s -> %s", before, after)
	}
	// Each release, and the app's database role (no Job on a re-run).
	if n := strings.Count(progress.String(), "nothing to do"); n != len(addons.All)+1 {
		t.Errorf("%d steps reported up to date, want %d:\n%s", n, len(addons.All)+1, progress.String())
	}
	overlay, err := os.ReadFile(st.Path(AppValuesFile))
	if err != nil || !bytes.Contains(overlay, []byte("name: sovd-webapp-production-sa")) {
		t.Errorf("overlay: %v\n%s", err, overlay)
	}

	// 4. Teardown leaves nothing; a second teardown finds nothing to do.
	for _, name := range []string{"teardown", "teardown again"} {
		if err := run(name, AddonTeardownSteps(opts(good))); err != nil {
			t.Fatal(err)
		}
		if got := releases(t, helm, kubeconfig); strings.Join(slices.Collect(maps.Values(got)), "") != "" {
			t.Errorf("%s: releases left: %v", name, got)
		}
		left := k.must("get", "crd,mutatingwebhookconfiguration,validatingwebhookconfiguration,clusterrole,clusterrolebinding,ingressclass,namespace", "-o", "name")
		for _, line := range strings.Split(left, "\n") {
			for _, ours := range []string{"elbv2.k8s.aws", "external-secrets", "aws-load-balancer", "metrics-server", "ingressclass.networking.k8s.io/alb", "namespace/production"} {
				if strings.Contains(line, ours) {
					t.Errorf("%s left %s", name, line)
				}
			}
		}
		if out := k.must("get", "all,serviceaccount,role,rolebinding,poddisruptionbudget", "-n", "kube-system", "-o", "name"); strings.Contains(out, "aws-load-balancer") || strings.Contains(out, "metrics-server") {
			t.Errorf("%s left in kube-system:\n%s", name, out)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// addonsAWS answers what ReadAddonInputs asks.
type addonsAWS struct {
	ClusterAPI
	calls []string
}

func (a *addonsAWS) AccountID(context.Context) (string, error) {
	a.calls = append(a.calls, "AccountID")
	return "123456789012", nil
}

func (a *addonsAWS) ClusterNetwork(_ context.Context, name string) (*cloud.Network, error) {
	a.calls = append(a.calls, "ClusterNetwork "+name)
	return &cloud.Network{VPCID: "vpc-1"}, nil
}

func TestReadAddonInputs(t *testing.T) {
	t.Parallel()
	st := addonState(t, proctest.New(t))
	aws := &addonsAWS{}
	// Known from earlier steps: nothing is asked.
	if err := (ReadAddonInputs{AWS: aws}).Run(context.Background(), st); err != nil || len(aws.calls) != 0 {
		t.Fatalf("err %v, calls %v", err, aws.calls)
	}
	st.AccountID, st.Network = "", nil
	if err := (ReadAddonInputs{AWS: aws}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if st.AccountID != "123456789012" || st.Network.VPCID != "vpc-1" || len(aws.calls) != 2 {
		t.Errorf("account %q, network %+v, calls %v", st.AccountID, st.Network, aws.calls)
	}
	// The hosted zone of app.domain (external-dns's values and role name
	// it), found by name when no earlier step did; a missing zone stops
	// the run here, before helm.
	st.HostedZoneID = ""
	zones := &fakeZones{zones: []cloud.ZoneCandidate{{ID: "/hostedzone/Z0PROD", Name: "production.com."}, {ID: "/hostedzone/Z0OTHER", Name: "example.com."}}}
	if err := (ReadAddonInputs{AWS: aws, Zones: zones}).Run(context.Background(), st); err != nil || st.HostedZoneID != "Z0PROD" {
		t.Errorf("zone %q, err %v", st.HostedZoneID, err)
	}
	st.HostedZoneID = ""
	zones.zones = zones.zones[1:]
	err := (ReadAddonInputs{AWS: aws, Zones: zones}).Run(context.Background(), st)
	if err == nil || !strings.Contains(err.Error(), "app.domain sovd.production.com") {
		t.Errorf("no zone holds the domain: err %v", err)
	}
}

// fakeZones is the hosted zones of an account, found as cloud/dns.go finds
// them (PickHostedZone over ListHostedZones).
type fakeZones struct{ zones []cloud.ZoneCandidate }

func (f *fakeZones) FindHostedZone(_ context.Context, domain string) (cloud.HostedZone, error) {
	return cloud.PickHostedZone(domain, f.zones)
}

func (f *fakeZones) HostedZoneExists(context.Context, string) (cloud.HostedZone, error) {
	return cloud.HostedZone{}, errors.New("not used")
}
