package addons

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"text/template"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/golden"
	"github.com/sovd/bootstrap/terraform/stateful"
)

var live = Live{AccountID: "123456789012", VPCID: "vpc-0123456789abcdef0", HostedZoneID: "Z0123456789ABCDEFGHIJ"}

// outputs is what terraform output -json gives for the production data tier
// (values invented, shapes as terraform/stateful/outputs.tf declares).
func outputs(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("testdata/terraform-output.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := stateful.ParseTerraformOutputJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValuesGolden(t *testing.T) {
	t.Parallel()
	for _, env := range []string{"staging", "production"} {
		for _, c := range All {
			t.Run(env+"/"+c.Release, func(t *testing.T) {
				t.Parallel()
				got, err := ValuesYAML(c, config.Builtin(env), live)
				if err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, "values-"+env+"-"+c.Release+".yaml", got)
			})
		}
	}
}

// The contract with the charts: the keys each chart is known to read.
func TestValuesContract(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	get := func(c Addon) map[string]any {
		b, err := ValuesYAML(c, p, live)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	lbc := get(LoadBalancerController)
	for path, want := range map[string]any{
		"clusterName":                        "sovd-production-cluster",
		"region":                             "us-east-1",
		"vpcId":                              live.VPCID,
		"replicaCount":                       float64(2),
		"serviceAccount.create":              true,
		"serviceAccount.name":                "aws-load-balancer-controller",
		"podDisruptionBudget.maxUnavailable": float64(1),
	} {
		if got := dig(lbc, path); got != want {
			t.Errorf("aws-load-balancer-controller %s = %v, want %v", path, got, want)
		}
	}
	if got := lbc["serviceAccount"].(map[string]any)["annotations"].(map[string]any)[IRSAAnnotation]; got != "arn:aws:iam::123456789012:role/sovd-production-aws-load-balancer-controller" {
		t.Errorf("load balancer controller role = %v", got)
	}
	eso := get(ExternalSecrets)
	if dig(eso, "installCRDs") != true || dig(eso, "serviceAccount.name") != "external-secrets" {
		t.Errorf("external-secrets values: %v", eso)
	}
	// The controller's ServiceAccount carries no role: a store without auth
	// would otherwise read every secret the role can.
	if got := dig(eso, "serviceAccount.annotations"); got != nil {
		t.Errorf("the External Secrets controller's ServiceAccount must carry no role, has annotations %v", got)
	}
	ms := get(MetricsServer)
	if dig(ms, "replicas") != float64(2) || dig(ms, "podDisruptionBudget.enabled") != true {
		t.Errorf("metrics-server values: %v", ms)
	}
	// Reloader watches the app's namespace only (a Role there, no
	// ClusterRole), Secrets only, and restarts by annotating the pod
	// template; two replicas under leader election, a PDB.
	rl := get(Reloader)
	for path, want := range map[string]any{
		"reloader.watchGlobally":                        false,
		"reloader.ignoreConfigMaps":                     true,
		"reloader.reloadStrategy":                       "annotations",
		"reloader.enableHA":                             true,
		"reloader.readOnlyRootFileSystem":               true,
		"reloader.deployment.replicas":                  float64(2),
		"reloader.deployment.resources.requests.cpu":    "10m",
		"reloader.deployment.resources.requests.memory": "128Mi",
		"reloader.deployment.resources.limits.memory":   "512Mi",
		"reloader.podDisruptionBudget.enabled":          true,
		"reloader.podDisruptionBudget.minAvailable":     float64(1),
	} {
		if got := dig(rl, path); got != want {
			t.Errorf("reloader %s = %v, want %v", path, got, want)
		}
	}
	if got := dig(rl, "reloader.namespaces"); !reflect.DeepEqual(got, []any{p.App.Namespace}) {
		t.Errorf("reloader watches %v, want only the app's namespace %s", got, p.App.Namespace)
	}
	if Reloader.IRSA != nil || !Reloader.NeedsAppNamespace {
		t.Errorf("reloader needs no AWS role (IRSA %v) and its Role lives in the app's namespace (NeedsAppNamespace %v)", Reloader.IRSA, Reloader.NeedsAppNamespace)
	}
}

// Every key bootstrap sets in the reloader chart's values is a key of the
// upstream chart's values.yaml at the pin: test/charts/reloader/values.yaml
// holds upstream's defaults of those keys (reloader.namespaces, which is
// commented out upstream, as the empty list its helpers default to), so a
// key that upstream does not have (a typo, or one renamed by a pin move)
// fails here instead of being ignored by helm.
func TestReloaderKeysAreUpstreams(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../test/charts/reloader/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var upstream map[string]any
	if err := yaml.Unmarshal(data, &upstream); err != nil {
		t.Fatal(err)
	}
	b, err := ValuesYAML(Reloader, config.Builtin("production"), live)
	if err != nil {
		t.Fatal(err)
	}
	var ours map[string]any
	if err := yaml.Unmarshal(b, &ours); err != nil {
		t.Fatal(err)
	}
	var paths []string
	walk("", ours, &paths)
	for _, p := range paths {
		// Below resources and podDisruptionBudget the keys are Kubernetes'
		// (requests, limits) or read by the template only (minAvailable is
		// commented out upstream): their parent must exist.
		check := p
		for prefix, parent := range map[string]string{
			"reloader.deployment.resources.":            "reloader.deployment.resources",
			"reloader.podDisruptionBudget.minAvailable": "reloader.podDisruptionBudget",
		} {
			if strings.HasPrefix(p, prefix) {
				check = parent
			}
		}
		if !has(upstream, check) {
			t.Errorf("reloader value %s: upstream's values.yaml has no %s", p, check)
		}
	}
}

func has(m map[string]any, path string) bool {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = mm[k]; !ok {
			return false
		}
	}
	return true
}

func dig(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func TestPins(t *testing.T) {
	t.Parallel()
	lbc := LoadBalancerController
	if !strings.HasPrefix(lbc.Version, "3.") || "v"+lbc.Version != lbc.AppVersion {
		t.Errorf("load balancer controller chart %s runs %s: since 3.x the chart version equals the controller version", lbc.Version, lbc.AppVersion)
	}
	if _, err := LoadBalancerControllerPolicy(); err != nil {
		t.Error(err)
	}
	seen := map[string]bool{}
	for _, c := range All {
		if seen[c.Release] {
			t.Errorf("release %s pinned twice", c.Release)
		}
		seen[c.Release] = true
		if c.Version == "" || c.RepoURL == "" || c.Namespace == "" {
			t.Errorf("incomplete pin %+v", c.Chart)
		}
		if c.Values == nil {
			t.Errorf("add-on %s has no values function", c.Release)
		}
	}
}

func TestArgv(t *testing.T) {
	t.Parallel()
	const kc = ".bootstrap/production/kubeconfig"
	local := Source{Local: map[string]string{"metrics-server": "/charts/metrics-server"}}
	tests := []struct {
		name string
		got  []string
		want string
	}{
		{"repo add", RepoAdd(LoadBalancerController.Chart), "repo add bootstrap-eks https://aws.github.io/eks-charts --force-update"},
		{"repo update", RepoUpdate("bootstrap-eks", "bootstrap-external-secrets"), "repo update bootstrap-eks bootstrap-external-secrets"},
		{"pull", Pull(LoadBalancerController.Chart, "d/charts"), "pull bootstrap-eks/aws-load-balancer-controller --version 3.5.0 --untar --untardir d/charts"},
		{"list", List(ExternalSecrets.Chart, kc), "list --namespace external-secrets --filter ^external-secrets$ --all --output json --kubeconfig " + kc},
		{"get values", GetValues(MetricsServer.Chart, kc), "get values metrics-server --namespace kube-system --output json --kubeconfig " + kc},
		{"upgrade", UpgradeInstall(MetricsServer.Chart, MetricsServer.Ref(), "v.yaml", 0, kc),
			"upgrade --install metrics-server bootstrap-metrics-server/metrics-server --namespace kube-system --create-namespace --version 3.13.1 --values v.yaml --atomic --wait --timeout 10m --kubeconfig " + kc},
		{"upgrade local", UpgradeInstall(MetricsServer.Chart, local.Ref(MetricsServer.Chart), "v.yaml", 90*time.Second, kc),
			"upgrade --install metrics-server /charts/metrics-server --namespace kube-system --create-namespace --version 3.13.1 --values v.yaml --atomic --wait --timeout 90s --kubeconfig " + kc},
		{"uninstall", Uninstall(ExternalSecrets.Chart, 5*time.Minute, kc), "uninstall external-secrets --namespace external-secrets --wait --timeout 5m --kubeconfig " + kc},
		{"apply", KubectlApply("m.yaml", kc), "apply --server-side --field-manager bootstrap --force-conflicts --filename m.yaml --kubeconfig " + kc},
		{"delete", KubectlDelete("m.yaml", time.Minute, kc), "delete --filename m.yaml --ignore-not-found --wait --timeout 1m --kubeconfig " + kc},
		{"delete namespace", KubectlDeleteNamespace("production", 1500*time.Millisecond, kc), "delete namespace production --ignore-not-found --wait --timeout 1.5s --kubeconfig " + kc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := strings.Join(tt.got, " "); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSource(t *testing.T) {
	t.Parallel()
	var upstream Source
	if got := upstream.Ref(ExternalSecrets.Chart); got != "bootstrap-external-secrets/external-secrets" {
		t.Errorf("upstream ref = %s", got)
	}
	if got := upstream.Repos(Charts()); len(got) != len(All) {
		t.Errorf("upstream repos = %v, want one per add-on", got)
	}
	if got := upstream.CRDsDir(LoadBalancerController.Chart, "pull"); got != "pull/aws-load-balancer-controller/crds" {
		t.Errorf("upstream crds dir = %s", got)
	}
	local := Source{Local: map[string]string{"aws-load-balancer-controller": "/c/lbc"}}
	if got := local.CRDsDir(LoadBalancerController.Chart, "pull"); got != "/c/lbc/crds" {
		t.Errorf("local crds dir = %s", got)
	}
	got := local.Repos(Charts())
	if len(got) != len(All)-1 || got[0].Release != "metrics-server" || got[1].Release != "external-secrets" {
		t.Errorf("repos with a local chart = %v", got)
	}
	for _, c := range got {
		if c.Release == LoadBalancerController.Release {
			t.Errorf("the local chart's repository is added: %v", got)
		}
	}
}

func TestManifestsGolden(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	out, err := stateful.ParseOutputs(outputs(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Manifests(p, out, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "manifests-production.yaml", got)
	if !bytes.Contains(got, []byte("apiVersion: external-secrets.io/v1\n")) {
		t.Error("manifests do not use external-secrets.io/v1")
	}
	// Offline, every live value is a placeholder.
	off, err := Manifests(config.Builtin("staging"), stateful.PlaceholderOutputs(config.Builtin("staging")), "<account-id>")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "manifests-staging-placeholders.yaml", off)
}

// External Secrets' role is on a ServiceAccount of its own that runs no pod,
// and only the ClusterSecretStore names it; the role's trust (eksctl's
// iamserviceaccount) names the same account.
func TestExternalSecretsRoleOnStoreServiceAccount(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	sa := StoreServiceAccount(p, "123456789012")
	if sa.Metadata.Name == ExternalSecretsServiceAccount {
		t.Fatalf("the store's ServiceAccount must not be the controller's (%s)", ExternalSecretsServiceAccount)
	}
	if sa.Metadata.Namespace != ExternalSecrets.Namespace || sa.AutomountServiceAccountToken {
		t.Errorf("store ServiceAccount %s/%s automount %v; want namespace %s and no automounted token",
			sa.Metadata.Namespace, sa.Metadata.Name, sa.AutomountServiceAccountToken, ExternalSecrets.Namespace)
	}
	if got := sa.Metadata.Annotations[IRSAAnnotation]; got != "arn:aws:iam::123456789012:role/sovd-production-external-secrets" {
		t.Errorf("store ServiceAccount role = %q", got)
	}
	ref := SecretStore(p).Spec.Provider.AWS.Auth.JWT.ServiceAccountRef
	if ref.Name != sa.Metadata.Name || ref.Namespace != sa.Metadata.Namespace {
		t.Errorf("the ClusterSecretStore's auth names %s/%s, want %s/%s", ref.Namespace, ref.Name, sa.Metadata.Namespace, sa.Metadata.Name)
	}
	// In the rendered file, the ServiceAccount comes before the store.
	b, err := Manifests(p, stateful.PlaceholderOutputs(p), "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "\n---\n")
	var kinds []string
	for _, d := range docs {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, fmt.Sprint(m["kind"]))
	}
	if got := strings.Join(kinds, ","); got != "Namespace,ServiceAccount,ClusterSecretStore,ExternalSecret" {
		t.Errorf("manifest order = %s", got)
	}
}

// The template of the ExternalSecret renders the URLs the app expects, with
// the password escaped, using the functions External Secrets' v2 engine has
// (Go's text/template builtins).
func TestExternalSecretTemplate(t *testing.T) {
	t.Parallel()
	es := AppExternalSecret(config.Builtin("production"), stateful.DataOutputs{RedisHost: "redis.example", RedisPort: "6379", DBMasterSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-x"})
	// Every value comes from the environment's own secrets: none from the
	// RDS master secret, which External Secrets may no longer read.
	for _, d := range es.Spec.Data {
		if !strings.HasPrefix(d.RemoteRef.Key, "sovd/production/") {
			t.Errorf("%s is read from %s, not from sovd/production/*", d.SecretKey, d.RemoteRef.Key)
		}
		if strings.HasPrefix(d.SecretKey, "db_") && d.RemoteRef.Key != "sovd/production/database" {
			t.Errorf("%s is read from %s, want sovd/production/database", d.SecretKey, d.RemoteRef.Key)
		}
	}
	vars := map[string]string{
		"db_host": "db.example", "db_port": "5432", "db_name": "sovd_production",
		"db_username": "sovd_app_2", "db_password": "p@ss:w/rd#1", "jwt_secret": "j", "redis_auth_token": "t0k",
	}
	for _, d := range es.Spec.Data {
		if _, ok := vars[d.SecretKey]; !ok {
			t.Errorf("data key %s has no test value", d.SecretKey)
		}
	}
	got := map[string]string{}
	for k, tmpl := range es.Spec.Target.Template.Data {
		got[k] = execTemplate(t, tmpl, vars)
	}
	want := map[string]string{
		"DATABASE_URL": "postgresql://sovd_app_2:p%40ss%3Aw%2Frd%231@db.example:5432/sovd_production?sslmode=require",
		"REDIS_URL":    "rediss://:t0k@redis.example:6379/0",
		"JWT_SECRET":   "j",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rendered secret:\n got %v\nwant %v", got, want)
	}
}

func TestAppOverlay(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	out, err := stateful.ParseOutputs(outputs(t))
	if err != nil {
		t.Fatal(err)
	}
	v, err := AppOverlay(p, out, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "app-values-production.yaml", got)
	if w := v.Warnings(); len(w) != 0 {
		t.Errorf("warnings with a certificate: %v", w)
	}

	// Exactly the keys of the chart's values-production.yaml that only the
	// live environment knows (seed: infrastructure/helm/sovd-webapp), and
	// the ingress's HTTPS keys (issue 15: the controller's default scheme
	// is internal, its default target type instance).
	m, _ := v.Map()
	var paths []string
	walk("", m, &paths)
	want := []string{
		"backend.annotations.secret.reloader.stakater.com/reload",
		"backend.image.repository",
		"config.database.host", "config.database.name", "config.database.port", "config.database.user",
		"config.redis.host", "config.redis.port",
		"frontend.image.repository",
		"global.domain",
		"ingress.annotations.alb.ingress.kubernetes.io/certificate-arn",
		"ingress.annotations.alb.ingress.kubernetes.io/listen-ports",
		"ingress.annotations.alb.ingress.kubernetes.io/scheme",
		"ingress.annotations.alb.ingress.kubernetes.io/ssl-redirect",
		"ingress.annotations.alb.ingress.kubernetes.io/target-type",
		"ingress.host",
		"serviceAccount.annotations.eks.amazonaws.com/role-arn",
		"serviceAccount.name",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("overlay keys:\n got %v\nwant %v", paths, want)
	}

	// Reloader restarts the backend when the Secret the app's ExternalSecret
	// writes changes: the annotation names that Secret, taken from the
	// ExternalSecret's target, and no other.
	es := AppExternalSecret(p, out)
	if got := dig(m, SecretReader+".annotations"); !reflect.DeepEqual(got, map[string]any{ReloadAnnotation: es.Spec.Target.Name}) {
		t.Errorf("%s annotations = %v, want only %s: %s (the ExternalSecret's target)", SecretReader, got, ReloadAnnotation, es.Spec.Target.Name)
	}
	if dig(m, "frontend.annotations") != nil {
		t.Errorf("frontend reads no Secret, yet is annotated: %v", dig(m, "frontend.annotations"))
	}

	if a := v.Ingress.Annotations; a[SchemeAnnotation] != "internet-facing" || a[TargetTypeAnnotation] != "ip" ||
		a[SSLRedirectAnnotation] != "443" || a[ListenPortsAnnotation] != `[{"HTTP": 80}, {"HTTPS": 443}]` || v.Ingress.Host != "sovd.production.com" {
		t.Errorf("HTTPS keys: %+v", v.Ingress)
	}

	// No certificate (no domain): no certificate, no HTTPS listener, no
	// redirect to it, with a warning; still internet-facing with ip targets.
	out.CertificateARN = ""
	nodomain := config.Builtin("staging")
	nodomain.Registry.Repositories = p.Registry.Repositories
	v, err = AppOverlay(nodomain, out, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	a := v.Ingress.Annotations
	if len(v.Warnings()) != 1 || a[CertificateAnnotation] != "" || a[ListenPortsAnnotation] != "" || a[SSLRedirectAnnotation] != "" ||
		a[SchemeAnnotation] != "internet-facing" || v.Global != nil || v.Ingress.Host != "" {
		t.Errorf("without a certificate: ingress %+v, global %v, warnings %v", v.Ingress, v.Global, v.Warnings())
	}

	// A repository the outputs lack is an error.
	delete(out.ECRRepositoryURLs, "sovd-frontend")
	if _, err := AppOverlay(p, out, "123456789012"); err == nil || !strings.Contains(err.Error(), "sovd-frontend") {
		t.Errorf("missing repository: err = %v", err)
	}
}

func walk(prefix string, v any, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok {
		*out = append(*out, prefix)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		walk(p, m[k], out)
	}
}

func TestUpToDate(t *testing.T) {
	t.Parallel()
	want := MetricsServer.Values(config.Builtin("production"), live)
	same, _ := json.Marshal(want)
	list := []byte(`[{"name":"metrics-server","namespace":"kube-system","revision":"1","status":"deployed","chart":"metrics-server-3.13.1","app_version":"0.8.1"}]`)
	r, err := ParseList(MetricsServer.Chart, list)
	if err != nil || r == nil {
		t.Fatalf("ParseList: %v %v", r, err)
	}
	tests := []struct {
		name   string
		r      *ReleaseStatus
		values string
		want   bool
	}{
		{"same", r, `{"podDisruptionBudget":{"minAvailable":1,"enabled":true},"replicas":2}`, true},
		{"same, marshalled", r, string(same), true},
		{"other values", r, `{"replicas":3,"podDisruptionBudget":{"enabled":true,"minAvailable":1}}`, false},
		{"no values", r, `null`, false},
		{"absent", nil, `{}`, false},
		{"other chart version", &ReleaseStatus{Name: "metrics-server", Status: "deployed", Chart: "metrics-server-3.12.2"}, string(same), false},
		{"failed", &ReleaseStatus{Name: "metrics-server", Status: "failed", Chart: "metrics-server-3.13.1"}, string(same), false},
	}
	for _, tt := range tests {
		got, err := UpToDate(MetricsServer.Chart, tt.r, []byte(tt.values), want)
		if err != nil || got != tt.want {
			t.Errorf("%s: UpToDate = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if r, _ := ParseList(MetricsServer.Chart, []byte(`[]`)); r != nil {
		t.Errorf("empty list gave %v", r)
	}
	for status, pending := range map[string]bool{"pending-upgrade": true, "pending-install": true, "deployed": false, "failed": false} {
		if got := (&ReleaseStatus{Status: status}).Pending(); got != pending {
			t.Errorf("Pending(%s) = %v", status, got)
		}
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{0: "10m", 5 * time.Minute: "5m", 90 * time.Second: "90s", 1500 * time.Millisecond: "1.5s"} {
		if got := Timeout(d); got != want {
			t.Errorf("Timeout(%v) = %s, want %s", d, got, want)
		}
	}
}

// execTemplate renders a template as External Secrets' v2 engine does for
// these templates: Go text/template over the fetched values.
func execTemplate(t *testing.T, text string, vars map[string]string) string {
	t.Helper()
	tmpl, err := template.New("t").Option("missingkey=error").Parse(text)
	if err != nil {
		t.Fatalf("template %q: %v", text, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, vars); err != nil {
		t.Fatalf("template %q: %v", text, err)
	}
	return b.String()
}

// The rotation timing holds: External Secrets rewrites the app's Secret
// (and Reloader then restarts the backend) well within the shortest
// rotation period a profile may set (passwordRotationDays 1), so the login
// the old pods hold is never changed before every pod has the new one
// (docs/layout.md, "Reaching running pods").
func TestSecretRefreshWithinRotationPeriod(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	es := AppExternalSecret(p, stateful.DataOutputs{})
	refresh, err := time.ParseDuration(es.Spec.RefreshInterval)
	if err != nil {
		t.Fatalf("refreshInterval %q: %v", es.Spec.RefreshInterval, err)
	}
	const shortestPeriod = 24 * time.Hour // passwordRotationDays: 1
	// A rollout of the backend after the refresh: minutes. Half the period
	// leaves room for it and for a run that rotates late.
	if refresh != AppSecretRefresh {
		t.Errorf("refreshInterval %s, AppSecretRefresh %s: the Redis token's retirement waits for the latter", refresh, AppSecretRefresh)
	}
	if refresh <= 0 || refresh > shortestPeriod/2 {
		t.Errorf("the app's Secret refreshes every %s: a rotation every %s could change the login old pods hold before they restart", refresh, shortestPeriod)
	}
	if es.Spec.Target.Name != AppSecretName {
		t.Errorf("ExternalSecret writes %s, Reloader watches %s", es.Spec.Target.Name, AppSecretName)
	}
}
