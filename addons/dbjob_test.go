package addons

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The role Job's manifests: the secrets only in the Secret (which goes to
// kubectl on standard input), the Secret owned by the Job so Kubernetes
// removes it with the Job, the pinned image, a pod that can do nothing but
// run psql.
func TestRoleJobManifests(t *testing.T) {
	t.Parallel()
	in := RoleJobInput{
		Name: RoleJobName("0123456789abcdef"), Host: "db.internal", Port: "5432", DB: "sovd_staging",
		MasterUser: "sovd_admin", MasterPassword: "MASTER-SECRET", Script: "ALTER ROLE x PASSWORD 'SCRAM-SECRET';",
		AppUser: "sovd_app_2", AppPassword: "APP-SECRET",
	}
	if in.Name != "app-db-roles-01234567" {
		t.Errorf("job name %s", in.Name)
	}
	m, err := RoleJobManifests(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"MASTER-SECRET", "SCRAM-SECRET", "APP-SECRET"} {
		if strings.Contains(string(m), secret) {
			t.Errorf("the Job's manifest holds a secret value %s", secret)
		}
	}
	docs := strings.Split(string(m), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("%d documents, want namespace and Job", len(docs))
	}
	var job struct {
		Metadata struct{ Namespace string }
		Spec     struct {
			BackoffLimit            *int `json:"backoffLimit"`
			ActiveDeadlineSeconds   int  `json:"activeDeadlineSeconds"`
			TTLSecondsAfterFinished int  `json:"ttlSecondsAfterFinished"`
			Template                struct {
				Spec struct {
					AutomountServiceAccountToken *bool `json:"automountServiceAccountToken"`
					SecurityContext              struct {
						RunAsNonRoot bool `json:"runAsNonRoot"`
					} `json:"securityContext"`
					Containers []struct {
						Image           string
						Env             []map[string]any
						SecurityContext struct {
							AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
							ReadOnlyRootFilesystem   bool  `json:"readOnlyRootFilesystem"`
						} `json:"securityContext"`
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal([]byte(docs[1]), &job); err != nil {
		t.Fatal(err)
	}
	spec := job.Spec.Template.Spec
	if job.Metadata.Namespace != RoleJobNamespace || job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 ||
		job.Spec.ActiveDeadlineSeconds == 0 || job.Spec.TTLSecondsAfterFinished == 0 {
		t.Errorf("job limits: %+v", job.Spec)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken || !spec.SecurityContext.RunAsNonRoot ||
		len(spec.Containers) != 1 || !spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem ||
		spec.Containers[0].SecurityContext.AllowPrivilegeEscalation == nil || *spec.Containers[0].SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("pod is not locked down: %+v", spec)
	}
	if img := spec.Containers[0].Image; img != RoleJobImage || strings.HasSuffix(img, ":latest") || !strings.Contains(img, ":") {
		t.Errorf("image %s is not the pinned one", img)
	}
	secret, err := RoleJobSecret(in, "uid-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MASTER-SECRET", "APP-SECRET", "SCRAM-SECRET", "uid: uid-1", "kind: Job", "namespace: " + RoleJobNamespace} {
		if !strings.Contains(string(secret), want) {
			t.Errorf("the Job's Secret lacks %q", want)
		}
	}
}
