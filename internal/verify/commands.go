package verify

import (
	"fmt"
	"strings"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/config"
)

// Commands is the checks of Run as shell commands, in markdown, for the
// runbook's Verification section: the same order, the same Job manifest
// (JobManifest, with the generated Script), the same pins, keys and names.
// The runbook calls it; `bootstrap verify --commands` prints it.
func Commands(p *config.Profile) (string, error) {
	ns, kc := p.App.Namespace, "--kubeconfig .bootstrap/"+p.Name+"/kubeconfig"
	var b strings.Builder
	step := func(title string, lines ...string) {
		fmt.Fprintf(&b, "%s\n\n```sh\n%s\n```\n\n", title, strings.Join(lines, "\n"))
	}
	step("The API server answers (`ok`) and every node is Ready:",
		"kubectl get --raw /readyz "+kc,
		"kubectl get nodes "+kc+"   # every STATUS Ready")
	step("The EKS add-ons are ACTIVE without health issues:",
		"aws eks list-addons --region "+p.Region+" --cluster-name "+p.Cluster.Name+" --query addons --output text |",
		"  xargs -n1 aws eks describe-addon --region "+p.Region+" --cluster-name "+p.Cluster.Name+" --query 'addon.[addonName,status,health.issues]' --addon-name")
	var helm []string
	for _, c := range addons.Charts() {
		helm = append(helm, fmt.Sprintf("helm list --namespace %s --filter '^%s$' --all %s   # STATUS deployed, CHART %s", c.Namespace, c.Release, kc, c.NameVersion()))
	}
	step("The Helm add-ons are deployed at their pins:", helm...)
	var rollouts []string
	for _, c := range addons.Charts() {
		rollouts = append(rollouts, RolloutScript(c, ".bootstrap/"+p.Name+"/kubeconfig", "2m"))
	}
	step("Every Deployment, StatefulSet and DaemonSet each add-on's release made has rolled out (found by Helm's "+ReleaseAnnotation+
		" annotation, whatever the chart names them; `kubectl rollout status` is the rule the row applies):", rollouts...)
	step("External Secrets has synced the app's Secret, and it holds "+strings.Join(AppSecretKeys, ", ")+" (the template prints key names, never values):",
		"kubectl get externalsecret "+addons.AppSecretName+" --namespace "+ns+" "+kc+"   # READY True",
		"# shellcheck disable=SC2016 # the single quotes hold a Go template, not shell",
		"kubectl get secret "+addons.AppSecretName+" --namespace "+ns+" "+kc+` -o go-template='{{range $k, $v := .data}}{{if $v}}{{$k}}{{"\n"}}{{end}}{{end}}'`)
	job, err := JobManifest(p, "bootstrap-verify")
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "From inside the cluster, with the app's service account and Secret: PostgreSQL over TLS "+
		"answers `select 1` and refuses a connection without TLS; Redis answers PING over TLS with AUTH and refuses "+
		"without it. The Job runs the script `bootstrap verify` runs; each container's termination message holds "+
		"its rows (`verify-check <id> passed|failed <detail>`). The service account is the app chart's: until the app "+
		"is deployed it does not exist, the Job's pod cannot be created, and these checks are skipped "+
		"(`bootstrap verify` skips them):\n\n```sh\n"+
		"kubectl get serviceaccount %s --namespace %s %s   # absent: deploy the app first\n"+
		"kubectl apply %s -f - <<'EOF'\n%sEOF\n", p.App.ServiceAccount, ns, kc, kc, job)
	fmt.Fprintf(&b, "kubectl wait job/bootstrap-verify --namespace %s %s --for=jsonpath='{.status.succeeded}'=1 --timeout=180s\n", ns, kc)
	fmt.Fprintf(&b, "kubectl get pods --namespace %s %s -l job-name=bootstrap-verify -o jsonpath='{range .items[0].status.containerStatuses[*]}{.state.terminated.message}{end}'\n", ns, kc)
	fmt.Fprintf(&b, "kubectl delete job bootstrap-verify --namespace %s %s --cascade=foreground\n```\n\n", ns, kc)
	step("The metrics API answers, so the HPA can scale:", "kubectl top nodes "+kc)
	if p.App.Domain == "" {
		step("Once the app's chart is deployed, its Ingress has an internet-facing, active load balancer (the profile has no app.domain: no DNS or HTTPS check):",
			"LB=$(kubectl get ingress --namespace "+ns+" "+kc+" -o jsonpath='{.items[0].status.loadBalancer.ingress[0].hostname}')",
			"aws elbv2 describe-load-balancers --region "+p.Region+` --query "LoadBalancers[?DNSName=='$LB'].[Scheme,State.Code]" --output text   # internet-facing active`)
		return b.String(), nil
	}
	step("Once the app's chart is deployed: its Ingress's load balancer is internet-facing and active, "+p.App.Domain+" resolves to it, and HTTPS answers with a certificate valid for it:",
		"LB=$(kubectl get ingress --namespace "+ns+" "+kc+" -o jsonpath='{.items[0].status.loadBalancer.ingress[0].hostname}')",
		"aws elbv2 describe-load-balancers --region "+p.Region+` --query "LoadBalancers[?DNSName=='$LB'].[Scheme,State.Code]" --output text   # internet-facing active`,
		"dig +short "+p.App.Domain+"; dig +short \"$LB\"   # an address in common",
		"curl -sS -o /dev/null -w '%{http_code}\\n' https://"+p.App.Domain+"/   # verifies the certificate against the system roots")
	return b.String(), nil
}

// RolloutScript is the add-on workloads row (AddonWorkloads) for one add-on,
// as bash: the Deployments, StatefulSets and DaemonSets its release made,
// found by Helm's release annotation with jq, each waited for with
// `kubectl rollout status`, whose rule the row applies. A release that
// made none is said; the script's status is false when any workload has
// not rolled out or there is none.
func RolloutScript(c addons.Chart, kubeconfig, timeout string) string {
	kc := "--kubeconfig " + kubeconfig
	return fmt.Sprintf(`workloads=$(kubectl get deployments,statefulsets,daemonsets --namespace %[1]s %[2]s -o json |
  jq -r --arg release %[3]s '.items[] | select(.metadata.annotations[%[4]q] == $release) | "\(.kind | ascii_downcase)/\(.metadata.name)"')
rc=0
if [ -z "$workloads" ]; then echo "%[3]s made no Deployment, StatefulSet or DaemonSet in namespace %[1]s" >&2; rc=1; fi
while read -r w; do [ -z "$w" ] || kubectl rollout status "$w" --namespace %[1]s --timeout %[5]s %[2]s || rc=1; done <<<"$workloads"
[ "$rc" = 0 ]`,
		c.Namespace, kc, c.Release, ReleaseAnnotation, timeout)
}
