// Package charts builds, for tests, Helm charts of the same shape as the
// upstream charts bootstrap pins (addons.Charts), and runs the admission
// webhook their webhook configurations call. The upstream chart
// repositories cannot be reached from the test machines; README.md says
// what each chart mirrors and where a test double differs. Never part of
// the binary.
package charts

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/addons"
)

//go:embed all:aws-load-balancer-controller all:external-secrets all:metrics-server
var files embed.FS

// Options shape the charts Build writes.
type Options struct {
	// WebhookURL is the base URL every admission webhook of the charts calls
	// (each adds its path), and WebhookCA the PEM certificate its TLS
	// certificate is checked against: a Webhook's.
	WebhookURL string
	WebhookCA  []byte
	// Broken names a release whose chart also holds a Deployment no node can
	// take (its pods ask for a node label none has), so `helm --wait` times
	// out: a failure in the middle of a run.
	Broken string
}

// defaults are the charts' values.yaml: the upstream defaults of the keys
// the templates read.
func defaults(c addons.Chart, o Options) map[string]any {
	hook := map[string]any{"url": o.WebhookURL, "caBundle": string(o.WebhookCA)}
	switch c.Release {
	case addons.LoadBalancerController.Release:
		return map[string]any{
			"clusterName":                "",
			"region":                     "",
			"vpcId":                      "",
			"replicaCount":               2,
			"podDisruptionBudget":        map[string]any{},
			"serviceAccount":             map[string]any{"create": true, "name": "", "annotations": map[string]any{}},
			"createIngressClassResource": true,
			"ingressClass":               "alb",
			"testWebhook":                hook,
		}
	case addons.ExternalSecrets.Release:
		pdb := map[string]any{"enabled": false, "minAvailable": 1}
		return map[string]any{
			"installCRDs":         true,
			"replicaCount":        1,
			"leaderElect":         false,
			"podDisruptionBudget": pdb,
			"serviceAccount":      map[string]any{"create": true, "name": "", "annotations": map[string]any{}},
			"webhook":             map[string]any{"create": true, "replicaCount": 1, "failurePolicy": "Fail", "podDisruptionBudget": pdb},
			"certController":      map[string]any{"create": true, "replicaCount": 1, "podDisruptionBudget": pdb},
			"testWebhook":         hook,
		}
	case addons.MetricsServer.Release:
		return map[string]any{
			"replicas":            1,
			"podDisruptionBudget": map[string]any{"enabled": false, "minAvailable": nil, "maxUnavailable": nil},
			// Upstream's default is true; see README.md.
			"apiService": map[string]any{"create": false},
		}
	}
	return nil
}

// unschedulable is the Deployment of a Broken chart.
const unschedulable = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-unschedulable
  namespace: {{ .Release.Namespace }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .Release.Name }}-unschedulable
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .Release.Name }}-unschedulable
    spec:
      nodeSelector:
        bootstrap.test/no-such-node: "true"
      containers:
      - name: never
        image: registry.k8s.io/pause:3.10
`

// Build writes the three charts under dir, each at dir/<release> with the
// name and version of its pin, and returns the Source that installs them.
func Build(dir string, o Options) (addons.Source, error) {
	src := addons.Source{Local: map[string]string{}}
	for _, c := range addons.Charts {
		out := filepath.Join(dir, c.Release)
		if err := os.RemoveAll(out); err != nil {
			return src, err
		}
		err := fs.WalkDir(files, c.Release, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			dst := filepath.Join(dir, filepath.FromSlash(p))
			if d.IsDir() {
				return os.MkdirAll(dst, 0o755)
			}
			data, err := files.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		})
		if err != nil {
			return src, fmt.Errorf("writing chart %s: %w", c.Release, err)
		}
		meta, err := yaml.Marshal(map[string]any{
			"apiVersion":  "v2",
			"name":        c.Chart,
			"version":     c.Version,
			"appVersion":  c.AppVersion,
			"description": "Test double of the upstream " + c.Chart + " chart (test/charts)",
			"type":        "application",
		})
		if err != nil {
			return src, err
		}
		values, err := yaml.Marshal(defaults(c, o))
		if err != nil {
			return src, err
		}
		if err := os.WriteFile(filepath.Join(out, "Chart.yaml"), meta, 0o644); err != nil {
			return src, err
		}
		if err := os.WriteFile(filepath.Join(out, "values.yaml"), values, 0o644); err != nil {
			return src, err
		}
		if o.Broken == c.Release {
			if err := os.WriteFile(filepath.Join(out, "templates", "unschedulable.yaml"), []byte(unschedulable), 0o644); err != nil {
				return src, err
			}
		}
		src.Local[c.Release] = out
	}
	return src, nil
}

// CRDFiles are the real External Secrets CRDs the external-secrets chart
// installs, by file name.
func CRDFiles() (map[string][]byte, error) {
	out := map[string][]byte{}
	dir := path.Join(addons.ExternalSecrets.Release, "files", "crds")
	entries, err := files.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := files.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = b
	}
	return out, nil
}
