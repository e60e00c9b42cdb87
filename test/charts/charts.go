// Package charts builds, for tests, Helm charts of the same shape as the
// upstream charts bootstrap pins (addons.All), and runs the admission
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

// files are the test charts, one directory per add-on named after its
// release (addons.All): templates, crds/, values.yaml. Chart.yaml is written
// by Build from the pin. The Go files and README.md come along unused.
//
//go:embed all:*
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

// values are the chart's values.yaml (the upstream defaults of the keys
// the templates read), with testWebhook, where the chart has it, set to the
// test's webhook.
func values(c addons.Chart, o Options) ([]byte, error) {
	data, err := files.ReadFile(path.Join(c.Release, "values.yaml"))
	if err != nil {
		return nil, fmt.Errorf("test chart %s: %w (each add-on's test chart has a values.yaml)", c.Release, err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("test/charts/%s/values.yaml: %w", c.Release, err)
	}
	if _, ok := m["testWebhook"]; ok {
		m["testWebhook"] = map[string]any{"url": o.WebhookURL, "caBundle": string(o.WebhookCA)}
	}
	return yaml.Marshal(m)
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

// Build writes the test chart of every add-on under dir, each at
// dir/<release> with the name and version of its pin, and returns the Source
// that installs them. An add-on without a test chart is an error.
func Build(dir string, o Options) (addons.Source, error) {
	src := addons.Source{Local: map[string]string{}}
	for _, c := range addons.Charts() {
		out := filepath.Join(dir, c.Release)
		if err := os.RemoveAll(out); err != nil {
			return src, err
		}
		if _, err := fs.Stat(files, c.Release); err != nil {
			return src, fmt.Errorf("add-on %s has no test chart: add test/charts/%s (templates/ and values.yaml)", c.Release, c.Release)
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
		vals, err := values(c, o)
		if err != nil {
			return src, err
		}
		if err := os.WriteFile(filepath.Join(out, "Chart.yaml"), meta, 0o644); err != nil {
			return src, err
		}
		if err := os.WriteFile(filepath.Join(out, "values.yaml"), vals, 0o644); err != nil {
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
