package addons

import (
	"bytes"
	"fmt"
	"strconv"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/terraform/stateful"
)

// The Job that keeps the app's database roles. RDS sits in private subnets
// that only the cluster reaches, so bootstrap runs the SQL there: a Job in
// a namespace of bootstrap's own, with a pinned PostgreSQL client image, the
// master credentials in a Secret that the Job owns (garbage-collected with
// it: ttlSecondsAfterFinished, activeDeadlineSeconds), deleted by bootstrap
// as soon as the Job ended. No long-lived identity in the cluster can read
// the master secret (docs/layout.md, "The app's database roles").

// RoleJobNamespace is bootstrap's own namespace for the role Job.
const RoleJobNamespace = "bootstrap-db"

// RoleJobImage is the PostgreSQL client the Job runs (psql), pinned: the
// official image from Amazon ECR Public's mirror of Docker Hub's library,
// reachable through the private subnets' NAT gateways without Docker Hub's
// pull limits. psql 17 speaks to RDS PostgreSQL 13 and later.
const RoleJobImage = "public.ecr.aws/docker/library/postgres:17.6-alpine3.22"

// The Job's limits: it fails after this long, and is removed (with its
// Secret) this long after it ended, if bootstrap could not remove it.
const (
	RoleJobDeadlineSeconds = 300
	RoleJobTTLSeconds      = 600
)

// RoleJobName is the Job (and its Secret) for a version of the secret: a
// re-run of an interrupted rotation finds its own.
func RoleJobName(versionID string) string {
	if len(versionID) > 8 {
		versionID = versionID[:8]
	}
	return "app-db-roles-" + versionID
}

// RoleJobInput is what the Job needs. Script, MasterPassword and
// AppPassword are secret: they go only into the Secret, which bootstrap
// sends to kubectl on standard input, never into a file or an argument.
type RoleJobInput struct {
	Name           string // RoleJobName
	Host, Port, DB string
	MasterUser     string
	MasterPassword string
	Script         string // dbrole.Script
	AppUser        string // the login whose password the script sets
	AppPassword    string
	// PasswordOnStdin: Script is dbrole.PromptScript, whose \password reads
	// the app's password from psql's standard input (the runbook's script,
	// which has no SCRAM verifier of its own).
	PasswordOnStdin bool
}

// RoleJobSecretKeys are the keys of the Job's Secret.
const (
	roleKeyMasterPassword = "master-password"
	roleKeyAppPassword    = "app-password"
	roleKeyScript         = "roles.sql"
)

// roleJobCommand runs the script as the master user in one transaction (the
// script has BEGIN/COMMIT), stopping at the first error, then connects as
// the app's login with its new password (Secrets Manager's testSecret
// step). sslmode=require: RDS forces TLS (rds.force_ssl); verify-full would
// need the RDS CA bundle in the image.
const roleJobCommand = `psql -X -q -v ON_ERROR_STOP=1 -f /run/bootstrap/roles.sql
PGUSER="$APP_USER" PGPASSWORD="$APP_PASSWORD" psql -X -q -t -c 'SELECT 1' >/dev/null
echo "roles kept; $APP_USER signs in"`

// roleJobPromptCommand is roleJobCommand for dbrole.PromptScript: psql's
// \password reads the app's password, twice, from standard input (the
// container has no terminal), fed by the shell's printf builtin; psql's
// variable login names the login (dbrole.PromptVariable).
const roleJobPromptCommand = `printf '%s\n%s\n' "$APP_PASSWORD" "$APP_PASSWORD" | psql -X -q -v ON_ERROR_STOP=1 -v login="$APP_USER" -f /run/bootstrap/roles.sql
PGUSER="$APP_USER" PGPASSWORD="$APP_PASSWORD" psql -X -q -t -c 'SELECT 1' >/dev/null
echo "roles kept; $APP_USER signs in"`

// RoleJobCommand is the shell command the Job's container runs.
func RoleJobCommand(in RoleJobInput) string {
	if in.PasswordOnStdin {
		return roleJobPromptCommand
	}
	return roleJobCommand
}

// RoleJobManifests renders the namespace and the Job (the Secret comes
// second, owned by the Job: RoleJobSecret).
func RoleJobManifests(in RoleJobInput) ([]byte, error) {
	labels := map[string]string{"app.kubernetes.io/managed-by": "bootstrap", "app.kubernetes.io/name": "app-db-roles"}
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": RoleJobNamespace, "labels": managedBy}}
	secretEnv := func(name, key string) map[string]any {
		return map[string]any{"name": name, "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": in.Name, "key": key}}}
	}
	plain := func(name, value string) map[string]any { return map[string]any{"name": name, "value": value} }
	job := map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   map[string]any{"name": in.Name, "namespace": RoleJobNamespace, "labels": labels},
		"spec": map[string]any{
			"backoffLimit":            0,
			"activeDeadlineSeconds":   RoleJobDeadlineSeconds,
			"ttlSecondsAfterFinished": RoleJobTTLSeconds,
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{
					"restartPolicy":                "Never",
					"automountServiceAccountToken": false,
					"securityContext": map[string]any{
						"runAsNonRoot": true, "runAsUser": 70, "runAsGroup": 70, // the image's postgres user
						"seccompProfile": map[string]any{"type": "RuntimeDefault"},
					},
					"containers": []any{map[string]any{
						"name":    "psql",
						"image":   RoleJobImage,
						"command": []any{"sh", "-ec", RoleJobCommand(in)},
						"env": []any{
							plain("PGHOST", in.Host), plain("PGPORT", in.Port), plain("PGDATABASE", in.DB),
							plain("PGUSER", in.MasterUser), plain("PGSSLMODE", "require"), plain("PGCONNECT_TIMEOUT", "10"),
							plain("PGAPPNAME", "bootstrap-app-db-roles"),
							secretEnv("PGPASSWORD", roleKeyMasterPassword),
							plain("APP_USER", in.AppUser),
							secretEnv("APP_PASSWORD", roleKeyAppPassword),
						},
						"volumeMounts": []any{map[string]any{"name": "script", "mountPath": "/run/bootstrap", "readOnly": true}},
						"securityContext": map[string]any{
							"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
							"capabilities": map[string]any{"drop": []any{"ALL"}},
						},
						"resources": map[string]any{
							"requests": map[string]any{"cpu": "50m", "memory": "64Mi"},
							"limits":   map[string]any{"memory": "128Mi"},
						},
					}},
					"volumes": []any{map[string]any{"name": "script", "secret": map[string]any{
						"secretName": in.Name, "items": []any{map[string]any{"key": roleKeyScript, "path": "roles.sql"}},
					}}},
				},
			},
		},
	}
	var buf bytes.Buffer
	for i, obj := range []any{ns, job} {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("rendering the role Job: %w", err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// RoleJobSecret renders the Job's Secret, owned by the Job (jobUID), so
// that Kubernetes deletes it with the Job if bootstrap cannot.
func RoleJobSecret(in RoleJobInput, jobUID string) ([]byte, error) {
	s := map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"type":       "Opaque",
		"metadata": map[string]any{
			"name": in.Name, "namespace": RoleJobNamespace, "labels": managedBy,
			"ownerReferences": []any{map[string]any{
				"apiVersion": "batch/v1", "kind": "Job", "name": in.Name, "uid": jobUID,
			}},
		},
		"stringData": map[string]any{
			roleKeyMasterPassword: in.MasterPassword,
			roleKeyAppPassword:    in.AppPassword,
			roleKeyScript:         in.Script,
		},
	}
	b, err := yaml.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("rendering the role Job's Secret: %w", err)
	}
	return b, nil
}

// RoleJobInputFor fills the connection part from the profile and the data
// tier's outputs.
func RoleJobInputFor(p *config.Profile, out stateful.DataOutputs) RoleJobInput {
	port := out.DBPort
	if port == "" {
		port = strconv.Itoa(p.Database.Port)
	}
	return RoleJobInput{Host: out.DBHost, Port: port, DB: out.DBName, MasterUser: out.DBUsername}
}
