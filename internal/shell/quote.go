// Package shell renders argv as a POSIX shell reads it back. It is a leaf:
// it imports nothing of the project, so the render-only packages (eksctl/,
// addons/), the runner (internal/proc) and the commands that print
// commands (plan, runbook, doctor) share one quoting rule.
package shell

import "strings"

// Quote renders argv as a shell would read it back.
func Quote(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = quoteArg(a)
	}
	return strings.Join(parts, " ")
}

func quoteArg(a string) string {
	if a == "" {
		return "''"
	}
	safe := true
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r)) {
			safe = false
			break
		}
	}
	if safe {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}
