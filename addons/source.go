package addons

import "path/filepath"

// Source says where helm gets each chart. The zero Source is the upstream
// repository of every pin (helm repo add, then repo/chart --version): what
// bootstrap does on AWS and what the runbook shows. Local replaces a chart by
// a chart directory of the same name and version, for a release at a time:
// the tests install charts they build, and an air-gapped site can install
// from a mirror it unpacked.
type Source struct {
	// Local maps a release name to a chart directory.
	Local map[string]string
}

// Ref is the chart argument helm gets for c: the local directory, or
// repo/chart.
func (s Source) Ref(c Chart) string {
	if dir, ok := s.Local[c.Release]; ok {
		return dir
	}
	return c.Ref()
}

// IsLocal reports whether c comes from a local directory.
func (s Source) IsLocal(c Chart) bool {
	_, ok := s.Local[c.Release]
	return ok
}

// Repos are the repositories the charts not taken locally come from, in
// install order, each once.
func (s Source) Repos(charts []Chart) []Chart {
	var out []Chart
	seen := map[string]bool{}
	for _, c := range charts {
		if s.IsLocal(c) || seen[c.RepoName] {
			continue
		}
		seen[c.RepoName] = true
		out = append(out, c)
	}
	return out
}

// CRDsDir is where the CRDs of a chart with a crds/ directory are read from:
// the local chart's own crds/, or crds/ of the chart helm pull unpacked into
// pullDir.
func (s Source) CRDsDir(c Chart, pullDir string) string {
	if dir, ok := s.Local[c.Release]; ok {
		return filepath.Join(dir, "crds")
	}
	return filepath.Join(pullDir, c.Chart, "crds")
}
