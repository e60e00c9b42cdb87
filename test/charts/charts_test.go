package charts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/testenv"
)

// The test charts render with the values bootstrap gives the real ones into
// what those make of them: two replicas, PDBs, the IRSA annotation, the
// CRDs. Rendered by the real helm, offline.
func TestChartsRenderBootstrapValues(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helm")
	}
	helm := testenv.Helm(t)
	dir := t.TempDir()
	src, err := Build(dir, Options{WebhookURL: "https://127.0.0.1:1", WebhookCA: []byte("ca")})
	if err != nil {
		t.Fatal(err)
	}
	p := config.Builtin("production")
	live := addons.Live{AccountID: "123456789012", VPCID: "vpc-0abc", HostedZoneID: "Z0ABC"}
	for _, c := range addons.All {
		t.Run(c.Release, func(t *testing.T) {
			values, err := addons.ValuesYAML(c, p, live)
			if err != nil {
				t.Fatal(err)
			}
			vf := filepath.Join(dir, c.Release+"-values.yaml")
			if err := os.WriteFile(vf, values, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(helm, "template", c.Release, src.Ref(c.Chart), "--namespace", c.Namespace, "--include-crds", "--values", vf).CombinedOutput()
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, out)
			}
			objs := split(t, out)
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o["kind"].(string)]++
				if o["kind"] == "Deployment" {
					name := o["metadata"].(map[string]any)["name"].(string)
					replicas := o["spec"].(map[string]any)["replicas"]
					// external-dns runs one replica (upstream's chart has no
					// replica count: it has no leader election); a drain only
					// delays its next sync, the records stay in Route53.
					single := strings.HasSuffix(name, "cert-controller") || c.Release == addons.ExternalDNS.Release
					if !single && replicas != float64(2) {
						t.Errorf("Deployment %s has %v replicas, want 2", name, replicas)
					}
				}
				if o["kind"] == "ServiceAccount" {
					md := o["metadata"].(map[string]any)
					if ann, _ := md["annotations"].(map[string]any); ann != nil {
						if arn := ann[addons.IRSAAnnotation]; arn == nil || !strings.HasPrefix(arn.(string), "arn:aws:iam::123456789012:role/sovd-production-") {
							t.Errorf("ServiceAccount %s role = %v", md["name"], arn)
						}
					}
				}
			}
			if kinds["PodDisruptionBudget"] == 0 && c.Release != addons.ExternalDNS.Release {
				t.Errorf("no PodDisruptionBudget in %v", kinds)
			}
			switch c.Release {
			case addons.LoadBalancerController.Release:
				if kinds["CustomResourceDefinition"] != 2 || kinds["MutatingWebhookConfiguration"] != 1 {
					t.Errorf("load balancer controller objects: %v", kinds)
				}
				if !bytes.Contains(out, []byte("--aws-vpc-id=vpc-0abc")) || !bytes.Contains(out, []byte("--cluster-name=sovd-production-cluster")) {
					t.Error("clusterName or vpcId did not reach the controller's args")
				}
			case addons.ExternalDNS.Release:
				for _, arg := range []string{"--provider=aws", "--source=ingress", "--policy=sync", "--registry=txt",
					"--txt-owner-id=sovd-production-cluster.us-east-1", "--domain-filter=sovd.production.com", `"--zone-id-filter=Z0ABC"`} {
					if !bytes.Contains(out, []byte("- "+arg+"\n")) {
						t.Errorf("external-dns args lack %s:\n%s", arg, out)
					}
				}
			case addons.Reloader.Release:
				// Scoped: a Role and RoleBinding in the app's namespace (and
				// one in its own for its ConfigMap), no ClusterRole; Secrets
				// only, restarts by annotation, leader election.
				roles := map[string]bool{}
				for _, o := range objs {
					if o["kind"] == "Role" {
						roles[o["metadata"].(map[string]any)["namespace"].(string)] = true
					}
				}
				if kinds["ClusterRole"] != 0 || kinds["ClusterRoleBinding"] != 0 || !roles[p.App.Namespace] || !roles[c.Namespace] || len(roles) != 2 {
					t.Errorf("reloader RBAC: %v, Roles in %v; want Roles in %s and %s only", kinds, roles, p.App.Namespace, c.Namespace)
				}
				for _, arg := range []string{"--namespaces=" + p.App.Namespace, "--resources-to-ignore=configMaps", "--reload-strategy=annotations", "--enable-ha=true"} {
					if !bytes.Contains(out, []byte(arg)) {
						t.Errorf("reloader's args lack %s", arg)
					}
				}
			case addons.ExternalSecrets.Release:
				if kinds["CustomResourceDefinition"] != 3 || kinds["ValidatingWebhookConfiguration"] != 2 || kinds["PodDisruptionBudget"] != 2 {
					t.Errorf("external-secrets objects: %v", kinds)
				}
			}
		})
	}
}

// A chart without clusterName is refused, as upstream's is.
func TestLoadBalancerControllerNeedsClusterName(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helm")
	}
	helm := testenv.Helm(t)
	src, err := Build(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(helm, "template", "x", src.Ref(addons.LoadBalancerController.Chart)).CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("clusterName")) {
		t.Errorf("helm template without clusterName: %v\n%s", err, out)
	}
}

func TestCRDFilesServeV1(t *testing.T) {
	t.Parallel()
	crds, err := CRDFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"external-secrets.io_externalsecrets.yaml", "external-secrets.io_clustersecretstores.yaml", "external-secrets.io_secretstores.yaml"} {
		var crd struct {
			Spec struct {
				Group    string
				Versions []struct {
					Name    string
					Served  bool
					Storage bool
				}
			}
		}
		if err := yaml.Unmarshal(crds[name], &crd); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if crd.Spec.Group != "external-secrets.io" || len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != "v1" || !crd.Spec.Versions[0].Served || !crd.Spec.Versions[0].Storage {
			t.Errorf("%s: %+v", name, crd.Spec)
		}
	}
}

func split(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, doc := range bytes.Split(out, []byte("\n---")) {
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		if m != nil {
			objs = append(objs, m)
		}
	}
	return objs
}
