package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc/proctest"
)

// fakeAWS answers the checks' AWS reads from a table. The shapes are
// cloud's: AddonFacts as cloud.Clients.AddonFacts reads DescribeAddon
// (status and "code: message" health issues), the load balancer's scheme
// and state as cloud.Clients.LoadBalancer reads DescribeLoadBalancers
// (Scheme "internet-facing" or "internal", State.Code "provisioning",
// "active", "active_impaired" or "failed": the ELBv2 API reference's
// LoadBalancerSchemeEnum and LoadBalancerStateEnum).
type fakeAWS struct {
	addons        []cloud.AddonFacts
	addonsErr     error
	scheme, state string
	lbErr         error
}

func (f fakeAWS) Addons(context.Context, string) ([]cloud.AddonFacts, error) {
	return f.addons, f.addonsErr
}

func (f fakeAWS) LoadBalancer(context.Context, string) (string, string, error) {
	return f.scheme, f.state, f.lbErr
}

var activeAddons = []cloud.AddonFacts{
	{Name: "coredns", Exists: true, Status: "ACTIVE"},
	{Name: "kube-proxy", Exists: true, Status: "ACTIVE"},
	{Name: "vpc-cni", Exists: true, Status: "ACTIVE"},
}

// The EKS add-on row fails for any add-on that is not ACTIVE or carries a
// health issue, naming it, for an empty list and for a failed read.
func TestEKSAddonsRow(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	with := func(i int, f cloud.AddonFacts) []cloud.AddonFacts {
		out := append([]cloud.AddonFacts(nil), activeAddons...)
		out[i] = f
		return out
	}
	for _, tc := range []struct {
		name   string
		aws    fakeAWS
		status Status
		detail string
	}{
		{"all active", fakeAWS{addons: activeAddons}, Passed, "coredns, kube-proxy, vpc-cni ACTIVE"},
		{"degraded with issues", fakeAWS{addons: with(1, cloud.AddonFacts{Name: "kube-proxy", Exists: true, Status: "DEGRADED",
			Issues: []string{"InsufficientNumberOfReplicas: The add-on is unhealthy because it doesn't have the desired number of replicas."}})},
			Failed, "kube-proxy DEGRADED InsufficientNumberOfReplicas"},
		{"active but an issue", fakeAWS{addons: with(0, cloud.AddonFacts{Name: "coredns", Exists: true, Status: "ACTIVE",
			Issues: []string{"ConfigurationConflict: Conflicts found when trying to apply."}})}, Failed, "coredns ACTIVE ConfigurationConflict"},
		{"update failed", fakeAWS{addons: with(2, cloud.AddonFacts{Name: "vpc-cni", Exists: true, Status: "UPDATE_FAILED"})}, Failed, "vpc-cni UPDATE_FAILED"},
		{"none", fakeAWS{}, Failed, "no EKS add-ons"},
		{"read fails", fakeAWS{addonsErr: errors.New("AccessDeniedException: eks:ListAddons")}, Failed, "AccessDeniedException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := EKSAddons(context.Background(), tc.aws, p)
			if c.ID != "eks-addons" || c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("got %+v, want %s with %q", c, tc.status, tc.detail)
			}
			if c.Status == Failed && !strings.Contains(c.Next, "aws eks describe-addon --cluster-name sovd-production-cluster") {
				t.Errorf("a failed row names what to look at: %q", c.Next)
			}
		})
	}
}

// ingressJSON is `kubectl get ingress -o json` of the app's Ingress, with
// the load balancer the controller wrote into its status (hostname "" for
// none yet).
func ingressJSON(hostname string) string {
	lb := `{}`
	if hostname != "" {
		lb = `{"ingress":[{"hostname":"` + hostname + `"}]}`
	}
	return `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"networking.k8s.io/v1","kind":"Ingress",` +
		`"metadata":{"name":"sovd-webapp","namespace":"staging"},"spec":{"ingressClassName":"alb"},"status":{"loadBalancer":` + lb + `}}]}`
}

// The load balancer row passes for an internet-facing, active load
// balancer only: the controller's default scheme (internal), a load
// balancer still provisioning, one the Ingress does not have yet, and a
// failed read each fail it. Without an Ingress the rows are skipped. The
// staging profile has no domain, so the DNS and HTTPS rows are skipped and
// the load balancer row stands alone.
func TestLoadBalancerRow(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	if p.App.Domain != "" {
		t.Fatalf("the staging profile has a domain (%s): the rows after the load balancer would run", p.App.Domain)
	}
	const host = "k8s-staging-sovdweba-0123456789-1234567890.us-east-1.elb.amazonaws.com"
	for _, tc := range []struct {
		name     string
		ingress  string
		aws      fakeAWS
		status   Status
		detail   string
		describe bool
	}{
		{"internet-facing and active", ingressJSON(host), fakeAWS{scheme: "internet-facing", state: "active"}, Passed, host + " internet-facing, active", true},
		{"internal", ingressJSON(host), fakeAWS{scheme: "internal", state: "active"}, Failed, "is internal and active", true},
		{"provisioning", ingressJSON(host), fakeAWS{scheme: "internet-facing", state: "provisioning"}, Failed, "is internet-facing and provisioning", true},
		{"gone from AWS", ingressJSON(host), fakeAWS{}, Failed, "is  and ", true},
		{"describe fails", ingressJSON(host), fakeAWS{lbErr: errors.New("AccessDenied: elasticloadbalancing:DescribeLoadBalancers")}, Failed, "AccessDenied", true},
		{"no load balancer yet", ingressJSON(""), fakeAWS{scheme: "internet-facing", state: "active"}, Failed, "has no load balancer yet", false},
		{"no Ingress", `{"apiVersion":"v1","kind":"List","items":[]}`, fakeAWS{scheme: "internet-facing", state: "active"}, Skipped, "no Ingress in namespace staging", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := proctest.New(t)
			r.Expect(`kubectl get ingress --namespace staging -o json`).Stdout(tc.ingress)
			k := Kube{Runner: r, Kubectl: "kubectl"}
			rows := Ingress(context.Background(), k, p, tc.aws, Net{})
			if len(rows) != 3 {
				t.Fatalf("rows: %+v", rows)
			}
			c := rows[0]
			if c.ID != "load-balancer" || c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("got %+v, want %s with %q", c, tc.status, tc.detail)
			}
			if c.Status == Failed && c.Next == "" {
				t.Errorf("a failed row names what to look at: %+v", c)
			}
			for _, later := range rows[1:] {
				if later.Status != Skipped {
					t.Errorf("%s ran without a domain: %+v", later.ID, later)
				}
			}
		})
	}
}

// The metrics API row passes when the metrics API lists node metrics, and
// fails when it lists none (metrics-server has not scraped yet) or when the
// API is not served: kubectl get --raw exits 1 with the API server's answer
// (404 "the server could not find the requested resource" when the
// APIService v1beta1.metrics.k8s.io is missing, 503 "the server is
// currently unable to handle the request" when it is unavailable; the
// process test TestMetricsAndHelmRowsOnLocalControlPlane makes both for
// real).
func TestMetricsAPIRow(t *testing.T) {
	t.Parallel()
	// metrics.k8s.io/v1beta1 NodeMetricsList, as metrics-server answers it.
	const two = `{"kind":"NodeMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[` +
		`{"metadata":{"name":"ip-10-0-1-10.ec2.internal"},"timestamp":"2026-12-02T17:00:00Z","window":"10.062s","usage":{"cpu":"91m","memory":"1024Mi"}},` +
		`{"metadata":{"name":"ip-10-0-2-20.ec2.internal"},"timestamp":"2026-12-02T17:00:00Z","window":"10.062s","usage":{"cpu":"120m","memory":"1200Mi"}}]}`
	for _, tc := range []struct {
		name   string
		stdout string
		exit   int
		status Status
		detail string
	}{
		{"two nodes", two, 0, Passed, "metrics of 2 nodes"},
		{"no metrics yet", `{"kind":"NodeMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[]}`, 0, Failed, "no node metrics yet"},
		// The row's detail is the command and its exit status (proc's
		// RunError); the API server's words are in the run log.
		{"APIService missing", "Error from server (NotFound): the server could not find the requested resource", 1, Failed, "exit status 1"},
		{"APIService unavailable", "Error from server (ServiceUnavailable): the server is currently unable to handle the request", 1, Failed, "exit status 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := proctest.New(t)
			r.Expect(`kubectl get --raw /apis/metrics.k8s.io/v1beta1/nodes`).Stdout(tc.stdout).Exit(tc.exit)
			c := MetricsAPI(context.Background(), Kube{Runner: r, Kubectl: "kubectl"})
			if c.ID != "metrics-api" || c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("got %+v, want %s with %q", c, tc.status, tc.detail)
			}
			if c.Status == Failed && !strings.Contains(c.Next, "apiservice v1beta1.metrics.k8s.io") {
				t.Errorf("a failed row names what to look at: %q", c.Next)
			}
		})
	}
}

// Run, with the app's Secret incomplete: the in-cluster checks (which read
// it) are skipped with the reason and no Job is made, while the rows after
// them still run; every row is there, in order. Each read is answered as
// kubectl and helm answer it (proctest fails the test for any other
// command, such as a Job being applied).
func TestRunSkipsInClusterChecksWithoutTheSecret(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	r := proctest.New(t)
	r.Expect(`kubectl get --raw /readyz`).Stdout("ok")
	r.Expect(`kubectl get nodes -o json`).Stdout(`{"items":[{"metadata":{"name":"ip-10-0-1-10.ec2.internal"},"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}]}`)
	for _, c := range addons.Charts() {
		r.Expect(`helm list --namespace ` + c.Namespace + ` --filter '\^` + c.Release + `\$' --all --output json`).
			Stdout(`[{"name":"` + c.Release + `","namespace":"` + c.Namespace + `","revision":"1","status":"deployed","chart":"` + c.NameVersion() + `","app_version":"` + c.AppVersion + `"}]`)
	}
	healthyWorkloads(r, nil)
	r.Expect(`kubectl get externalsecret sovd-webapp-secrets --namespace staging -o json`).
		Stdout(`{"status":{"conditions":[{"type":"Ready","status":"False","reason":"SecretSyncedError","message":"could not get secret data from provider"}]}}`)
	r.Expect(`kubectl get secret sovd-webapp-secrets --namespace staging -o .*`).Stdout("DATABASE_URL\nJWT_SECRET\n")
	r.Expect(`kubectl get --raw /apis/metrics.k8s.io/v1beta1/nodes`).Stdout(`{"kind":"NodeMetricsList","items":[{"metadata":{"name":"ip-10-0-1-10.ec2.internal"}}]}`)
	r.Expect(`kubectl get ingress --namespace staging -o json`).Stdout(`{"items":[]}`)
	rows := Run(context.Background(), p, Options{Kube: Kube{Runner: r, Kubectl: "kubectl", Helm: "helm"}}, fakeAWS{addons: activeAddons}, Net{}, t.TempDir())

	var got []string
	status := map[string]Check{}
	for _, c := range rows {
		got = append(got, c.ID)
		status[c.ID] = c
	}
	var inCluster []string
	for _, g := range Groups() {
		for _, c := range ParseResults(g, "") {
			inCluster = append(inCluster, c.ID)
		}
	}
	want := append([]string{"api-server", "nodes-ready", "eks-addons", "helm-addons", "addon-workloads", "external-secret", "app-secret"}, inCluster...)
	want = append(want, "metrics-api", "load-balancer", "dns", "https")
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rows:\n got %v\nwant %v", got, want)
	}
	for _, id := range []string{"api-server", "nodes-ready", "eks-addons", "helm-addons", "addon-workloads", "metrics-api"} {
		if status[id].Status != Passed {
			t.Errorf("%s: %+v", id, status[id])
		}
	}
	if c := status["external-secret"]; c.Status != Failed || !strings.Contains(c.Detail, "SecretSyncedError") {
		t.Errorf("external-secret: %+v", c)
	}
	if c := status["app-secret"]; c.Status != Failed || !strings.Contains(c.Detail, "REDIS_URL") {
		t.Errorf("app-secret: %+v", c)
	}
	for _, id := range inCluster {
		if c := status[id]; c.Status != Skipped || !strings.Contains(c.Detail, "the app's Secret is not complete") {
			t.Errorf("%s ran without the Secret: %+v", id, c)
		}
	}
}

// InCluster looks up the app's service account before it makes the Job:
// absent (kubectl get --ignore-not-found prints nothing and exits 0, for a
// missing namespace too), every in-cluster row is skipped with the reason
// and no Job is applied (proctest fails the test on any other command);
// present, the Job runs and its rows are read; a failed lookup fails the
// rows with the lookup's error rather than skipping them.
func TestInClusterNeedsTheAppServiceAccount(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	const lookup = `kubectl get serviceaccount sovd-webapp-staging-sa --namespace staging --ignore-not-found -o name`
	var ids []string
	var results = map[string]string{}
	for _, g := range Groups() {
		for _, c := range ParseResults(g, "") {
			ids = append(ids, c.ID)
			results[g] += resultPrefix + " " + c.ID + " passed ok\n"
		}
	}
	pods := func() string {
		var statuses []string
		for _, g := range Groups() {
			b, _ := json.Marshal(results[g])
			statuses = append(statuses, `{"name":"`+g+`","state":{"terminated":{"exitCode":0,"reason":"Completed","message":`+string(b)+`}}}`)
		}
		return `{"items":[{"metadata":{"name":"bootstrap-verify-t-abcde"},"status":{"phase":"Succeeded","containerStatuses":[` + strings.Join(statuses, ",") + `]}}]}`
	}
	for _, tc := range []struct {
		name   string
		script func(r *proctest.Runner)
		status Status
		detail string
	}{
		{"absent", func(r *proctest.Runner) { r.Expect(lookup).Stdout("") }, Skipped,
			"the service account staging/sovd-webapp-staging-sa does not exist yet: deploy the app first"},
		{"lookup fails", func(r *proctest.Runner) { r.Expect(lookup).Exit(1) }, Failed,
			"reading the service account staging/sovd-webapp-staging-sa"},
		{"present", func(r *proctest.Runner) {
			r.Expect(lookup).Stdout("serviceaccount/sovd-webapp-staging-sa\n")
			r.Expect(`kubectl apply -f .*/bootstrap-verify-t\.yaml`)
			r.Expect(`kubectl get pods --namespace staging -l job-name=bootstrap-verify-t -o json`).Stdout(pods())
			r.Expect(`kubectl delete job bootstrap-verify-t --namespace staging --cascade=foreground --ignore-not-found --wait=false`)
		}, Passed, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := proctest.New(t)
			tc.script(r)
			o := Options{Kube: Kube{Runner: r, Kubectl: "kubectl"}, JobName: "bootstrap-verify-t", JobTimeout: time.Second, Poll: time.Millisecond}
			rows := InCluster(context.Background(), o, p, t.TempDir())
			if len(rows) != len(ids) {
				t.Fatalf("rows %+v, want one per check %v", rows, ids)
			}
			for i, c := range rows {
				if c.ID != ids[i] || c.Name == "" || c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) {
					t.Errorf("row %d: %+v, want %s %s with %q", i, c, ids[i], tc.status, tc.detail)
				}
			}
		})
	}
}

// workloadsJSON is `kubectl get deployments,statefulsets,daemonsets -o
// json` of one namespace: a List of the given items.
func workloadsJSON(items ...string) string {
	return `{"apiVersion":"v1","kind":"List","items":[` + strings.Join(items, ",") + `]}`
}

// deployment is one Deployment of release, as the API server returns it:
// Helm's release annotation, spec.replicas and the status the deployment
// controller writes.
func deployment(release, name string, generation, observed int64, replicas, total, updated, available int32, conditions string) string {
	return fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%q,"generation":%d,"annotations":{"meta.helm.sh/release-name":%q,"meta.helm.sh/release-namespace":"x"}},`+
		`"spec":{"replicas":%d},"status":{"observedGeneration":%d,"replicas":%d,"updatedReplicas":%d,"availableReplicas":%d,"readyReplicas":%d,"conditions":[%s]}}`,
		name, generation, release, replicas, observed, total, updated, available, available, conditions)
}

// healthyWorkloads answers each add-on namespace with one rolled-out
// Deployment per release there, plus coredns, which no release made.
func healthyWorkloads(r *proctest.Runner, override map[string]string) {
	byNS := map[string][]string{}
	var order []string
	for _, c := range addons.Charts() {
		if _, ok := byNS[c.Namespace]; !ok {
			order = append(order, c.Namespace)
			byNS[c.Namespace] = []string{deployment("", "coredns", 1, 1, 2, 2, 2, 2, "")}
		}
		d := deployment(c.Release, c.Release, 3, 3, 2, 2, 2, 2, `{"type":"Available","status":"True"}`)
		if o, ok := override[c.Release]; ok {
			d = o
		}
		if d != "" {
			byNS[c.Namespace] = append(byNS[c.Namespace], d)
		}
	}
	for _, ns := range order {
		r.Expect(`kubectl get deployments,statefulsets,daemonsets --namespace ` + ns + ` -o json`).Stdout(workloadsJSON(byNS[ns]...))
	}
}

// The add-on workloads row follows `kubectl rollout status`: it passes when
// every workload each release made (found by Helm's release annotation,
// not by the chart's labels; coredns, made by no release, is not counted)
// has rolled out, and fails naming the release, the workload and why, for
// each way a rollout is unfinished, for a release that made none, and for
// a failed read. StatefulSets and DaemonSets are judged by their own rules.
func TestAddonWorkloadsRow(t *testing.T) {
	t.Parallel()
	lbc := addons.Charts()[0].Release
	deadline := `{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded"}`
	for _, tc := range []struct {
		name     string
		override map[string]string
		status   Status
		detail   string
	}{
		{"rolled out", nil, Passed, lbc + " (1)"},
		{"spec not observed", map[string]string{lbc: deployment(lbc, lbc, 4, 3, 2, 2, 2, 2, "")}, Failed, lbc + " deployment/" + lbc + ": its controller has not observed its latest spec"},
		{"new replicas not updated", map[string]string{lbc: deployment(lbc, lbc, 3, 3, 2, 2, 1, 1, "")}, Failed, "1 of 2 new replicas updated"},
		{"old replica left", map[string]string{lbc: deployment(lbc, lbc, 3, 3, 2, 3, 2, 2, "")}, Failed, "1 old replicas pending termination"},
		{"updated but unavailable (crash loop, image pull)", map[string]string{lbc: deployment(lbc, lbc, 3, 3, 2, 2, 2, 0, "")}, Failed, "0 of 2 updated replicas available"},
		{"progress deadline", map[string]string{lbc: deployment(lbc, lbc, 3, 3, 2, 2, 2, 2, deadline)}, Failed, "exceeded its progress deadline"},
		{"no replicas field is one", map[string]string{lbc: strings.Replace(deployment(lbc, lbc, 1, 1, 0, 0, 0, 0, ""), `"spec":{"replicas":0}`, `"spec":{}`, 1)}, Failed, "0 of 1 new replicas updated"},
		{"scaled to zero", map[string]string{lbc: deployment(lbc, lbc, 1, 1, 0, 0, 0, 0, "")}, Passed, lbc + " (1)"},
		{"release made none", map[string]string{lbc: ""}, Failed, lbc + " made no Deployment, StatefulSet or DaemonSet in namespace kube-system"},
		{"statefulset not ready", map[string]string{lbc: `{"kind":"StatefulSet","metadata":{"name":"s","generation":1,"annotations":{"meta.helm.sh/release-name":"` + lbc + `"}},` +
			`"spec":{"replicas":3},"status":{"observedGeneration":1,"readyReplicas":2,"currentRevision":"s-1","updateRevision":"s-1"}}`}, Failed, "statefulset/s: 2 of 3 pods ready"},
		{"statefulset mid-update", map[string]string{lbc: `{"kind":"StatefulSet","metadata":{"name":"s","generation":2,"annotations":{"meta.helm.sh/release-name":"` + lbc + `"}},` +
			`"spec":{"replicas":1},"status":{"observedGeneration":2,"readyReplicas":1,"currentRevision":"s-1","updateRevision":"s-2"}}`}, Failed, "rolling update to revision s-2 is not finished"},
		{"daemonset unavailable", map[string]string{lbc: `{"kind":"DaemonSet","metadata":{"name":"d","generation":1,"annotations":{"meta.helm.sh/release-name":"` + lbc + `"}},` +
			`"status":{"observedGeneration":1,"desiredNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":2}}`}, Failed, "daemonset/d: 2 of 3 updated pods available"},
		{"daemonset rolled out", map[string]string{lbc: `{"kind":"DaemonSet","metadata":{"name":"d","generation":1,"annotations":{"meta.helm.sh/release-name":"` + lbc + `"}},` +
			`"status":{"observedGeneration":1,"desiredNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":3}}`}, Passed, lbc + " (1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := proctest.New(t)
			healthyWorkloads(r, tc.override)
			c := AddonWorkloads(context.Background(), Kube{Runner: r, Kubectl: "kubectl"})
			if c.ID != "addon-workloads" || c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("got %+v, want %s with %q", c, tc.status, tc.detail)
			}
			if c.Status == Failed && c.Next == "" {
				t.Error("a failed row names what to look at")
			}
			if c.Status == Passed && strings.Contains(c.Detail, "coredns") {
				t.Errorf("a workload no release made is counted: %q", c.Detail)
			}
		})
	}
	t.Run("read fails", func(t *testing.T) {
		t.Parallel()
		r := proctest.New(t)
		for _, ns := range []string{"kube-system", "external-secrets", "external-dns", "reloader"} {
			r.Expect(`kubectl get deployments,statefulsets,daemonsets --namespace ` + ns + ` -o json`).Exit(1).Stdout("Error from server (Forbidden)")
		}
		c := AddonWorkloads(context.Background(), Kube{Runner: r, Kubectl: "kubectl"})
		if c.Status != Failed || !strings.Contains(c.Detail, "metrics-server: ") {
			t.Errorf("got %+v, want failed for every release", c)
		}
	})
}
