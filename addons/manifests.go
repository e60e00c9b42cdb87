package addons

import (
	"bytes"
	"fmt"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/terraform/stateful"
)

// The in-cluster objects bootstrap applies after External Secrets is
// running: the app's namespace, a ClusterSecretStore for AWS Secrets
// Manager, and the ExternalSecret that builds the app's Secret. Typed here,
// marshalled with sigs.k8s.io/yaml; the tests apply them to a real API
// server that has External Secrets' real external-secrets.io/v1 CRDs.

// AppSecretRefresh is how often External Secrets re-reads the app's
// secrets into its Secret (the ExternalSecret's refreshInterval); Reloader
// then restarts the pods that read it. pipeline/redisauth.go waits this
// long (and a rollout) before it retires an old Redis token.
const AppSecretRefresh = 15 * time.Minute

// ESOAPIVersion is the External Secrets API bootstrap writes.
const ESOAPIVersion = "external-secrets.io/v1"

// SecretStoreName is the ClusterSecretStore's name.
const SecretStoreName = "aws-secrets-manager"

// AppSecretName is the Secret the app's pods read DATABASE_URL, REDIS_URL
// and JWT_SECRET from, and the name of the ExternalSecret that makes it.
const AppSecretName = "sovd-webapp-secrets"

// ManagedByLabel marks what bootstrap applies, for people and for cleanup.
var managedBy = map[string]string{"app.kubernetes.io/managed-by": "bootstrap"}

// ObjectMeta is the metadata bootstrap sets.
type ObjectMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Namespace is a core/v1 Namespace.
type Namespace struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ObjectMeta `json:"metadata"`
}

// ServiceAccount is a core/v1 ServiceAccount.
type ServiceAccount struct {
	APIVersion string              `json:"apiVersion"`
	Kind       string              `json:"kind"`
	Metadata   AnnotatedObjectMeta `json:"metadata"`
	// AutomountServiceAccountToken false: no pod is meant to run as it.
	AutomountServiceAccountToken bool `json:"automountServiceAccountToken"`
}

// AnnotatedObjectMeta is ObjectMeta with annotations.
type AnnotatedObjectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ClusterSecretStore is an external-secrets.io/v1 ClusterSecretStore with
// the AWS provider.
type ClusterSecretStore struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   ObjectMeta      `json:"metadata"`
	Spec       SecretStoreSpec `json:"spec"`
}

// SecretStoreSpec is the part of the store's spec bootstrap sets.
type SecretStoreSpec struct {
	Provider SecretStoreProvider `json:"provider"`
	// Conditions limit the namespaces whose ExternalSecrets may use the store.
	Conditions []StoreCondition `json:"conditions,omitempty"`
}

// StoreCondition selects namespaces by name.
type StoreCondition struct {
	Namespaces []string `json:"namespaces"`
}

// SecretStoreProvider holds exactly one provider.
type SecretStoreProvider struct {
	AWS AWSProvider `json:"aws"`
}

// AWSProvider is Secrets Manager in a region, reached with the web identity
// of a ServiceAccount (IRSA).
type AWSProvider struct {
	Service string  `json:"service"`
	Region  string  `json:"region"`
	Auth    AWSAuth `json:"auth"`
}

// AWSAuth authenticates with a ServiceAccount's token.
type AWSAuth struct {
	JWT JWTAuth `json:"jwt"`
}

// JWTAuth names the ServiceAccount whose IRSA role is assumed.
type JWTAuth struct {
	ServiceAccountRef ServiceAccountRef `json:"serviceAccountRef"`
}

// ServiceAccountRef names a ServiceAccount.
type ServiceAccountRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// ExternalSecret is an external-secrets.io/v1 ExternalSecret.
type ExternalSecret struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   ObjectMeta         `json:"metadata"`
	Spec       ExternalSecretSpec `json:"spec"`
}

// ExternalSecretSpec is the part of the spec bootstrap sets.
type ExternalSecretSpec struct {
	RefreshInterval string               `json:"refreshInterval"`
	SecretStoreRef  StoreRef             `json:"secretStoreRef"`
	Target          ExternalSecretTarget `json:"target"`
	Data            []ExternalSecretData `json:"data"`
}

// StoreRef points at a store.
type StoreRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// ExternalSecretTarget is the Secret made.
type ExternalSecretTarget struct {
	Name           string         `json:"name"`
	CreationPolicy string         `json:"creationPolicy"`
	DeletionPolicy string         `json:"deletionPolicy"`
	Template       SecretTemplate `json:"template"`
}

// SecretTemplate builds the Secret's keys from the fetched values with Go
// templates (engine v2).
type SecretTemplate struct {
	EngineVersion string            `json:"engineVersion"`
	Type          string            `json:"type"`
	Data          map[string]string `json:"data"`
}

// ExternalSecretData fetches one property of one secret into a template
// variable.
type ExternalSecretData struct {
	SecretKey string    `json:"secretKey"`
	RemoteRef RemoteRef `json:"remoteRef"`
}

// RemoteRef is a secret in Secrets Manager (name or ARN) and a JSON
// property of its value.
type RemoteRef struct {
	Key      string `json:"key"`
	Property string `json:"property"`
}

// AppNamespace is the namespace the app's chart installs into.
func AppNamespace(p *config.Profile) Namespace {
	return Namespace{APIVersion: "v1", Kind: "Namespace", Metadata: ObjectMeta{Name: p.App.Namespace, Labels: managedBy}}
}

// StoreServiceAccount is the ServiceAccount that carries External Secrets'
// IRSA role (which may read <prefix>/* and never the RDS master secret): it runs
// no pod, and only the ClusterSecretStore names it. The role's trust policy,
// made by eksctl, admits exactly this namespace and name.
func StoreServiceAccount(p *config.Profile, accountID string) ServiceAccount {
	return ServiceAccount{
		APIVersion: "v1",
		Kind:       "ServiceAccount",
		Metadata: AnnotatedObjectMeta{
			Name:        ExternalSecretsStoreServiceAccount,
			Namespace:   ExternalSecrets.Namespace,
			Labels:      managedBy,
			Annotations: map[string]string{IRSAAnnotation: RoleARN(accountID, p.Role(config.RoleExternalSecrets))},
		},
	}
}

// SecretStore is the ClusterSecretStore: Secrets Manager in the profile's
// region, reached with a token of the store's own ServiceAccount
// (StoreServiceAccount; a ClusterSecretStore's serviceAccountRef must name
// its namespace), usable only from the app's namespace.
func SecretStore(p *config.Profile) ClusterSecretStore {
	return ClusterSecretStore{
		APIVersion: ESOAPIVersion,
		Kind:       "ClusterSecretStore",
		Metadata:   ObjectMeta{Name: SecretStoreName, Labels: managedBy},
		Spec: SecretStoreSpec{
			Provider: SecretStoreProvider{AWS: AWSProvider{
				Service: "SecretsManager",
				Region:  p.Region,
				Auth: AWSAuth{JWT: JWTAuth{ServiceAccountRef: ServiceAccountRef{
					Name: ExternalSecretsStoreServiceAccount, Namespace: ExternalSecrets.Namespace,
				}}},
			}},
			Conditions: []StoreCondition{{Namespaces: []string{p.App.Namespace}}},
		},
	}
}

// AppExternalSecret builds the app's Secret (DATABASE_URL, REDIS_URL,
// JWT_SECRET) from <prefix>/database, <prefix>/jwt and <prefix>/redis only:
// the app connects as its own database role, whose login and password
// <prefix>/database holds (bootstrap rotates them, internal/dbrole); the
// RDS master secret is not read in the cluster. No secret value passes
// through Helm or Terraform state: External Secrets reads them in the
// cluster and renders the URLs there. User name and password come from one
// version of one secret, so a rotation never pairs a login with another
// login's password; the password is URL-escaped all the same.
func AppExternalSecret(p *config.Profile, out stateful.DataOutputs) ExternalSecret {
	names := p.SecretNames() // database, jwt, redis
	db, jwt, redis := names[0], names[1], names[2]
	ref := func(key, secret, property string) ExternalSecretData {
		return ExternalSecretData{SecretKey: key, RemoteRef: RemoteRef{Key: secret, Property: property}}
	}
	return ExternalSecret{
		APIVersion: ESOAPIVersion,
		Kind:       "ExternalSecret",
		Metadata:   ObjectMeta{Name: AppSecretName, Namespace: p.App.Namespace, Labels: managedBy},
		Spec: ExternalSecretSpec{
			RefreshInterval: fmt.Sprintf("%dm", int(AppSecretRefresh/time.Minute)),
			SecretStoreRef:  StoreRef{Kind: "ClusterSecretStore", Name: SecretStoreName},
			Target: ExternalSecretTarget{
				Name:           AppSecretName,
				CreationPolicy: "Owner",
				DeletionPolicy: "Retain",
				Template: SecretTemplate{
					EngineVersion: "v2",
					Type:          "Opaque",
					Data: map[string]string{
						"DATABASE_URL": "postgresql://{{ .db_username | urlquery }}:{{ .db_password | urlquery }}@{{ .db_host }}:{{ .db_port }}/{{ .db_name }}?sslmode=require",
						"REDIS_URL":    fmt.Sprintf("rediss://:{{ .redis_auth_token | urlquery }}@%s:%s/0", out.RedisHost, out.RedisPort),
						"JWT_SECRET":   "{{ .jwt_secret }}",
					},
				},
			},
			Data: []ExternalSecretData{
				ref("db_host", db, "host"),
				ref("db_port", db, "port"),
				ref("db_name", db, "dbname"),
				ref("db_username", db, "username"),
				ref("db_password", db, "password"),
				ref("jwt_secret", jwt, "secret"),
				ref("redis_auth_token", redis, "auth_token"),
			},
		},
	}
}

// Manifests renders the namespace, the store's ServiceAccount, the store and
// the ExternalSecret as one multi-document YAML file for kubectl apply, in
// that order (the ExternalSecret needs the namespace, the store its
// ServiceAccount). accountID is in the role ARN the ServiceAccount carries.
func Manifests(p *config.Profile, out stateful.DataOutputs, accountID string) ([]byte, error) {
	var buf bytes.Buffer
	for i, obj := range []any{AppNamespace(p), StoreServiceAccount(p, accountID), SecretStore(p), AppExternalSecret(p, out)} {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("rendering the External Secrets manifests: %w", err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}
