package verify

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/proc/proctest"
)

// lbAWS answers the load balancer row: the Ingress's ALB is
// internet-facing and active.
type lbAWS struct{}

func (lbAWS) Addons(context.Context, string) ([]cloud.AddonFacts, error) { return nil, nil }
func (lbAWS) LoadBalancer(context.Context, string) (string, string, error) {
	return "internet-facing", "active", nil
}

// TestIngressRowsDNSRecordMissing: with the app's Ingress and its load
// balancer healthy but no record for app.domain (external-dns made none),
// the DNS row alone fails, saying which name did not resolve and to look
// at the zone and external-dns; the load balancer row passes and the HTTPS
// row is skipped with the reason, never failed for the same cause.
func TestIngressRowsDNSRecordMissing(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	const lb = "k8s-production-sovd-0123456789.us-east-1.elb.amazonaws.com"
	r := proctest.New(t)
	r.Expect(`kubectl get ingress --namespace production -o json`).Stdout(
		`{"items":[{"metadata":{"name":"sovd-webapp"},"status":{"loadBalancer":{"ingress":[{"hostname":"` + lb + `"}]}}}]}`)
	dialed := false
	n := Net{
		LookupHost: func(_ context.Context, host string) ([]string, error) {
			if host == lb {
				return []string{"192.0.2.10"}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		},
		DialTLS: func(context.Context, string) (*x509.Certificate, error) {
			dialed = true
			return nil, errors.New("must not be dialed without the record")
		},
	}
	rows := Ingress(context.Background(), Kube{Runner: r, Kubectl: "kubectl"}, p, lbAWS{}, n)
	if len(rows) != 3 {
		t.Fatalf("rows: %+v", rows)
	}
	lbRow, dns, https := rows[0], rows[1], rows[2]
	if lbRow.Status != Passed {
		t.Errorf("load balancer row: %+v", lbRow)
	}
	if dns.ID != "dns" || dns.Status != Failed || !strings.Contains(dns.Detail, "resolving sovd.production.com") ||
		!strings.Contains(dns.Next, "external-dns") || !strings.Contains(dns.Next, "sovd.production.com") {
		t.Errorf("dns row: %+v", dns)
	}
	if https.ID != "https" || https.Status != Skipped || !strings.Contains(https.Detail, "does not resolve") || dialed {
		t.Errorf("https row: %+v (dialed %v)", https, dialed)
	}
}
