package addons

import (
	"fmt"
	"strconv"
	"strings"
)

// Compat is what a pinned chart says about the Kubernetes versions it runs
// on, read from the chart at its tag.
type Compat struct {
	// KubeVersion is the chart's Chart.yaml kubeVersion, the constraint
	// Helm checks against the cluster's version on every install and
	// upgrade (helm's pkg/chartutil IsCompatibleRange); "" when the chart
	// states none. `bootstrap upgrade` checks it before the control plane
	// moves, so that a chart the new version would refuse stops the
	// upgrade before anything changed rather than half-way.
	KubeVersion string
	// TestedOn is the newest Kubernetes minor the chart's project says it
	// tests the release on, when it says so; "" when it does not. Beyond
	// it the preflight warns, it does not refuse.
	TestedOn string
	// Checked says where the facts were read.
	Checked string
}

// Compats holds the facts of every pin, by chart-version (Chart.NameVersion).
// A pin without an entry is refused by the upgrade's preflight: moving a
// pin means reading its chart again.
var Compats = map[string]Compat{
	"aws-load-balancer-controller-3.5.0": {
		Checked: "aws/eks-charts stable/aws-load-balancer-controller/Chart.yaml: no kubeVersion (the revisions of the file readable here, older than the pin, state none)",
	},
	"external-secrets-2.9.0": {
		KubeVersion: ">= 1.19.0-0", TestedOn: "1.34",
		Checked: "external-secrets/external-secrets deploy/charts/external-secrets/Chart.yaml at 2.0.0 (kubeVersion >= 1.19.0-0; the 2.9.0 file was not readable here); docs/introduction/stability-support.md there lists ESO 2.0 with Kubernetes 1.34",
	},
	"external-dns-1.21.1": {
		Checked: "kubernetes-sigs/external-dns charts/external-dns/Chart.yaml: no kubeVersion in the revision readable here (chart 1.10.1, commit e2c5063232d9c10bbf2103b0d23e585587526c25, older than the pin); the 1.21.1 file itself was not readable here",
	},
	"reloader-2.2.17": {
		Checked: "stakater/Reloader deployments/kubernetes/chart/reloader/Chart.yaml: no kubeVersion (the revisions of the file readable here, older than the pin, state none; the 2.2.17 file was not readable here)",
	},
	"metrics-server-3.13.1": {
		Checked: "kubernetes-sigs/metrics-server charts/metrics-server/Chart.yaml: no kubeVersion (the revisions of the file readable here, older than the pin, state none)",
	},
}

// CompatOf returns the facts of a pin, and false when there are none.
func CompatOf(c Chart) (Compat, bool) {
	cp, ok := Compats[c.NameVersion()]
	return cp, ok
}

// Allows reports whether the chart's kubeVersion admits a Kubernetes minor
// ("1.35", checked as the server version v1.35.0, as Helm sees an EKS
// cluster's). It reads the part of Helm's constraint grammar
// (Masterminds/semver: comparisons joined by "," or spaces, alternatives
// by "||") the pinned charts use; anything else is an error, never a pass.
func (cp Compat) Allows(minor string) (bool, error) {
	if strings.TrimSpace(cp.KubeVersion) == "" {
		return true, nil
	}
	v, err := parseVersion(minor + ".0")
	if err != nil {
		return false, err
	}
	for _, alt := range strings.Split(cp.KubeVersion, "||") {
		ok, err := allOf(alt, v)
		if err != nil {
			return false, fmt.Errorf("kubeVersion %q: %w", cp.KubeVersion, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func allOf(clauses string, v [3]int) (bool, error) {
	fields := strings.FieldsFunc(clauses, func(r rune) bool { return r == ',' })
	var terms []string
	for _, f := range fields {
		// ">= 1.19.0-0 < 1.36.0" has two comparisons in one field.
		parts := strings.Fields(f)
		for i := 0; i < len(parts); i++ {
			p := parts[i]
			if isOperator(p) && i+1 < len(parts) {
				p += parts[i+1]
				i++
			}
			terms = append(terms, p)
		}
	}
	if len(terms) == 0 {
		return false, fmt.Errorf("empty constraint")
	}
	for _, t := range terms {
		op := strings.TrimRight(t, "0123456789.-v")
		want, err := parseVersion(strings.TrimPrefix(t, op))
		if err != nil {
			return false, err
		}
		c := compare(v, want)
		var ok bool
		switch op {
		case ">=":
			ok = c >= 0
		case ">":
			ok = c > 0
		case "<=":
			ok = c <= 0
		case "<":
			ok = c < 0
		case "=", "":
			ok = c == 0
		case "!=":
			ok = c != 0
		default:
			return false, fmt.Errorf("operator %q is not read here", op)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func isOperator(s string) bool {
	switch s {
	case ">=", ">", "<=", "<", "=", "!=":
		return true
	}
	return false
}

// parseVersion reads 1.19.0-0 (a pre-release suffix, which Helm's charts
// add so that EKS's v1.35.0-eks-... versions match, is dropped: the
// server's own pre-release is ignored the same way).
func parseVersion(s string) ([3]int, error) {
	var v [3]int
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexByte(s, '-'); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 3 {
		return v, fmt.Errorf("version %q is not major.minor.patch", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return v, fmt.Errorf("version %q is not major.minor.patch", s)
		}
		v[i] = n
	}
	return v, nil
}

func compare(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
