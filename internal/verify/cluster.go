package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc"
)

// The pinned images the Job's containers run the script in: psql from
// PostgreSQL's and redis-cli from Redis's official images, at the majors
// of the data tier (PostgreSQL 15, Redis 7). Both ship the system CA
// bundle, which holds ElastiCache's CA.
const (
	PostgresImage = "docker.io/library/postgres:15.13-alpine"
	RedisImage    = "docker.io/library/redis:7.4.5-alpine"
)

// Kube runs kubectl and helm for the checks, through the one Runner (so
// what runs is logged and its secrets redacted). Output that is data is
// returned; output that could hold a secret is never asked for (the
// Secret's keys are listed by a template that prints no value).
type Kube struct {
	Runner     proc.Runner
	Kubectl    string
	Helm       string
	Kubeconfig string
}

func (k Kube) kubectl(ctx context.Context, args ...string) ([]byte, error) {
	var out bytes.Buffer
	if k.Kubeconfig != "" {
		args = append(args, "--kubeconfig", k.Kubeconfig)
	}
	err := k.Runner.Run(ctx, proc.Cmd{Name: k.Kubectl, Args: args, Stdout: &out})
	return out.Bytes(), err
}

func (k Kube) helm(ctx context.Context, args ...string) ([]byte, error) {
	var out bytes.Buffer
	if k.Kubeconfig != "" {
		args = append(args, "--kubeconfig", k.Kubeconfig)
	}
	err := k.Runner.Run(ctx, proc.Cmd{Name: k.Helm, Args: args, Stdout: &out})
	return out.Bytes(), err
}

// Options are what the cluster checks need beside the profile.
type Options struct {
	Kube Kube
	// JobTimeout bounds the wait for the in-cluster Job; zero is 3 minutes.
	JobTimeout time.Duration
	// Poll is the interval of that wait; zero is 2 s.
	Poll time.Duration
	// JobName is the Job's name; "" is bootstrap-verify-<unix time>.
	JobName string
	// Now is the clock.
	Now func() time.Time
}

func row(id, name string, err error, detail, next string) Check {
	if err != nil {
		return Check{ID: id, Name: name, Status: Failed, Detail: err.Error(), Next: next}
	}
	return Check{ID: id, Name: name, Status: Passed, Detail: detail}
}

// APIServer: the API server answers /readyz.
func APIServer(ctx context.Context, k Kube) Check {
	out, err := k.kubectl(ctx, "get", "--raw", "/readyz")
	if err == nil && strings.TrimSpace(string(out)) != "ok" {
		err = fmt.Errorf("/readyz answered %q", strings.TrimSpace(string(out)))
	}
	return row("api-server", "The API server answers", err, "/readyz ok",
		"the kubeconfig (bootstrap addons writes it), the cluster's endpoint access and aws eks describe-cluster")
}

type nodeList struct {
	Items []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Status struct {
			Conditions []struct {
				Type   string `json:"type"`
				Status string `json:"status"`
				Reason string `json:"reason"`
			} `json:"conditions"`
		} `json:"status"`
	} `json:"items"`
}

// Nodes: every node is Ready, and there is at least one.
func Nodes(ctx context.Context, k Kube) Check {
	const id, name, next = "nodes-ready", "Every node is Ready", "kubectl describe node <name> (its conditions and events) and the node group in aws eks describe-nodegroup"
	out, err := k.kubectl(ctx, "get", "nodes", "-o", "json")
	if err != nil {
		return row(id, name, err, "", next)
	}
	var l nodeList
	if err := json.Unmarshal(out, &l); err != nil {
		return row(id, name, fmt.Errorf("reading the node list: %w", err), "", next)
	}
	var bad []string
	for _, n := range l.Items {
		ready := "no Ready condition"
		for _, c := range n.Status.Conditions {
			if c.Type == "Ready" {
				ready = "Ready=" + c.Status
				if c.Status == "True" {
					ready = ""
				}
			}
		}
		if ready != "" {
			bad = append(bad, n.Metadata.Name+" ("+ready+")")
		}
	}
	switch {
	case len(l.Items) == 0:
		err = fmt.Errorf("the cluster has no nodes")
	case len(bad) > 0:
		err = fmt.Errorf("not Ready: %s", strings.Join(bad, ", "))
	}
	return row(id, name, err, fmt.Sprintf("%d nodes Ready", len(l.Items)), next)
}

// HelmAddons: each pinned release is deployed at its pinned chart. It reads
// `helm list --output json`, whose chart column is chart-version (the pin's
// NameVersion), as the add-ons phase does: `helm status -o json` of helm
// 3.22 carries no chart (measured: name, info, manifest, version,
// namespace), so a release at another version would pass on it.
func HelmAddons(ctx context.Context, k Kube) Check {
	const id, name = "helm-addons", "The Helm add-ons are deployed at their pinned versions"
	var bad, good []string
	for _, c := range addons.Charts() {
		out, err := k.helm(ctx, "list", "--namespace", c.Namespace, "--filter", "^"+c.Release+"$", "--all", "--output", "json")
		if err != nil {
			bad = append(bad, c.Release+": "+err.Error())
			continue
		}
		rel, err := addons.ParseList(c, out)
		switch {
		case err != nil:
			bad = append(bad, c.Release+": "+err.Error())
		case rel == nil:
			bad = append(bad, fmt.Sprintf("%s is not installed in namespace %s", c.Release, c.Namespace))
		case rel.Status != addons.StatusDeployed:
			bad = append(bad, fmt.Sprintf("%s is %s (revision %s)", c.Release, rel.Status, rel.Revision))
		case rel.Chart != c.NameVersion():
			bad = append(bad, fmt.Sprintf("%s is chart %s, pinned %s", c.Release, strings.TrimPrefix(rel.Chart, c.Chart+"-"), c.Version))
		default:
			good = append(good, c.Release+" "+c.Version)
		}
	}
	var err error
	if len(bad) > 0 {
		err = fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return row(id, name, err, strings.Join(good, ", "), "helm history <release> -n <namespace>, and bootstrap addons to converge")
}

// ReleaseAnnotation is the annotation Helm 3 writes on every object a
// release makes (helm's pkg/action, setMetadataVisitor: meta.helm.sh/
// release-name and release-namespace, read back when it adopts objects), so
// a release's workloads are found whatever labels its chart chooses.
const ReleaseAnnotation = "meta.helm.sh/release-name"

// workload is the part of a Deployment, StatefulSet or DaemonSet the
// availability check reads (apps/v1; spec.replicas absent is 1).
type workload struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Generation  int64             `json:"generation"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Replicas *int32 `json:"replicas"`
	} `json:"spec"`
	Status struct {
		ObservedGeneration int64 `json:"observedGeneration"`
		Conditions         []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"conditions"`
		// Deployment and StatefulSet.
		Replicas          int32  `json:"replicas"`
		UpdatedReplicas   int32  `json:"updatedReplicas"`
		AvailableReplicas int32  `json:"availableReplicas"`
		ReadyReplicas     int32  `json:"readyReplicas"`
		CurrentRevision   string `json:"currentRevision"`
		UpdateRevision    string `json:"updateRevision"`
		// DaemonSet.
		DesiredNumberScheduled int32 `json:"desiredNumberScheduled"`
		UpdatedNumberScheduled int32 `json:"updatedNumberScheduled"`
		NumberAvailable        int32 `json:"numberAvailable"`
	} `json:"status"`
}

// unavailable says why a workload has not finished rolling out its current
// spec, "" when it has, by the rules of `kubectl rollout status` (kubectl's
// pkg/polymorphichelpers/rollout_status.go, the status viewers of each
// kind): first the controller must have observed the latest generation;
// then a Deployment must not be past its progress deadline, have every
// wanted replica updated, no old replica left and every updated replica
// available; a StatefulSet every wanted replica ready and its update
// revision current; a DaemonSet every scheduled pod updated and available.
func (w workload) unavailable() string {
	st := w.Status
	if w.Metadata.Generation > st.ObservedGeneration {
		return "its controller has not observed its latest spec"
	}
	want := int32(1)
	if w.Spec.Replicas != nil {
		want = *w.Spec.Replicas
	}
	switch w.Kind {
	case "Deployment":
		for _, c := range st.Conditions {
			if c.Type == "Progressing" && c.Reason == "ProgressDeadlineExceeded" {
				return "it exceeded its progress deadline"
			}
		}
		switch {
		case st.UpdatedReplicas < want:
			return fmt.Sprintf("%d of %d new replicas updated", st.UpdatedReplicas, want)
		case st.Replicas > st.UpdatedReplicas:
			return fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas)
		case st.AvailableReplicas < st.UpdatedReplicas:
			return fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, st.UpdatedReplicas)
		}
	case "StatefulSet":
		switch {
		case st.ReadyReplicas < want:
			return fmt.Sprintf("%d of %d pods ready", st.ReadyReplicas, want)
		case st.UpdateRevision != st.CurrentRevision:
			return "its rolling update to revision " + st.UpdateRevision + " is not finished"
		}
	case "DaemonSet":
		switch {
		case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
			return fmt.Sprintf("%d of %d updated pods scheduled", st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
		case st.NumberAvailable < st.DesiredNumberScheduled:
			return fmt.Sprintf("%d of %d updated pods available", st.NumberAvailable, st.DesiredNumberScheduled)
		}
	}
	return ""
}

// AddonWorkloads: every Deployment, StatefulSet and DaemonSet each Helm
// add-on's release made is available at its current spec, the way
// `kubectl rollout status` judges it; a release that made none fails (its
// chart always makes one). A release deployed at its pin (HelmAddons) whose
// pods crash, cannot pull their image or cannot be scheduled passes that
// row and fails this one.
func AddonWorkloads(ctx context.Context, k Kube) Check {
	const id, name = "addon-workloads", "The Helm add-ons' workloads are available"
	type read struct {
		items []workload
		err   error
	}
	byNS := map[string]read{} // one read per namespace: two add-ons share kube-system
	var bad, good []string
	for _, c := range addons.Charts() {
		r, seen := byNS[c.Namespace]
		if !seen {
			var out []byte
			out, r.err = k.kubectl(ctx, "get", "deployments,statefulsets,daemonsets", "--namespace", c.Namespace, "-o", "json")
			if r.err == nil {
				var l struct {
					Items []workload `json:"items"`
				}
				if err := json.Unmarshal(out, &l); err != nil {
					r.err = fmt.Errorf("reading the workloads of namespace %s: %w", c.Namespace, err)
				}
				r.items = l.Items
			}
			byNS[c.Namespace] = r
		}
		if r.err != nil {
			bad = append(bad, c.Release+": "+r.err.Error())
			continue
		}
		n := 0
		for _, w := range r.items {
			if w.Metadata.Annotations[ReleaseAnnotation] != c.Release {
				continue
			}
			n++
			if why := w.unavailable(); why != "" {
				bad = append(bad, fmt.Sprintf("%s %s/%s: %s", c.Release, strings.ToLower(w.Kind), w.Metadata.Name, why))
			}
		}
		if n == 0 {
			bad = append(bad, fmt.Sprintf("%s made no Deployment, StatefulSet or DaemonSet in namespace %s", c.Release, c.Namespace))
			continue
		}
		good = append(good, fmt.Sprintf("%s (%d)", c.Release, n))
	}
	var err error
	if len(bad) > 0 {
		err = fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return row(id, name, err, strings.Join(good, ", "),
		"kubectl describe <kind>/<name> -n <namespace> and its pods' events (image pulls, scheduling, crash loops), then bootstrap addons to converge")
}

// ExternalSecret: the app's ExternalSecret is Ready.
func ExternalSecret(ctx context.Context, k Kube, p *config.Profile) Check {
	const id, name = "external-secret", "External Secrets has synced the app's secret (ExternalSecret Ready)"
	next := "kubectl describe externalsecret " + addons.AppSecretName + " -n " + p.App.Namespace +
		" (its events), the ClusterSecretStore " + addons.SecretStoreName + " and the secrets under " + p.Secrets.Prefix + "/"
	out, err := k.kubectl(ctx, "get", "externalsecret", addons.AppSecretName, "--namespace", p.App.Namespace, "-o", "json")
	if err != nil {
		return row(id, name, err, "", next)
	}
	var es struct {
		Status struct {
			Conditions []struct {
				Type, Status, Reason, Message string
			} `json:"conditions"`
		} `json:"status"`
	}
	if err := json.Unmarshal(out, &es); err != nil {
		return row(id, name, err, "", next)
	}
	err = fmt.Errorf("no Ready condition yet")
	for _, c := range es.Status.Conditions {
		if c.Type == "Ready" {
			err = nil
			if c.Status != "True" {
				err = fmt.Errorf("Ready=%s (%s): %s", c.Status, c.Reason, c.Message)
			}
		}
	}
	return row(id, name, err, "Ready", next)
}

// AppSecretKeys are the keys the app reads from its Secret.
var AppSecretKeys = []string{"DATABASE_URL", "REDIS_URL", "JWT_SECRET"}

// AppSecret: the Secret holds the three keys, each non-empty. The values
// never leave kubectl: its template prints the names of the non-empty keys.
func AppSecret(ctx context.Context, k Kube, p *config.Profile) Check {
	const id, name = "app-secret", "The app's Secret holds DATABASE_URL, REDIS_URL and JWT_SECRET"
	next := "the ExternalSecret " + addons.AppSecretName + " in " + p.App.Namespace + " (kubectl describe) and its template's keys"
	out, err := k.kubectl(ctx, "get", "secret", addons.AppSecretName, "--namespace", p.App.Namespace, "-o",
		`go-template={{range $k, $v := .data}}{{if $v}}{{$k}}{{"\n"}}{{end}}{{end}}`)
	if err != nil {
		return row(id, name, err, "", next)
	}
	have := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		have[l] = true
	}
	var missing []string
	for _, key := range AppSecretKeys {
		if !have[key] {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		err = fmt.Errorf("missing or empty: %s", strings.Join(missing, ", "))
	}
	return row(id, name, err, "all three set", next)
}

// MetricsAPI: the metrics API answers with node metrics (kubectl top nodes
// would work), so the HPA can scale.
func MetricsAPI(ctx context.Context, k Kube) Check {
	const id, name, next = "metrics-api", "The metrics API answers (kubectl top nodes)", "kubectl get apiservice v1beta1.metrics.k8s.io and the metrics-server pods in kube-system"
	out, err := k.kubectl(ctx, "get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes")
	if err != nil {
		return row(id, name, err, "", next)
	}
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(out, &l); err != nil {
		return row(id, name, err, "", next)
	}
	if len(l.Items) == 0 {
		err = fmt.Errorf("no node metrics yet")
	}
	return row(id, name, err, fmt.Sprintf("metrics of %d nodes", len(l.Items)), next)
}

// JobManifest is the short-lived Job of the in-cluster checks: in the
// app's namespace, with the app's service account and its Secret as the
// environment, one container per script group; no retry, deleted by
// bootstrap when read (and by the TTL controller after ten minutes if
// bootstrap was stopped first).
func JobManifest(p *config.Profile, name string) ([]byte, error) {
	no, yes := false, true
	var containers []map[string]any
	for _, g := range Groups() {
		image := PostgresImage
		if g == "redis" {
			image = RedisImage
		}
		containers = append(containers, map[string]any{
			"name":                     g,
			"image":                    image,
			"command":                  []string{"sh", "-c", Script(), "verify", g},
			"envFrom":                  []map[string]any{{"secretRef": map[string]any{"name": addons.AppSecretName}}},
			"terminationMessagePolicy": "File",
			"securityContext": map[string]any{
				"runAsNonRoot": yes, "runAsUser": 65534, "allowPrivilegeEscalation": no,
				"readOnlyRootFilesystem": yes, "capabilities": map[string]any{"drop": []string{"ALL"}},
			},
			"resources": map[string]any{"requests": map[string]any{"cpu": "10m", "memory": "32Mi"}, "limits": map[string]any{"memory": "64Mi"}},
		})
	}
	job := map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata": map[string]any{
			"name": name, "namespace": p.App.Namespace,
			"labels": map[string]string{"app.kubernetes.io/managed-by": "bootstrap", "app.kubernetes.io/component": "verify"},
		},
		"spec": map[string]any{
			"backoffLimit":            0,
			"activeDeadlineSeconds":   300,
			"ttlSecondsAfterFinished": 600,
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]string{"app.kubernetes.io/managed-by": "bootstrap", "app.kubernetes.io/component": "verify"}},
				"spec": map[string]any{
					"serviceAccountName": p.App.ServiceAccount,
					"restartPolicy":      "Never",
					"containers":         containers,
				},
			},
		},
	}
	return yaml.Marshal(job)
}

type podList struct {
	Items []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Status struct {
			Phase             string `json:"phase"`
			ContainerStatuses []struct {
				Name  string `json:"name"`
				State struct {
					Terminated *struct {
						ExitCode int    `json:"exitCode"`
						Reason   string `json:"reason"`
						Message  string `json:"message"`
					} `json:"terminated"`
					Waiting *struct {
						Reason  string `json:"reason"`
						Message string `json:"message"`
					} `json:"waiting"`
				} `json:"state"`
			} `json:"containerStatuses"`
		} `json:"status"`
	} `json:"items"`
}

// InCluster runs the script in a Job (JobManifest), waits for its pod to
// finish, reads each container's results from its termination message
// (the pod's status: no kubelet log access needed) and deletes the Job.
//
// The Job runs as the app's service account, which only the app's own chart
// makes. Without it the Job controller cannot create the pod (the
// ServiceAccount admission plugin refuses it) and would retry until the
// timeout, so the account is looked up first: when it is absent the rows
// are skipped at once, with the reason, and no Job is made.
func InCluster(ctx context.Context, o Options, p *config.Profile, dir string) []Check {
	name := o.JobName
	if name == "" {
		name = fmt.Sprintf("bootstrap-verify-%d", o.now().Unix())
	}
	var none []Check
	for _, g := range Groups() {
		none = append(none, ParseResults(g, "")...)
	}
	fail := func(err error) []Check {
		out := make([]Check, len(none))
		for i, c := range none {
			c.Detail = err.Error()
			out[i] = c
		}
		return out
	}
	ns, sa := p.App.Namespace, p.App.ServiceAccount
	// --ignore-not-found: a missing account (or namespace) prints nothing
	// and exits 0; any other failure (RBAC, the API server) is an error.
	out, err := o.Kube.kubectl(ctx, "get", "serviceaccount", sa, "--namespace", ns, "--ignore-not-found", "-o", "name")
	if err != nil {
		return fail(fmt.Errorf("reading the service account %s/%s the Job runs as: %w", ns, sa, err))
	}
	if strings.TrimSpace(string(out)) == "" {
		return skipped(none, fmt.Sprintf("the service account %s/%s does not exist yet: deploy the app first (its chart makes it; the Job runs as it)", ns, sa))
	}
	manifest, err := JobManifest(p, name)
	if err != nil {
		return fail(err)
	}
	path, err := writeFile(dir, name+".yaml", manifest)
	if err != nil {
		return fail(err)
	}
	if _, err := o.Kube.kubectl(ctx, "apply", "-f", path); err != nil {
		return fail(fmt.Errorf("creating the Job %s/%s: %w", p.App.Namespace, name, err))
	}
	defer func() {
		// Foreground: the pod goes with the Job. Not waited for: the rows
		// are read already.
		_, _ = o.Kube.kubectl(context.WithoutCancel(ctx), "delete", "job", name, "--namespace", p.App.Namespace,
			"--cascade=foreground", "--ignore-not-found", "--wait=false")
	}()
	timeout, poll := o.JobTimeout, o.Poll
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	if poll == 0 {
		poll = 2 * time.Second
	}
	deadline := o.now().Add(timeout)
	last := "no pod yet"
	for {
		out, err := o.Kube.kubectl(ctx, "get", "pods", "--namespace", p.App.Namespace, "-l", "job-name="+name, "-o", "json")
		if err != nil {
			return fail(err)
		}
		var l podList
		if err := json.Unmarshal(out, &l); err != nil {
			return fail(err)
		}
		if len(l.Items) > 0 {
			pod := l.Items[0]
			last = "pod " + pod.Metadata.Name + " " + pod.Status.Phase
			for _, cs := range pod.Status.ContainerStatuses {
				if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" {
					last += fmt.Sprintf(", %s %s: %s", cs.Name, w.Reason, w.Message)
				}
			}
			if pod.Status.Phase == "Succeeded" || pod.Status.Phase == "Failed" {
				var rows []Check
				for _, g := range Groups() {
					msg := ""
					for _, cs := range pod.Status.ContainerStatuses {
						if cs.Name == g && cs.State.Terminated != nil {
							msg = cs.State.Terminated.Message
						}
					}
					rows = append(rows, ParseResults(g, msg)...)
				}
				return rows
			}
		}
		if o.now().After(deadline) {
			return fail(fmt.Errorf("the Job %s/%s did not finish in %s (%s): kubectl describe job %s -n %s",
				p.App.Namespace, name, timeout, last, name, p.App.Namespace))
		}
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(poll):
		}
	}
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// skipped marks rows skipped, with the reason.
func skipped(rows []Check, reason string) []Check {
	out := make([]Check, len(rows))
	for i, r := range rows {
		out[i] = Check{ID: r.ID, Name: r.Name, Status: Skipped, Detail: reason}
	}
	return out
}

// AnyFailed reports whether any row failed.
func AnyFailed(rows []Check) bool {
	for _, r := range rows {
		if r.Status == Failed {
			return true
		}
	}
	return false
}
