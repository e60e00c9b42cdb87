package addons

import (
	"fmt"
	"time"
)

// The argv of every helm and kubectl command the add-ons phase runs, as pure
// functions: the pipeline runs them, plan and runbook print them, and the
// tests compare them with golden files without running anything.

// FieldManager is the server-side apply field manager of what bootstrap
// applies with kubectl, so that its fields are told apart from Helm's.
const FieldManager = "bootstrap"

// DefaultTimeout is helm's --timeout per release when none is given: image
// pulls and two replicas becoming ready on new nodes take minutes.
const DefaultTimeout = 10 * time.Minute

// Timeout renders a duration as helm reads it ("10m", "90s").
func Timeout(d time.Duration) string {
	if d <= 0 {
		d = DefaultTimeout
	}
	switch {
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

// RepoAdd adds (or refreshes the URL of) the repository of c under
// bootstrap's own name for it. --force-update makes it succeed when the
// repository is already there; the name is bootstrap-<repo>, so no
// repository of the user's is rewritten.
func RepoAdd(c Chart) []string {
	return []string{"repo", "add", c.RepoName, c.RepoURL, "--force-update"}
}

// RepoUpdate fetches the indexes of the named repositories.
func RepoUpdate(names ...string) []string {
	return append([]string{"repo", "update"}, names...)
}

// Pull downloads chart c at its pinned version and unpacks it under dir
// (dir/<chart>), for its crds/ directory. helm pull refuses to unpack over an
// existing directory, so dir must not exist.
func Pull(c Chart, dir string) []string {
	return []string{"pull", c.Ref(), "--version", c.Version, "--untar", "--untardir", dir}
}

// List shows the release of c, whatever its status (--all includes pending
// and failed ones), as JSON: `[]` when there is none.
func List(c Chart, kubeconfig string) []string {
	return []string{"list", "--namespace", c.Namespace, "--filter", "^" + c.Release + "$", "--all", "--output", "json", "--kubeconfig", kubeconfig}
}

// GetValues shows the values the release of c was installed with (only those
// given, not the chart's defaults), as JSON.
func GetValues(c Chart, kubeconfig string) []string {
	return []string{"get", "values", c.Release, "--namespace", c.Namespace, "--output", "json", "--kubeconfig", kubeconfig}
}

// UpgradeInstall installs or upgrades the release of c from ref (repo/chart
// or a local directory) at the pinned version with one values file. --atomic
// rolls a failed upgrade back (and removes a failed first install), --wait
// holds until the Deployments are ready, so a release is either deployed and
// running or left as it was.
func UpgradeInstall(c Chart, ref, valuesFile string, timeout time.Duration, kubeconfig string) []string {
	return []string{
		"upgrade", "--install", c.Release, ref,
		"--namespace", c.Namespace, "--create-namespace",
		"--version", c.Version,
		"--values", valuesFile,
		"--atomic", "--wait", "--timeout", Timeout(timeout),
		"--kubeconfig", kubeconfig,
	}
}

// Uninstall removes the release of c and waits until its resources are gone.
func Uninstall(c Chart, timeout time.Duration, kubeconfig string) []string {
	return []string{"uninstall", c.Release, "--namespace", c.Namespace, "--wait", "--timeout", Timeout(timeout), "--kubeconfig", kubeconfig}
}

// KubectlApply applies the manifests of a file or directory server-side.
// Applying what is already there changes nothing (not even the
// resourceVersion); --force-conflicts takes over fields another manager set
// (helm, when it created the CRDs of a first install).
func KubectlApply(path, kubeconfig string) []string {
	return []string{"apply", "--server-side", "--field-manager", FieldManager, "--force-conflicts", "--filename", path, "--kubeconfig", kubeconfig}
}

// KubectlDelete deletes what a file or directory describes, succeeding for
// what is already gone, and waits for finalizers.
func KubectlDelete(path string, timeout time.Duration, kubeconfig string) []string {
	return []string{"delete", "--filename", path, "--ignore-not-found", "--wait", "--timeout", Timeout(timeout), "--kubeconfig", kubeconfig}
}

// KubectlDeleteNamespace deletes a namespace and everything in it, succeeding
// when it is already gone.
func KubectlDeleteNamespace(name string, timeout time.Duration, kubeconfig string) []string {
	return []string{"delete", "namespace", name, "--ignore-not-found", "--wait", "--timeout", Timeout(timeout), "--kubeconfig", kubeconfig}
}
