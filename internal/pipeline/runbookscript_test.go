package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/dbrole"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/test/charts"
)

// TestRunbookScript runs the manual fallback: the up script `bootstrap
// runbook --env staging --format script` prints, with bash, the real aws
// CLI and terraform (provider mirror) against moto, the fake eksctl, and
// real helm on a local control plane, the chart repositories' URLs swapped
// for a loopback repository of the test charts and nothing else. Then: the
// resource set is the one `bootstrap up` makes (TestUpThenTeardown's); a
// `bootstrap up` afterwards changes nothing (the Terraform state is not
// written, no helm revision is added, eksctl creates nothing); the teardown
// script, in a fresh shell, leaves nothing of the environment.
func TestRunbookScript(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: moto, terraform, helm and the local control plane")
	}
	if testenv.OwnProcess(t) {
		return
	}
	helm := testenv.Helm(t)
	// A control plane of its own: the script installs the add-on releases
	// with their fixed names in kube-system.
	kubeconfig := testenv.OwnKube(t)
	var tools []string
	for _, tool := range []string{"kubectl", "aws", "jq", "bash"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			testenv.Missing(t, tool, "not on PATH")
		}
		tools = append(tools, p)
	}
	kubectl := tools[0]
	moto := testenv.Moto(t)
	moto.Use(t)
	testenv.UseTerraform(t)
	t.Setenv("FAKE_EKSCTL_KUBECONFIG", kubeconfig)
	t.Setenv("FAKE_EKSCTL_KUBECTL", kubectl)
	t.Setenv("FAKE_EKSCTL_DELAYS", "network=0s,controlplane=0s,nodegroup=0s")
	for _, v := range []string{"HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"} {
		t.Setenv(v, t.TempDir())
	}

	// The script finds eksctl, helm and terraform on PATH.
	fake := buildFakeEksctl(t)
	bin := t.TempDir()
	for name, target := range map[string]string{"eksctl": fake, "helm": helm, "terraform": os.Getenv("BOOTSTRAP_TERRAFORM")} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	hook := charts.StartWebhook(t)
	src, err := charts.Build(filepath.Join(t.TempDir(), "charts"), charts.Options{WebhookURL: hook.URL, WebhookCA: hook.CA})
	if err != nil {
		t.Fatal(err)
	}
	repo := chartRepository(t, helm, src)

	// A checkout: the script runs from the repository's root, which holds
	// terraform/stateful.
	work := t.TempDir()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join(root, "terraform", "stateful"), filepath.Join(work, "terraform", "stateful"))
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	if out, err := exec.Command("go", "build", "-o", bootstrap, "github.com/sovd/bootstrap/cmd/bootstrap").CombinedOutput(); err != nil {
		t.Fatalf("building bootstrap: %v\n%s", err, out)
	}
	script := func(args ...string) string {
		out, err := exec.Command(bootstrap, append([]string{"runbook", "--env", "staging", "--format", "script"}, args...)...).Output()
		if err != nil {
			t.Fatalf("bootstrap runbook %v: %v", args, err)
		}
		s := string(out)
		for _, c := range addons.Charts() {
			// The up script adds every repository; the teardown's only
			// those it pulls CRDs from.
			if len(args) == 0 && !strings.Contains(s, " "+c.RepoURL+" ") {
				t.Fatalf("the up script adds no repository %s", c.RepoURL)
			}
			s = strings.ReplaceAll(s, " "+c.RepoURL+" ", " "+repo+" ")
		}
		if strings.Contains(s, "https://") {
			t.Fatalf("the script reaches out of the machine:\n%s", s)
		}
		return s
	}
	runScript := func(what, text string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), what+".sh")
		if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command("bash", path)
		cmd.Dir, cmd.Stdout, cmd.Stderr = work, &out, &out
		// The teardown's typed confirmation, answered as --confirm would
		// (asked only where protection.typedConfirmation is on).
		cmd.Env = append(os.Environ(), "BOOTSTRAP_CONFIRM=staging")
		start := time.Now()
		err := cmd.Run()
		t.Logf("the %s script took %s", what, time.Since(start).Round(time.Second))
		if err != nil {
			os.WriteFile(filepath.Join(os.TempDir(), "bootstrap-TestRunbookScript-"+what+".log"), out.Bytes(), 0o644)
			t.Fatalf("the %s script: %v\n%s", what, err, lastLines(out.String(), 60))
		}
		return out.String()
	}

	ctx := context.Background()
	c, err := cloud.New(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	releases := func() map[string]string {
		out, err := exec.Command(helm, "list", "--all-namespaces", "--kubeconfig", kubeconfig, "-o", "json").Output()
		if err != nil {
			t.Fatalf("helm list: %v", err)
		}
		var rs []struct{ Name, Revision, Chart string }
		if err := json.Unmarshal(out, &rs); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range rs {
			m[r.Name] = r.Chart + " revision " + r.Revision
		}
		return m
	}

	runScript("up", script())
	made := resourceSet(t, ctx, c, "staging")
	checkUpResourceSet(t, made)
	before := releases()
	for _, ch := range addons.Charts() {
		if before[ch.Release] == "" || !strings.HasPrefix(before[ch.Release], ch.NameVersion()+" ") {
			t.Errorf("after the up script, release %s: %q, want chart %s", ch.Release, before[ch.Release], ch.NameVersion())
		}
	}

	// The app's database login, as bootstrap makes it: AWSCURRENT of the
	// database secret names login _1 of the app's group, nothing is
	// pending. (Its SQL and the Job's command run against a real
	// PostgreSQL server in runbook's TestAppDatabaseRoleScript; kwok only
	// completes the Job here.)
	dbSecret := config.Builtin("staging").SecretNames()[0]
	dbVersions, err := c.VersionsLabelled(ctx, dbSecret, "AWSCURRENT", "AWSPENDING")
	if err != nil {
		t.Fatal(err)
	}
	if cred, ok := dbrole.ParseSecret(dbVersions["AWSCURRENT"].Value); !ok || cred.Username != "sovd_app_1" || cred.Group != "sovd_app" {
		t.Errorf("after the up script, %s holds no credentials of the app's login sovd_app_1 (%v, %s)", dbSecret, ok, cred.Username)
	}
	if _, ok := dbVersions["AWSPENDING"]; ok {
		t.Errorf("after the up script, %s has a pending version", dbSecret)
	}

	// bootstrap up afterwards: converges on what the script made.
	st, log := processState(t, "staging", fake)
	stateKey := st.Profile.StateKey()
	stateBucket := st.Profile.StateBucketName(testenv.MotoAccountID)
	stateETag := func() string {
		o, err := c.S3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(stateBucket), Key: aws.String(stateKey)})
		if err != nil {
			t.Fatalf("the data tier's state %s/%s: %v", stateBucket, stateKey, err)
		}
		return aws.ToString(o.ETag)
	}
	state := stateETag()
	record := t.TempDir()
	t.Setenv("FAKE_EKSCTL_RECORD", record)
	st.Tools["helm"], st.Tools["kubectl"] = helm, kubectl
	st.Redact = &proc.Redactor{}
	st.Log = st.Redact.Writer(log)
	st.Runner = &proc.Exec{Log: st.Log, Redact: st.Redact}
	st.Progress = NewProgress(st.Log, false, false)
	st.Out = &bytes.Buffer{}
	st.Now = time.Now
	st.Poll = Backoff{Initial: 200 * time.Millisecond, Max: time.Second}
	opts := AddonOptions{Kubeconfig: kubeconfig, Charts: src, Timeout: 30 * time.Second}
	if err := Run(ctx, st, "bootstrap up --env staging", UpStepsWith(opts)); err != nil {
		t.Fatalf("bootstrap up after the script: %v\n%s", err, lastLines(log.String(), 40))
	}
	if got := stateETag(); got != state {
		t.Errorf("bootstrap up after the script wrote the data tier's state (%s, was %s): Terraform changed something\n%s", got, state, lastLines(log.String(), 40))
	}
	if after := releases(); !equalStrings(after, before) {
		t.Errorf("bootstrap up after the script changed the releases:\n%v\nwas\n%v", after, before)
	}
	// On an existing cluster up runs eksctl's create iamserviceaccount and
	// create nodegroup, which skip what exists: what counts is that nothing
	// was made (the resource set is the same) and no cluster was created.
	if _, err := os.Stat(filepath.Join(record, "calls.jsonl")); err == nil {
		for _, call := range recordedCalls(t, record) {
			if len(call.Argv) > 1 && call.Argv[0] == "create" && call.Argv[1] == "cluster" {
				t.Errorf("bootstrap up after the script ran eksctl %s", strings.Join(call.Argv, " "))
			}
		}
	}
	if v, err := c.VersionsLabelled(ctx, dbSecret, "AWSCURRENT"); err != nil || v["AWSCURRENT"].ID != dbVersions["AWSCURRENT"].ID {
		t.Errorf("bootstrap up after the script wrote a new version of %s (%v): the script's login was not what bootstrap keeps", dbSecret, err)
	}
	if again := resourceSet(t, ctx, c, "staging"); !equalCounts(again, made) {
		t.Errorf("bootstrap up after the script changed what exists:\n%v\nwas\n%v", again, made)
	}

	// The teardown script, in a fresh shell, stopped right after eksctl
	// deleted the cluster (as if interrupted there), then run again whole
	// in another fresh shell: what needs the cluster says it is skipped,
	// and the rest finishes.
	teardown := script("--teardown")
	stop := strings.Index(teardown, "\n# "+fmt.Sprint(stepIndex(t, TeardownSteps(), DeleteCluster{}.Name())+1)+". ")
	if stop < 0 {
		t.Fatalf("no step after %q in the teardown script", DeleteCluster{}.Name())
	}
	runScript("teardown-until-the-cluster-is-deleted", teardown[:stop+1])
	if ok, err := c.ClusterExists(ctx, st.Profile.Cluster.Name); err != nil || ok {
		t.Fatalf("the first part of the teardown script left cluster %s (%v)", st.Profile.Cluster.Name, err)
	}
	resumed := runScript("teardown", teardown)
	for _, want := range []string{"cluster " + st.Profile.Cluster.Name + " does not exist: skipping \"Uninstalling metrics-server\"",
		"cluster " + st.Profile.Cluster.Name + " does not exist: skipping \"Deleting the CRDs Helm leaves behind\""} {
		if !strings.Contains(resumed, want) {
			t.Errorf("the resumed teardown script did not say %q:\n%s", want, lastLines(resumed, 60))
		}
	}
	for what, n := range resourceSet(t, ctx, c, "staging") {
		if n != 0 {
			t.Errorf("after the teardown script: %d %s left", n, what)
		}
	}
	if got := releases(); len(got) != 0 {
		t.Errorf("after the teardown script, helm releases left: %v", got)
	}
}

// chartRepository serves the test charts as a chart repository (helm
// package, helm repo index) on loopback and returns its URL.
func chartRepository(t *testing.T, helm string, src addons.Source) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range addons.Charts() {
		if out, err := exec.Command(helm, "package", src.Local[c.Release], "--destination", dir).CombinedOutput(); err != nil {
			t.Fatalf("helm package %s: %v\n%s", c.Release, err, out)
		}
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	if out, err := exec.Command(helm, "repo", "index", dir, "--url", srv.URL).CombinedOutput(); err != nil {
		t.Fatalf("helm repo index: %v\n%s", err, out)
	}
	return srv.URL
}

// copyTree copies a directory's files, but for Terraform's working files.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if strings.HasSuffix(d.Name(), ".tfstate") || strings.HasSuffix(d.Name(), ".tfplan") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func equalStrings(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// stepIndex is the number (from 1) of the step named name in the runbook
// of steps: the described steps, lanes flattened, as Describe lists them.
func stepIndex(t *testing.T, steps []Step, name string) int {
	t.Helper()
	n := 0
	for _, s := range Flatten(steps) {
		if _, ok := s.(Describer); !ok {
			continue
		}
		n++
		if s.Name() == name {
			return n
		}
	}
	t.Fatalf("no step %q", name)
	return 0
}
