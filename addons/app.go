package addons

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/terraform/stateful"
)

// The values overlay for the app's chart (infrastructure/helm/sovd-webapp),
// given after its values-production.yaml (helm -f values-production.yaml -f
// overlay.yaml). It sets exactly the keys of that file that only the live
// environment knows, under the same paths, and nothing else.

// The ingress annotations of the AWS Load Balancer Controller the overlay
// sets (its docs/guide/ingress/annotations.md at the pinned version).
const (
	// CertificateAnnotation is the ALB's certificate.
	CertificateAnnotation = "alb.ingress.kubernetes.io/certificate-arn"
	// SchemeAnnotation: the controller's default is internal, which the
	// internet cannot reach.
	SchemeAnnotation = "alb.ingress.kubernetes.io/scheme"
	// TargetTypeAnnotation ip sends traffic to the pods' own addresses (VPC
	// CNI), so the app's Services need no NodePort.
	TargetTypeAnnotation = "alb.ingress.kubernetes.io/target-type"
	// ListenPortsAnnotation is the ALB's listeners, as a JSON list.
	ListenPortsAnnotation = "alb.ingress.kubernetes.io/listen-ports"
	// SSLRedirectAnnotation redirects the HTTP listener to this port.
	SSLRedirectAnnotation = "alb.ingress.kubernetes.io/ssl-redirect"
)

// HTTPSListenPorts are an HTTPS listener and an HTTP one that redirects.
const HTTPSListenPorts = `[{"HTTP": 80}, {"HTTPS": 443}]`

// ReloadAnnotation is Reloader's annotation on a Deployment that names the
// Secrets (comma-separated) whose change restarts it (stakater/Reloader
// README; the chart's --secret-annotation default). It is narrower than
// reloader.stakater.com/auto, which restarts on any Secret or ConfigMap the
// pods reference.
const ReloadAnnotation = "secret.reloader.stakater.com/reload"

// SecretReader is the app's component whose pods read the app's Secret as
// environment variables: the backend (backend/app/config.py in the seed
// reads DATABASE_URL, REDIS_URL and JWT_SECRET).
const SecretReader = "backend"

// AppValues is the overlay.
type AppValues struct {
	// Images holds <component>.image.repository for each ECR repository
	// named sovd-<component> (backend, frontend); marshalled inline.
	Images map[string]ImageValues `json:"-"`
	// Annotations holds <component>.annotations, the annotations of the
	// component's Deployment: Reloader's on the SecretReader, naming the
	// Secret the app's ExternalSecret writes (AppSecretName), so that a
	// password or token rotation restarts the pods that read it once.
	// Marshalled inline, beside the component's image.
	Annotations    map[string]map[string]string `json:"-"`
	Global         *AppGlobal                   `json:"global,omitempty"`
	Config         AppConfig                    `json:"config"`
	Ingress        *AppIngress                  `json:"ingress,omitempty"`
	ServiceAccount AppServiceAccount            `json:"serviceAccount"`
}

// AppGlobal is global.domain, the app's host name (values-production.yaml
// carries sovd.production.com there).
type AppGlobal struct {
	Domain string `json:"domain"`
}

// ImageValues is <component>.image.
type ImageValues struct {
	Image ImageRepository `json:"image"`
}

// ImageRepository is <component>.image.repository.
type ImageRepository struct {
	Repository string `json:"repository"`
}

// AppConfig is config.database and config.redis. Ports are strings, as the
// chart's values-production.yaml has them.
type AppConfig struct {
	Database AppDatabase `json:"database"`
	Redis    AppRedis    `json:"redis"`
}

// AppDatabase is config.database.
type AppDatabase struct {
	Host string `json:"host"`
	Port string `json:"port"`
	Name string `json:"name"`
	User string `json:"user"`
}

// AppRedis is config.redis.
type AppRedis struct {
	Host string `json:"host"`
	Port string `json:"port"`
}

// AppIngress is ingress.host and ingress.annotations (the certificate, the
// scheme, the listeners); Helm merges the map with the chart's other
// annotations. The chart's ingress template is not in the seed: host sits
// beside global.domain, which values-production.yaml sets, so that either
// spelling the template reads carries the domain.
type AppIngress struct {
	Host        string            `json:"host,omitempty"`
	Annotations map[string]string `json:"annotations"`
}

// AppServiceAccount is serviceAccount.name and its IRSA role.
type AppServiceAccount struct {
	Annotations map[string]string `json:"annotations"`
	Name        string            `json:"name"`
}

// AppOverlay computes the overlay from the profile, the data tier's outputs
// and the account. A profile without a domain has no certificate: the
// ingress key is then left out (the chart's own placeholder stays, and
// Warnings says so).
func AppOverlay(p *config.Profile, out stateful.DataOutputs, accountID string) (AppValues, error) {
	v := AppValues{
		Images: map[string]ImageValues{},
		// The Secret's name is the ExternalSecret's target (AppExternalSecret).
		Annotations: map[string]map[string]string{SecretReader: {ReloadAnnotation: AppSecretName}},
		Config: AppConfig{
			// The app's own role (its sessions run as it, whichever of its
			// two logins DATABASE_URL names), not the RDS master user.
			Database: AppDatabase{Host: out.DBHost, Port: out.DBPort, Name: out.DBName, User: p.Database.AppRole},
			Redis:    AppRedis{Host: out.RedisHost, Port: out.RedisPort},
		},
		ServiceAccount: AppServiceAccount{
			Name:        p.App.ServiceAccount,
			Annotations: map[string]string{IRSAAnnotation: RoleARN(accountID, p.App.RoleName)},
		},
	}
	var errs []error
	for _, repo := range p.Registry.Repositories {
		url, ok := out.ECRRepositoryURLs[repo]
		if !ok {
			errs = append(errs, fmt.Errorf("output %s has no repository %s", stateful.OutECRRepositoryURLs, repo))
			continue
		}
		component := strings.TrimPrefix(repo, p.Prefix()+"-")
		component = strings.TrimPrefix(component, "sovd-")
		v.Images[component] = ImageValues{Image: ImageRepository{Repository: url}}
	}
	v.Ingress = appIngress(p, out)
	if p.App.Domain != "" {
		v.Global = &AppGlobal{Domain: p.App.Domain}
	}
	if len(errs) > 0 {
		return AppValues{}, errors.Join(errs...)
	}
	return v, nil
}

// appIngress is the ingress's keys: internet-facing with ip targets always;
// with a certificate, the domain as host, an HTTPS listener and HTTP
// redirected to it.
func appIngress(p *config.Profile, out stateful.DataOutputs) *AppIngress {
	in := &AppIngress{Host: p.App.Domain, Annotations: map[string]string{
		SchemeAnnotation:     "internet-facing",
		TargetTypeAnnotation: "ip",
	}}
	if out.CertificateARN != "" {
		in.Annotations[CertificateAnnotation] = out.CertificateARN
		in.Annotations[ListenPortsAnnotation] = HTTPSListenPorts
		in.Annotations[SSLRedirectAnnotation] = "443"
	}
	return in
}

// Warnings are what a person must know about an overlay before using it.
func (v AppValues) Warnings() []string {
	if v.Ingress == nil || v.Ingress.Annotations[CertificateAnnotation] == "" {
		if v.Global != nil {
			return []string{"no ingress certificate: the data tier's outputs have no " + stateful.OutCertificateARN + " for app.domain " + v.Global.Domain +
				"; run bootstrap data (it makes and validates the certificate), then values again"}
		}
		return []string{"no ingress certificate: the profile has no app.domain, so the data tier made none; set " +
			"ingress.annotations." + CertificateAnnotation + " to a certificate of your own"}
	}
	return nil
}

// Map is the overlay as plain data: the components' image blocks at the top
// level, next to config, ingress and serviceAccount.
func (v AppValues) Map() (map[string]any, error) {
	b, err := yaml.Marshal(struct {
		Global         *AppGlobal        `json:"global,omitempty"`
		Config         AppConfig         `json:"config"`
		Ingress        *AppIngress       `json:"ingress,omitempty"`
		ServiceAccount AppServiceAccount `json:"serviceAccount"`
	}{v.Global, v.Config, v.Ingress, v.ServiceAccount})
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(v.Images)+len(v.Annotations))
	for k := range v.Images {
		keys = append(keys, k)
	}
	for k := range v.Annotations {
		if _, ok := v.Images[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, clash := m[k]; clash {
			return nil, fmt.Errorf("component %q clashes with the values key %s", k, k)
		}
		block := map[string]any{}
		if img, ok := v.Images[k]; ok {
			block["image"] = map[string]any{"repository": img.Image.Repository}
		}
		if ann := v.Annotations[k]; len(ann) > 0 {
			a := map[string]any{}
			for name, value := range ann {
				a[name] = value
			}
			block["annotations"] = a
		}
		m[k] = block
	}
	return m, nil
}

// YAML renders the overlay as a values file.
func (v AppValues) YAML() ([]byte, error) {
	m, err := v.Map()
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(m)
}
