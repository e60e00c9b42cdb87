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
	// Version is the chart version the facts were read at. It must be
	// the pin's: a pin bumped without reading its chart again has facts
	// of another version, which CompatOf does not return.
	Version string
	// Checked says where the facts were read.
	Checked string
}

// Compats are the facts of every pin in All, by chart-version
// (Chart.NameVersion); a pin whose facts were read at another version than
// its own is not in it, and the upgrade's preflight refuses it: moving a
// pin means reading its chart again.
func Compats() map[string]Compat {
	out := map[string]Compat{}
	for _, c := range Charts() {
		if cp, ok := CompatOf(c); ok {
			out[c.NameVersion()] = cp
		}
	}
	return out
}

// CompatOf returns the facts of a pin, and false when there are none or
// they were read at another chart version.
func CompatOf(c Chart) (Compat, bool) {
	cp := c.Compat
	return cp, cp.Version == c.Version && cp.Checked != ""
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
