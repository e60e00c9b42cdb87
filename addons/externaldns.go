package addons

import "github.com/sovd/bootstrap/internal/config"

// ExternalDNS points the app's host name (app.domain) at the load balancer
// the controller makes for the app's Ingress: it reads the Ingress's host
// and its status hostname and writes an A alias record (and the TXT record
// that says it owns it) in the hosted zone of app.domain.
//
// Pin 1.21.1 (chart; external-dns v0.21.0), from the
// kubernetes-sigs/external-dns repository's charts/external-dns. Checked:
// the release tag external-dns-helm-chart-1.21.1 and its app version v0.21.0
// (the chart's CHANGELOG entry "Update ExternalDNS OCI image version to
// v0.21.0" and downstream syncs naming that tag, read 2026-12-02); every
// values key bootstrap sets (provider.name, sources, policy, registry,
// txtOwnerId, domainFilters, extraArgs as a list, env, serviceAccount.create
// /.name/.annotations) is in the chart's values table of the 1.21 line
// (the one with sourceNamespace and namespaceOverride, added in 1.21); the
// flags in extraArgs (--zone-id-filter, --aws-zone-type) are external-dns's
// own. The TXT registry's format that teardown reads (pipeline/records.go) is
// registry/txt/registry.go, registry/mapper/mapper.go and
// endpoint/labels.go of the same line. Not read at the tag itself: the
// Chart.yaml and values.yaml files of the external-dns-helm-chart-1.21.1
// tag (the stored copies are older or untagged), so `helm lint --strict`
// of these values against the real 1.21.1 chart is still to be done; the
// chart's kubeVersion is unchecked.
//
// Policy sync, not upsert-only: with the TXT registry, external-dns changes
// and deletes only records whose TXT record names its own txtOwnerId, so
// sync removes what it made when an Ingress or its host goes away (a
// renamed host leaves nothing behind) and never touches another owner's
// records. Teardown does not rely on it (the release is uninstalled
// before external-dns need have seen the Ingress go): DeleteOwnedRecords
// removes this cluster's records by the same TXT proof.
//
// One replica and no PodDisruptionBudget, as upstream's chart has it
// (external-dns has no leader election, the chart no replica count): a
// node drain only delays its next sync; the records stay in Route53.
//
// Without app.domain there is nothing to point: external-dns still runs
// (every environment has the same add-ons) but its domain filter is a name
// under the reserved top-level domain .invalid (RFC 2606), which no hosted
// zone can hold, and its role may change no record.
var ExternalDNS = Addon{
	Chart: Chart{
		Release: "external-dns", Namespace: "external-dns",
		RepoName: "bootstrap-external-dns", RepoURL: "https://kubernetes-sigs.github.io/external-dns/",
		Chart: "external-dns", Version: "1.21.1", AppVersion: "v0.21.0",
		Compat: Compat{
			Version: "1.21.1",
			Checked: "kubernetes-sigs/external-dns charts/external-dns/Chart.yaml: no kubeVersion in the revision readable here (chart 1.10.1, commit e2c5063232d9c10bbf2103b0d23e585587526c25, older than the pin); the 1.21.1 file itself was not readable here",
		},
	},
	Values: externalDNSValues,
	Needs: Needs{
		AccountID:    "the IRSA role ARNs need it",
		HostedZoneID: "external-dns is limited to the hosted zone of app.domain",
	},
	IRSA: &externalDNSIRSA,
}

var externalDNSIRSA = IRSA{
	Role:           config.RoleExternalDNS,
	ServiceAccount: "external-dns",
	Policy: func(p *config.Profile, live Live) (map[string]any, error) {
		return ExternalDNSPolicy(p, live.HostedZoneID), nil
	},
}

// NoDomainFilter is external-dns's domain filter for a profile without
// app.domain: a name no hosted zone can hold (RFC 2606 reserves .invalid).
const NoDomainFilter = "no-app-domain.invalid"

// ExternalDNSValues are the external-dns chart's values bootstrap sets.
type ExternalDNSValues struct {
	Provider ExternalDNSProvider `json:"provider"`
	// Sources: the app is reached through its Ingress only.
	Sources []string `json:"sources"`
	Policy  string   `json:"policy"`
	// Registry txt with TxtOwnerID: the owner written into every TXT
	// record it makes, this cluster's (ExternalDNSOwner), so two
	// environments sharing a zone never change each other's records.
	Registry      string   `json:"registry"`
	TxtOwnerID    string   `json:"txtOwnerId"`
	DomainFilters []string `json:"domainFilters"`
	// ExtraArgs are external-dns flags the chart has no key for.
	ExtraArgs      []string             `json:"extraArgs"`
	Env            []EnvVar             `json:"env"`
	ServiceAccount ServiceAccountValues `json:"serviceAccount"`
}

// ExternalDNSProvider is the chart's provider block.
type ExternalDNSProvider struct {
	Name string `json:"name"`
}

// EnvVar is a container environment variable.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ExternalDNSOwner is the txtOwnerId of an environment's external-dns: its
// cluster's name and region, <cluster>.<region>, which is what makes an EKS
// cluster unique in an account (config refuses two environments with one
// cluster name in a region; a hosted zone is global, so the region is part
// of it). The TXT record of each record external-dns makes names the one
// cluster that may change or delete it.
func ExternalDNSOwner(p *config.Profile) string { return p.Cluster.Name + "." + p.Region }

func externalDNSValues(p *config.Profile, live Live) any {
	filters := []string{NoDomainFilter}
	args := []string{"--aws-zone-type=public"}
	if p.App.Domain != "" {
		filters = []string{p.App.Domain}
		args = append(args, "--zone-id-filter="+live.HostedZoneID)
	}
	return ExternalDNSValues{
		Provider:       ExternalDNSProvider{Name: "aws"},
		Sources:        []string{"ingress"},
		Policy:         "sync",
		Registry:       "txt",
		TxtOwnerID:     ExternalDNSOwner(p),
		DomainFilters:  filters,
		ExtraArgs:      args,
		Env:            []EnvVar{{Name: "AWS_DEFAULT_REGION", Value: p.Region}},
		ServiceAccount: IRSAServiceAccount(externalDNSIRSA, p, live.AccountID),
	}
}

// HostedZoneARN is the ARN of a Route53 hosted zone (Route53 is global: no
// region, no account).
func HostedZoneARN(id string) string { return "arn:aws:route53:::hostedzone/" + id }

// ExternalDNSPolicy lets external-dns change records in the hosted zone of
// app.domain and nowhere else. The actions are those upstream's
// docs/tutorials/aws.md lists (ChangeResourceRecordSets on the zones,
// ListHostedZones, ListResourceRecordSets and ListTagsForResources),
// narrowed from every zone to this one wherever IAM allows a resource:
// ListHostedZones has none. Without app.domain (zoneID "") the role may
// only list zones.
func ExternalDNSPolicy(p *config.Profile, zoneID string) map[string]any {
	stmts := []any{map[string]any{
		"Sid":      "ListZones",
		"Effect":   "Allow",
		"Action":   []any{"route53:ListHostedZones"},
		"Resource": "*",
	}}
	if p.App.Domain != "" {
		zone := HostedZoneARN(zoneID)
		stmts = append(stmts,
			map[string]any{
				"Sid":      "ReadTheAppZone",
				"Effect":   "Allow",
				"Action":   []any{"route53:ListResourceRecordSets", "route53:ListTagsForResources"},
				"Resource": zone,
			},
			map[string]any{
				"Sid":      "ChangeTheAppZone",
				"Effect":   "Allow",
				"Action":   []any{"route53:ChangeResourceRecordSets"},
				"Resource": zone,
			})
	}
	return map[string]any{"Version": "2012-10-17", "Statement": stmts}
}
