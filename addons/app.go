package addons

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/sovd/bootstrap/internal/config"
)

// The values overlay for the app's chart (infrastructure/helm/sovd-webapp),
// given after its values-production.yaml (helm -f values-production.yaml -f
// overlay.yaml). It sets exactly the keys of that file that only the live
// environment knows, under the same paths, and nothing else.

// CertificateAnnotation is the ingress annotation of the ALB's certificate.
const CertificateAnnotation = "alb.ingress.kubernetes.io/certificate-arn"

// AppValues is the overlay.
type AppValues struct {
	// Images holds <component>.image.repository for each ECR repository
	// named sovd-<component> (backend, frontend); marshalled inline.
	Images         map[string]ImageValues `json:"-"`
	Config         AppConfig              `json:"config"`
	Ingress        *AppIngress            `json:"ingress,omitempty"`
	ServiceAccount AppServiceAccount      `json:"serviceAccount"`
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

// AppIngress is ingress.annotations with the certificate; Helm merges the
// map with the chart's other annotations.
type AppIngress struct {
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
func AppOverlay(p *config.Profile, out DataOutputs, accountID string) (AppValues, error) {
	v := AppValues{
		Images: map[string]ImageValues{},
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
			errs = append(errs, fmt.Errorf("output %s has no repository %s", OutECRRepositoryURLs, repo))
			continue
		}
		component := strings.TrimPrefix(repo, p.Prefix()+"-")
		component = strings.TrimPrefix(component, "sovd-")
		v.Images[component] = ImageValues{Image: ImageRepository{Repository: url}}
	}
	if out.CertificateARN != "" {
		v.Ingress = &AppIngress{Annotations: map[string]string{CertificateAnnotation: out.CertificateARN}}
	}
	if len(errs) > 0 {
		return AppValues{}, errors.Join(errs...)
	}
	return v, nil
}

// Warnings are what a person must know about an overlay before using it.
func (v AppValues) Warnings() []string {
	if v.Ingress == nil {
		return []string{"no ingress certificate: the profile has no app.domain, so the data tier made none; set " +
			"ingress.annotations." + CertificateAnnotation + " to a certificate of your own"}
	}
	return nil
}

// Map is the overlay as plain data: the components' image blocks at the top
// level, next to config, ingress and serviceAccount.
func (v AppValues) Map() (map[string]any, error) {
	b, err := yaml.Marshal(struct {
		Config         AppConfig         `json:"config"`
		Ingress        *AppIngress       `json:"ingress,omitempty"`
		ServiceAccount AppServiceAccount `json:"serviceAccount"`
	}{v.Config, v.Ingress, v.ServiceAccount})
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(v.Images))
	for k := range v.Images {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, clash := m[k]; clash {
			return nil, fmt.Errorf("ECR repository for component %q clashes with the values key %s", k, k)
		}
		m[k] = map[string]any{"image": map[string]any{"repository": v.Images[k].Image.Repository}}
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
