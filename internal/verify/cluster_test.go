package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
	"github.com/sovd/bootstrap/internal/testenv"
)

// TestVerifyOnLocalControlPlane runs the cluster checks against a real
// control plane of the test's own (API server, controller-manager with the
// Job controller, scheduler, kwok), with the real External Secrets CRD,
// and the in-cluster Job against a real PostgreSQL (TLS) and Redis (TLS,
// AUTH) on loopback.
//
// The local control plane has no kubelet (kwok's fake nodes run nothing),
// so the test plays two parts, and says so here:
//   - the kubelet of one node of its own ("verify-kubelet"; the kwok node
//     is cordoned so the scheduler binds the Job's pod there): for each
//     container of the pod it runs the container's own command (sh -c
//     <the generated script> verify <group>) on this machine, with the
//     environment the pod's envFrom names (the Secret's data), and writes
//     the pod's status as a kubelet does: phase Succeeded, each container
//     terminated with its termination message (the results file);
//   - External Secrets' controller: it writes the app's Secret and the
//     ExternalSecret's Ready condition, as the operator does on a sync.
//
// Every check of the cluster passes on the healthy set-up; a node NotReady,
// the Secret not synced and a wrong database password each fail their own
// rows; without the app's service account (the app not deployed) the
// in-cluster rows are skipped and no Job is made.
func TestVerifyOnLocalControlPlane(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	t.Parallel()
	tl := needTools(t)
	kc := testenv.OwnKube(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testenv.Missing(t, "kubectl", err.Error())
	}
	ctx := context.Background()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ca, cert, key := makeCerts(t, dir)
	pg := startPostgres(t, tl, dir, cert, key)
	redis := startRedis(t, tl, dir, ca, cert, key, "t0k:en/1")

	p := config.Builtin("staging")
	ns := p.App.Namespace
	k := Kube{Runner: &proc.Exec{Log: &bytes.Buffer{}}, Kubectl: kubectl, Kubeconfig: kc}
	kube := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(kubectl, append(args, "--kubeconfig", kc)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	status := func(kind, name, namespace, patch string) {
		t.Helper()
		args := []string{"patch", kind, name, "--subresource=status", "--type=merge", "-p", patch}
		if namespace != "" {
			args = append(args, "-n", namespace)
		}
		kube("", args...)
	}

	// The app's namespace and service account, the real ExternalSecret CRD.
	kube("", "create", "namespace", ns)
	kube("", "create", "serviceaccount", p.App.ServiceAccount, "-n", ns)
	root := repoRoot(t)
	kube("", "apply", "-f", filepath.Join(root, "test/charts/external-secrets/files/crds/external-secrets.io_externalsecrets.yaml"))
	kube("", "wait", "--for=condition=Established", "crd/externalsecrets.external-secrets.io", "--timeout=30s")

	// The node the test plays the kubelet of; the kwok node cordoned.
	for _, n := range strings.Fields(kube("", "get", "nodes", "-o", "name")) {
		kube("", "cordon", n)
	}
	kube(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"verify-kubelet","labels":{"kubernetes.io/os":"linux","kubernetes.io/hostname":"verify-kubelet"}}}`, "apply", "-f", "-")
	heartbeat := func(ready string) {
		now := time.Now().UTC().Format(time.RFC3339)
		status("node", "verify-kubelet", "", fmt.Sprintf(`{"status":{"allocatable":{"cpu":"4","memory":"8Gi","pods":"10"},"capacity":{"cpu":"4","memory":"8Gi","pods":"10"},`+
			`"conditions":[{"type":"Ready","status":%q,"reason":"KubeletReady","lastHeartbeatTime":%q,"lastTransitionTime":%q}]}}`, ready, now, now))
	}
	heartbeat("True")

	// External Secrets' part: the Secret and the ExternalSecret's status.
	dbURL := func(pass string) string {
		return fmt.Sprintf("postgresql://sovd_admin:%s@127.0.0.1:%d/sovd_test?sslmode=require", url.QueryEscape(pass), pg.port)
	}
	secretData := map[string]string{}
	sync := func(data map[string]string, ready string) {
		t.Helper()
		secretData = data
		b, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": addons.AppSecretName, "namespace": ns}, "stringData": data, "data": nil})
		kube("", "delete", "secret", addons.AppSecretName, "-n", ns, "--ignore-not-found")
		kube(string(b), "apply", "-f", "-")
		kube(fmt.Sprintf(`{"apiVersion":"external-secrets.io/v1","kind":"ExternalSecret","metadata":{"name":%q,"namespace":%q},`+
			`"spec":{"secretStoreRef":{"kind":"ClusterSecretStore","name":%q},"target":{"name":%q},"dataFrom":[{"extract":{"key":"%s/database"}}]}}`,
			addons.AppSecretName, ns, addons.SecretStoreName, addons.AppSecretName, p.Secrets.Prefix), "apply", "-f", "-")
		status("externalsecret", addons.AppSecretName, ns, fmt.Sprintf(`{"status":{"conditions":[{"type":"Ready","status":%q,"reason":"SecretSynced","message":"Secret was synced"}]}}`, ready))
	}
	healthy := map[string]string{"DATABASE_URL": dbURL("p@ss:w/rd#1"), "REDIS_URL": fmt.Sprintf("rediss://:t0k%%3Aen%%2F1@localhost:%d/0", redis.tlsPort), "JWT_SECRET": "jwt"}
	sync(healthy, "True")

	// The kubelet's part, for the Job's pod bound to verify-kubelet.
	kubelet := func(ctx context.Context) {
		for ctx.Err() == nil {
			out, err := exec.Command(kubectl, "get", "pods", "-n", ns, "--field-selector", "spec.nodeName=verify-kubelet,status.phase=Pending", "-o", "json", "--kubeconfig", kc).Output()
			if err != nil {
				return
			}
			var l struct {
				Items []struct {
					Metadata struct{ Name string }
					Spec     struct {
						Containers []struct {
							Name    string
							Command []string
							EnvFrom []struct {
								SecretRef struct{ Name string } `json:"secretRef"`
							} `json:"envFrom"`
						}
					}
				}
			}
			_ = json.Unmarshal(out, &l)
			for _, pod := range l.Items {
				var statuses []string
				for _, c := range pod.Spec.Containers {
					if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != addons.AppSecretName {
						t.Errorf("container %s: envFrom %+v, want the app's Secret", c.Name, c.EnvFrom)
					}
					results := filepath.Join(t.TempDir(), "termination-log")
					cmd := exec.Command(c.Command[0], c.Command[1:]...)
					cmd.Env = append(os.Environ(), "VERIFY_RESULTS="+results, "VERIFY_CA_FILE="+ca, "VERIFY_TIMEOUT=3", "PGPASSFILE=/dev/null")
					for k, v := range secretData {
						cmd.Env = append(cmd.Env, k+"="+v)
					}
					_ = cmd.Run()
					msg, _ := os.ReadFile(results)
					now := time.Now().UTC().Format(time.RFC3339)
					b, _ := json.Marshal(map[string]any{"name": c.Name, "ready": false, "restartCount": 0, "image": "x", "imageID": "", "state": map[string]any{
						"terminated": map[string]any{"exitCode": 0, "reason": "Completed", "message": string(msg), "startedAt": now, "finishedAt": now}}})
					statuses = append(statuses, string(b))
				}
				_ = exec.Command(kubectl, "patch", "pod", pod.Metadata.Name, "-n", ns, "--subresource=status", "--type=merge", "--kubeconfig", kc,
					"-p", `{"status":{"phase":"Succeeded","containerStatuses":[`+strings.Join(statuses, ",")+`]}}`).Run()
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	kctx, stop := context.WithCancel(ctx)
	defer stop()
	go kubelet(kctx)

	o := Options{Kube: k, Poll: 300 * time.Millisecond, JobTimeout: 90 * time.Second}
	run := func(what string) map[string]Check {
		t.Helper()
		heartbeat("True")
		rows := []Check{APIServer(ctx, k), Nodes(ctx, k), ExternalSecret(ctx, k, p), AppSecret(ctx, k, p)}
		o.JobName = "bootstrap-verify-" + strings.ReplaceAll(what, " ", "-")
		rows = append(rows, InCluster(ctx, o, p, t.TempDir())...)
		got := map[string]Check{}
		for _, r := range rows {
			got[r.ID] = r
		}
		return got
	}
	expect := func(what string, got map[string]Check, failing ...string) {
		t.Helper()
		for id, c := range got {
			want := Passed
			for _, f := range failing {
				if f == id {
					want = Failed
				}
			}
			if c.Status != want {
				t.Errorf("%s: %s is %s (%s), want %s", what, id, c.Status, c.Detail, want)
			}
			if c.Status == Failed && c.Next == "" {
				t.Errorf("%s: %s failed without naming what to look at", what, id)
			}
			if strings.Contains(c.Detail, "p@ss") || strings.Contains(c.Detail, "t0k") {
				t.Errorf("%s: %s's detail carries a secret: %s", what, id, c.Detail)
			}
		}
	}

	got := run("healthy")
	if len(got) != 8 {
		t.Fatalf("rows: %v", got)
	}
	expect("healthy", got)
	// The Job is deleted afterwards, its pod with it.
	waitGone(t, func() string {
		return kube("", "get", "jobs,pods", "-n", ns, "-l", "app.kubernetes.io/component=verify", "-o", "name")
	})

	// The app not deployed yet: its chart makes the service account the Job
	// runs as. Without it the in-cluster rows are skipped at once, with the
	// reason, and no Job is made (here another account name, so the rest of
	// the test keeps the one created above).
	undeployed := *p
	undeployed.App.ServiceAccount = "sovd-webapp-not-deployed-sa"
	o.JobName = "bootstrap-verify-no-sa"
	start := time.Now()
	skippedRows := InCluster(ctx, o, &undeployed, t.TempDir())
	if len(skippedRows) == 0 {
		t.Errorf("no service account: no rows")
	}
	for _, c := range skippedRows {
		if c.Status != Skipped || !strings.Contains(c.Detail, "the service account "+ns+"/sovd-webapp-not-deployed-sa does not exist yet: deploy the app first") {
			t.Errorf("no service account: %s is %s (%s), want skipped", c.ID, c.Status, c.Detail)
		}
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("no service account: the rows took %s to skip", d)
	}
	if jobs := kube("", "get", "jobs", "-n", ns, "-o", "name"); strings.Contains(jobs, "bootstrap-verify-no-sa") {
		t.Errorf("no service account: a Job was made: %s", jobs)
	}

	// Wrong database password: only the TLS connection fails.
	sync(map[string]string{"DATABASE_URL": dbURL("wrong-pass"), "REDIS_URL": healthy["REDIS_URL"], "JWT_SECRET": "jwt"}, "True")
	expect("wrong password", run("wrong password"), PostgresTLS)
	sync(healthy, "True")

	// The secret not synced: the ExternalSecret not Ready and the Secret
	// without REDIS_URL; the in-cluster checks read it, so here they are
	// run alone to show what the Job then sees.
	sync(map[string]string{"DATABASE_URL": healthy["DATABASE_URL"], "JWT_SECRET": "jwt"}, "False")
	es, sec := ExternalSecret(ctx, k, p), AppSecret(ctx, k, p)
	if es.Status != Failed || !strings.Contains(es.Detail, "Ready=False") || sec.Status != Failed || !strings.Contains(sec.Detail, "REDIS_URL") {
		t.Errorf("not synced: %+v\n%+v", es, sec)
	}
	sync(healthy, "True")

	// A node NotReady.
	heartbeat("False")
	if n := Nodes(ctx, k); n.Status != Failed || !strings.Contains(n.Detail, "verify-kubelet (Ready=False)") {
		t.Errorf("node NotReady: %+v", n)
	}
	heartbeat("True")
	if n := Nodes(ctx, k); n.Status != Passed {
		t.Errorf("node Ready again: %+v", n)
	}
}

// TestDNSAndHTTPS: the domain resolving to the load balancer, and HTTPS
// with a certificate valid for the domain (a real TLS server on loopback,
// its certificate from a CA of the test's own); the DNS record missing and
// a certificate for another name each fail their row.
func TestDNSAndHTTPS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs openssl")
	}
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is missing")
	}
	ctx := context.Background()
	dir := t.TempDir()
	ca, cert, key := makeCerts(t, dir) // valid for localhost and 127.0.0.1
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pem, _ := os.ReadFile(ca)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	records := map[string][]string{"k8s-lb.elb.amazonaws.com": {"192.0.2.10"}, "localhost": {"192.0.2.10"}}
	n := Net{
		LookupHost: func(_ context.Context, host string) ([]string, error) {
			if a, ok := records[host]; ok {
				return a, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		},
		DialTLS: func(ctx context.Context, host string) (*x509.Certificate, error) {
			d := tls.Dialer{Config: &tls.Config{ServerName: host, RootCAs: roots}}
			c, err := d.DialContext(ctx, "tcp", l.Addr().String())
			if err != nil {
				return nil, err
			}
			defer c.Close()
			return c.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
		},
	}
	if c := checkDNS(ctx, n, "localhost", "k8s-lb.elb.amazonaws.com"); c.Status != Passed {
		t.Errorf("dns: %+v", c)
	}
	if c := checkHTTPS(ctx, n, "localhost"); c.Status != Passed || !strings.Contains(c.Detail, "localhost") {
		t.Errorf("https: %+v", c)
	}
	// The record missing.
	delete(records, "localhost")
	if c := checkDNS(ctx, n, "localhost", "k8s-lb.elb.amazonaws.com"); c.Status != Failed || !strings.Contains(c.Detail, "resolving localhost") || c.Next == "" {
		t.Errorf("dns record missing: %+v", c)
	}
	// A record pointing elsewhere.
	records["localhost"] = []string{"198.51.100.7"}
	if c := checkDNS(ctx, n, "localhost", "k8s-lb.elb.amazonaws.com"); c.Status != Failed || !strings.Contains(c.Detail, "the load balancer to 192.0.2.10") {
		t.Errorf("dns elsewhere: %+v", c)
	}
	// A certificate not valid for the name.
	if c := checkHTTPS(ctx, n, "sovd.example.com"); c.Status != Failed || c.Next == "" || !strings.Contains(c.Detail, "certificate is valid for localhost, not sovd.example.com") {
		t.Errorf("https other name: %+v", c)
	}
}

func waitGone(t *testing.T, list func() string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if strings.TrimSpace(list()) == "" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("the verify Job is still there: %s", list())
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
