package testenv

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKubeLocalNodeReady checks the control plane hack/kube-local/up.sh starts: its
// kwok node is Ready as kubectl sees it.
func TestKubeLocalNodeReady(t *testing.T) {
	t.Parallel()
	kc := Kube(t)
	kubectl := kubectlPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", kc, "get", "nodes", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl get nodes: %v: %s", err, stderrOf(err))
	}
	var nodes struct {
		Items []struct {
			Metadata struct {
				Name        string            `json:"name"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Spec struct {
				Taints []json.RawMessage `json:"taints"`
			} `json:"spec"`
			Status struct {
				Conditions []struct {
					Type   string `json:"type"`
					Status string `json:"status"`
				} `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &nodes); err != nil {
		t.Fatalf("kubectl get nodes -o json: %v", err)
	}
	readyKwok := 0
	for _, n := range nodes.Items {
		if n.Metadata.Annotations["kwok.x-k8s.io/node"] != "fake" {
			continue
		}
		for _, c := range n.Status.Conditions {
			if c.Type == "Ready" && c.Status == "True" {
				readyKwok++
				if len(n.Spec.Taints) != 0 {
					t.Errorf("kwok node %s has taints %s; pods would not schedule", n.Metadata.Name, n.Spec.Taints)
				}
			}
		}
	}
	if readyKwok == 0 {
		t.Fatalf("no Ready kwok node among %d nodes:\n%s", len(nodes.Items), out)
	}
}

// TestHelmIsV3 checks that the helm binary the tests use runs and is Helm 3.
func TestHelmIsV3(t *testing.T) {
	t.Parallel()
	helm := Helm(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, helm, "version", "--template", "{{.Version}}").Output()
	if err != nil {
		t.Fatalf("helm version: %v: %s", err, stderrOf(err))
	}
	v := strings.TrimSpace(string(out))
	if !strings.HasPrefix(v, "v3.") {
		t.Fatalf("helm version = %q, want v3.x", v)
	}
}

// TestLoadKubeconfigYAML reads a kubeconfig laid out as kubectl writes it.
func TestLoadKubeconfigYAML(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(dir, "kubeconfig")
	const text = `apiVersion: v1
# a comment
clusters:
- cluster:
    insecure-skip-tls-verify: true
    server: https://127.0.0.1:6443
  name: other
- cluster:
    server: "https://127.0.0.1:16443"
    tls-server-name: 'kube.local'
  name: local
contexts:
- context:
    cluster: local
    user: me
    namespace: default
  name: ctx
current-context: ctx
kind: Config
preferences: {}
users:
- name: me
  user:
    tokenFile: token
`
	if err := os.WriteFile(kc, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadKubeconfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	if c.server != "https://127.0.0.1:16443" || c.token != "s3cret" || c.tls.ServerName != "kube.local" || c.tls.InsecureSkipVerify {
		t.Fatalf("got server %q token %q server name %q insecure %v", c.server, c.token, c.tls.ServerName, c.tls.InsecureSkipVerify)
	}
}

// TestLoadKubeconfigJSONExecPlugin: JSON is read too; an exec plugin is handed to
// kubectl rather than ignored.
func TestLoadKubeconfigJSONExecPlugin(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	const text = `{"clusters":[{"name":"c","cluster":{"server":"https://127.0.0.1:1"}}],
"contexts":[{"name":"x","context":{"cluster":"c","user":"u"}}],"current-context":"x",
"users":[{"name":"u","user":{"exec":{"command":"aws"}}}]}`
	if err := os.WriteFile(kc, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadKubeconfig(kc); err == nil || !strings.Contains(err.Error(), "exec") {
		t.Fatalf("err = %v, want one about the exec plugin", err)
	}
}

func TestParseYAMLSubsetNested(t *testing.T) {
	v, err := parseYAMLSubset([]byte("a:\n  - - x\n    - 'it''s'\n  - k: v\n    j:\n    - 1\nb: \"q\\n\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(v)
	const want = `{"a":[["x","it's"],{"j":["1"],"k":"v"}],"b":"q\n"}`
	if string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// kubectlPath: kubectl from the hack/kube-local bin dir, else from PATH.
func kubectlPath(t *testing.T) string {
	t.Helper()
	if bin := kubeLocalBin(); bin != "" {
		if p := filepath.Join(bin, "kubectl"); isExecutable(p) {
			return p
		}
	}
	p, err := exec.LookPath("kubectl")
	if err != nil {
		Missing(t, "kubectl", "not on PATH")
	}
	return p
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// TestOwnKube: a control plane of the test's own answers, on another API
// server than the shared one, and is gone when the test ends.
func TestOwnKube(t *testing.T) {
	t.Parallel()
	saved := filepath.Join(t.TempDir(), "kubeconfig")
	t.Run("running", func(t *testing.T) {
		kc := OwnKube(t)
		data, err := os.ReadFile(kc)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(saved, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := readyz(kc); err != nil {
			t.Fatalf("own control plane: %v", err)
		}
		if shared := os.Getenv(EnvKubeconfig); shared != "" {
			a, errA := loadKubeconfig(kc)
			b, errB := loadKubeconfig(shared)
			if errA != nil || errB != nil || a.server == b.server {
				t.Errorf("own control plane %v is the shared one %v (%v, %v)", a, b, errA, errB)
			}
		}
	})
	if _, err := os.Stat(saved); err != nil {
		t.Skip("no control plane of its own was started")
	}
	if err := readyz(saved); err == nil {
		t.Error("the test's own control plane still answers after the test ended")
	}
}
