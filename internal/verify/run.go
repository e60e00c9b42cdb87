package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
)

// AWS is what the checks read from AWS.
type AWS interface {
	// Addons are the cluster's EKS add-ons (vpc-cni, kube-proxy, coredns).
	Addons(ctx context.Context, cluster string) ([]cloud.AddonFacts, error)
	// LoadBalancer describes the load balancer of a DNS name: its scheme
	// and state ("" and nil when there is none).
	LoadBalancer(ctx context.Context, dnsName string) (scheme, state string, err error)
}

// Net is name resolution and the TLS dial of the HTTPS check; tests point
// it at loopback.
type Net struct {
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// DialTLS connects to host:443 and returns the verified peer chain's leaf.
	DialTLS func(ctx context.Context, host string) (*x509.Certificate, error)
}

// DefaultNet is the system resolver and a TLS dial checked against the
// system roots.
func DefaultNet() Net {
	return Net{
		LookupHost: net.DefaultResolver.LookupHost,
		DialTLS: func(ctx context.Context, host string) (*x509.Certificate, error) {
			d := tls.Dialer{Config: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}}
			c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, "443"))
			if err != nil {
				return nil, err
			}
			defer c.Close()
			return c.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
		},
	}
}

// Run is every check, in order. dir receives the Job's manifest.
func Run(ctx context.Context, p *config.Profile, o Options, a AWS, n Net, dir string) []Check {
	k := o.Kube
	rows := []Check{APIServer(ctx, k)}
	if rows[0].Status == Failed {
		// Nothing else in the cluster can be read.
		rest := []Check{{ID: "nodes-ready", Name: "Every node is Ready"}, {ID: "eks-addons", Name: "The EKS add-ons are healthy"},
			{ID: "helm-addons", Name: "The Helm add-ons are deployed at their pinned versions"},
			{ID: "addon-workloads", Name: "The Helm add-ons' workloads are available"}}
		return append(rows, skipped(rest, "the API server does not answer")...)
	}
	rows = append(rows, Nodes(ctx, k), EKSAddons(ctx, a, p), HelmAddons(ctx, k), AddonWorkloads(ctx, k))
	es, sec := ExternalSecret(ctx, k, p), AppSecret(ctx, k, p)
	rows = append(rows, es, sec)
	if sec.Status == Failed {
		var none []Check
		for _, g := range Groups() {
			none = append(none, ParseResults(g, "")...)
		}
		rows = append(rows, skipped(none, "the app's Secret is not complete (above): the in-cluster checks read it")...)
	} else {
		rows = append(rows, InCluster(ctx, o, p, dir)...)
	}
	rows = append(rows, MetricsAPI(ctx, k))
	return append(rows, Ingress(ctx, k, p, a, n)...)
}

// EKSAddons: every EKS add-on of the cluster is ACTIVE without issues.
func EKSAddons(ctx context.Context, a AWS, p *config.Profile) Check {
	const id, name = "eks-addons", "The EKS add-ons are healthy"
	next := "aws eks describe-addon --cluster-name " + p.Cluster.Name + " --addon-name <name> (its health issues)"
	list, err := a.Addons(ctx, p.Cluster.Name)
	if err != nil {
		return row(id, name, err, "", next)
	}
	var bad, good []string
	for _, f := range list {
		if f.Healthy() {
			good = append(good, f.Name)
		} else {
			bad = append(bad, fmt.Sprintf("%s %s %s", f.Name, f.Status, strings.Join(f.Issues, "; ")))
		}
	}
	if len(bad) > 0 {
		err = fmt.Errorf("%s", strings.Join(bad, ", "))
	} else if len(good) == 0 {
		err = fmt.Errorf("the cluster has no EKS add-ons (vpc-cni, kube-proxy, coredns are expected)")
	}
	return row(id, name, err, strings.Join(good, ", ")+" ACTIVE", next)
}

// Ingress is the app's Ingress: its load balancer internet-facing and
// active, the domain resolving to it, HTTPS answering with a certificate
// valid for the domain. Without an Ingress in the app's namespace the rows
// are skipped (the app is not deployed yet).
func Ingress(ctx context.Context, k Kube, p *config.Profile, a AWS, n Net) []Check {
	lbRow := Check{ID: "load-balancer", Name: "The app's load balancer is internet-facing and active"}
	dnsRow := Check{ID: "dns", Name: "The domain resolves to the load balancer"}
	httpsRow := Check{ID: "https", Name: "HTTPS on the domain answers with a certificate valid for it"}
	all := []Check{lbRow, dnsRow, httpsRow}
	out, err := k.kubectl(ctx, "get", "ingress", "--namespace", p.App.Namespace, "-o", "json")
	if err != nil {
		return []Check{row(lbRow.ID, lbRow.Name, err, "", "kubectl get ingress -n "+p.App.Namespace), skipped(all[1:2], "no Ingress read")[0], skipped(all[2:], "no Ingress read")[0]}
	}
	var l struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Status struct {
				LoadBalancer struct {
					Ingress []struct {
						Hostname string `json:"hostname"`
					} `json:"ingress"`
				} `json:"loadBalancer"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &l); err != nil || len(l.Items) == 0 {
		return skipped(all, "no Ingress in namespace "+p.App.Namespace+": deploy the app's chart with bootstrap values' overlay")
	}
	ing := l.Items[0]
	host := ""
	if lb := ing.Status.LoadBalancer.Ingress; len(lb) > 0 {
		host = lb[0].Hostname
	}
	if host == "" {
		lbRow = row(lbRow.ID, lbRow.Name, fmt.Errorf("the Ingress %s has no load balancer yet", ing.Metadata.Name), "",
			"kubectl describe ingress "+ing.Metadata.Name+" -n "+p.App.Namespace+" (the controller's events) and the controller's logs in kube-system")
		return append([]Check{lbRow}, skipped(all[1:], "no load balancer")...)
	}
	scheme, state, err := a.LoadBalancer(ctx, host)
	if err == nil && (scheme != "internet-facing" || state != "active") {
		err = fmt.Errorf("%s is %s and %s", host, scheme, state)
	}
	lbRow = row(lbRow.ID, lbRow.Name, err, host+" internet-facing, active",
		"the Ingress's alb.ingress.kubernetes.io/scheme annotation (bootstrap values) and aws elbv2 describe-load-balancers")
	if p.App.Domain == "" {
		return append([]Check{lbRow}, skipped(all[1:], "the profile has no app.domain")...)
	}
	dnsRow = checkDNS(ctx, n, p.App.Domain, host)
	if dnsRow.Status == Failed {
		return []Check{lbRow, dnsRow, skipped(all[2:], "the domain does not resolve to the load balancer")[0]}
	}
	return []Check{lbRow, dnsRow, checkHTTPS(ctx, n, p.App.Domain)}
}

// checkDNS: the domain's addresses and the load balancer's share one (an
// alias A record or a CNAME both resolve so).
func checkDNS(ctx context.Context, n Net, domain, lbHost string) Check {
	const id, name = "dns", "The domain resolves to the load balancer"
	next := "the record " + domain + " in its hosted zone (aws route53 list-resource-record-sets) and external-dns's logs"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	want, err := n.LookupHost(ctx, lbHost)
	if err != nil {
		return row(id, name, fmt.Errorf("resolving the load balancer %s: %w", lbHost, err), "", next)
	}
	got, err := n.LookupHost(ctx, domain)
	if err != nil {
		return row(id, name, fmt.Errorf("resolving %s: %w", domain, err), "", next)
	}
	for _, g := range got {
		for _, w := range want {
			if g == w {
				return row(id, name, nil, domain+" -> "+g+" ("+lbHost+")", next)
			}
		}
	}
	return row(id, name, fmt.Errorf("%s resolves to %s, the load balancer to %s", domain, strings.Join(got, ", "), strings.Join(want, ", ")), "", next)
}

// checkHTTPS: a TLS connection to the domain verifies (system roots, the
// domain's name) and the leaf names the domain.
func checkHTTPS(ctx context.Context, n Net, domain string) Check {
	const id, name = "https", "HTTPS on the domain answers with a certificate valid for it"
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	leaf, err := n.DialTLS(ctx, domain)
	if err == nil {
		err = leaf.VerifyHostname(domain)
	}
	detail := ""
	if leaf != nil {
		detail = fmt.Sprintf("certificate for %s, valid until %s", strings.Join(leaf.DNSNames, ", "), leaf.NotAfter.Format(time.DateOnly))
	}
	return row(id, name, err, detail, "the certificate ARN on the Ingress (bootstrap values) and aws acm describe-certificate")
}

func writeFile(dir, name string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, data, 0o644)
}
