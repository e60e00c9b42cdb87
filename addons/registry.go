package addons

// All lists every add-on in install order: metrics-server first (the HPA
// needs it, it needs nothing), then the load balancer controller (its
// mutating webhook sees every Service created after it, so it must be
// running before the charts that make Services), then External Secrets
// (whose webhook must be ready before the ClusterSecretStore is applied),
// then external-dns (it reads the Ingresses' load balancers, which the
// controller makes), then Reloader (it restarts the app when External Secrets
// rewrites its Secret; nothing depends on it). Teardown goes in the reverse order.
//
// A new add-on is a file of its own beside these (its record, values and
// policy) and one line here; docs/layout.md, "Adding an add-on".
var All = []Addon{
	MetricsServer,
	LoadBalancerController,
	ExternalSecrets,
	ExternalDNS,
	Reloader,
}
