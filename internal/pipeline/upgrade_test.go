package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
)

// liveAt is an environment as `up` leaves it at a Kubernetes version.
func liveAt(p *config.Profile, version string) LiveVersions {
	return LiveVersions{
		ControlPlane: version,
		NodeGroup:    cloud.NodeGroupFacts{Name: p.Cluster.NodeGroup.Name, Exists: true, Version: version},
		Addons:       []cloud.AddonFacts{{Name: "coredns", Exists: true, Version: "v1.12.4-eksbuild.1"}},
		Database:     p.Database.EngineVersion + ".7",
		Redis:        "7.1.0",
	}
}

// TestPreflight: each refusal alone, named with its fix; a clean
// environment passes. Every case but "clean" must refuse exactly once.
func TestPreflight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		edit       func(p *config.Profile, l *LiveVersions, d *[]DeprecatedAPI)
		addonErr   error
		compat     map[string]addons.Compat
		wantReason string
		wantFix    string
	}{
		{name: "clean", edit: func(*config.Profile, *LiveVersions, *[]DeprecatedAPI) {}},
		{name: "several minors, nodes within skew", edit: func(p *config.Profile, l *LiveVersions, _ *[]DeprecatedAPI) {
			*l = liveAt(p, "1.32")
		}},
		{name: "nodes too far behind", edit: func(p *config.Profile, l *LiveVersions, _ *[]DeprecatedAPI) {
			l.ControlPlane = "1.33"
			l.NodeGroup.Version = "1.31"
		}, wantReason: "4 minors behind", wantFix: "set kubernetesVersion to 1.34"},
		{name: "nodes newer than the control plane", edit: func(p *config.Profile, l *LiveVersions, _ *[]DeprecatedAPI) {
			l.ControlPlane = "1.34"
			l.NodeGroup.Version = "1.35"
		}, wantReason: "newer than the control plane", wantFix: "upgrade the control plane"},
		{name: "roll back", edit: func(p *config.Profile, l *LiveVersions, _ *[]DeprecatedAPI) {
			p.Cluster.KubernetesVersion = "1.34"
			*l = liveAt(p, "1.34")
			l.ControlPlane = "1.35"
		}, wantReason: "does not roll back", wantFix: "kubernetesVersion to 1.35"},
		{name: "pin does not support the target", edit: func(*config.Profile, *LiveVersions, *[]DeprecatedAPI) {},
			compat:     map[string]addons.Compat{"metrics-server": {KubeVersion: ">= 1.25.0-0, < 1.35.0-0", Checked: "test"}},
			wantReason: `does not support Kubernetes 1.35 (its kubeVersion is ">= 1.25.0-0, < 1.35.0-0"`, wantFix: "move the metrics-server pin"},
		{name: "pin without facts", edit: func(*config.Profile, *LiveVersions, *[]DeprecatedAPI) {},
			compat:     map[string]addons.Compat{"metrics-server": {}},
			wantReason: "has no compatibility facts", wantFix: "Chart.yaml kubeVersion"},
		{name: "EKS add-on not offered", edit: func(*config.Profile, *LiveVersions, *[]DeprecatedAPI) {},
			addonErr: errors.New("EKS lists no version of add-on coredns for Kubernetes 1.35"), wantReason: "EKS add-on coredns", wantFix: "EKS offers"},
		{name: "removed API requested", edit: func(_ *config.Profile, _ *LiveVersions, d *[]DeprecatedAPI) {
			*d = []DeprecatedAPI{{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta3", Resource: "flowschemas", RemovedRelease: "1.32"},
				{Group: "example.io", Version: "v1beta1", Resource: "later", RemovedRelease: "1.40"}}
		}, wantReason: "flowschemas flowcontrol.apiserver.k8s.io/v1beta3, which Kubernetes 1.35 no longer serves", wantFix: "deprecation-guide"},
		{name: "API removed by the target itself", edit: func(_ *config.Profile, _ *LiveVersions, d *[]DeprecatedAPI) {
			*d = []DeprecatedAPI{{Group: "example.io", Version: "v1beta1", Resource: "widgets", RemovedRelease: "1.35"}}
		}, wantReason: "widgets example.io/v1beta1, which Kubernetes 1.35 no longer serves (removed in 1.35", wantFix: "replacement"},
		{name: "database major", edit: func(p *config.Profile, l *LiveVersions, _ *[]DeprecatedAPI) {
			l.Database = "14.12"
		}, wantReason: "from major 14 to 15", wantFix: "bootstrap upgrade --env staging --allow-database-major (a manual snapshot sovd-staging-before-postgres15 first"},
		{name: "database downgrade", edit: func(p *config.Profile, l *LiveVersions, _ *[]DeprecatedAPI) {
			l.Database = "16.4"
		}, wantReason: "does not downgrade", wantFix: "engineVersion to 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := config.Builtin("staging")
			p.Cluster.KubernetesVersion = "1.35"
			p.Database.EngineVersion = "15"
			live := liveAt(p, "1.34")
			var deprecated []DeprecatedAPI
			tt.edit(p, &live, &deprecated)
			addonFor := func(string) error { return tt.addonErr }
			saved := addons.Compats()
			if tt.compat != nil {
				// Compats is package state: swap one entry on a copy.
				cp := map[string]addons.Compat{}
				for k, v := range saved {
					cp[k] = v
				}
				for chart, c := range tt.compat {
					for _, pin := range addons.Charts() {
						if pin.Chart == chart {
							if c.Checked == "" {
								delete(cp, pin.NameVersion())
							} else {
								cp[pin.NameVersion()] = c
							}
						}
					}
				}
				refusals, _ := preflightWith(p, live, deprecated, addonFor, cp, false)
				check(t, refusals, tt.wantReason, tt.wantFix)
				return
			}
			refusals, _ := Preflight(p, live, deprecated, addonFor, false)
			check(t, refusals, tt.wantReason, tt.wantFix)
		})
	}
}

func check(t *testing.T, refusals []Refusal, reason, fix string) {
	t.Helper()
	if reason == "" {
		if len(refusals) != 0 {
			t.Fatalf("refused a clean upgrade: %+v", refusals)
		}
		return
	}
	if len(refusals) != 1 {
		t.Fatalf("want one refusal containing %q, got %+v", reason, refusals)
	}
	if !strings.Contains(refusals[0].Reason, reason) || !strings.Contains(refusals[0].Fix, fix) {
		t.Errorf("refusal %+v\nwant reason containing %q and fix containing %q", refusals[0], reason, fix)
	}
}

func TestPreflightWarnsBeyondTested(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	p.Cluster.KubernetesVersion = "1.35"
	cp := map[string]addons.Compat{}
	for _, c := range addons.Charts() {
		cp[c.NameVersion()] = addons.Compat{Checked: "test", TestedOn: "1.34"}
	}
	refusals, warnings := preflightWith(p, liveAt(p, "1.34"), nil, nil, cp, false)
	if len(refusals) != 0 || len(warnings) != len(addons.Charts()) || !strings.Contains(warnings[0], "tested upstream on Kubernetes 1.34 only") {
		t.Errorf("refusals %v, warnings %v", refusals, warnings)
	}
}

func TestParseDeprecatedAPIs(t *testing.T) {
	t.Parallel()
	metrics := `# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, subresource, and removed_release.
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="flowschemas",subresource="",version="v1beta3"} 1
apiserver_requested_deprecated_apis{group="",removed_release="",resource="componentstatuses",subresource="",version="v1"} 1
apiserver_requested_deprecated_apis{group="x.io",removed_release="1.40",resource="things",subresource="status",version="v1alpha1"} 0
apiserver_request_total{code="200"} 5
`
	got := ParseDeprecatedAPIs([]byte(metrics))
	if len(got) != 2 {
		t.Fatalf("got %+v", got)
	}
	if got[0].String() != "componentstatuses v1" || got[1].String() != "flowschemas flowcontrol.apiserver.k8s.io/v1beta3" || got[1].RemovedRelease != "1.32" {
		t.Errorf("got %+v", got)
	}
}

func TestParseDrainBlockers(t *testing.T) {
	t.Parallel()
	list := `{"items":[
	 {"metadata":{"name":"web","namespace":"shop"},"status":{"disruptionsAllowed":0,"expectedPods":2}},
	 {"metadata":{"name":"ok","namespace":"shop"},"status":{"disruptionsAllowed":1,"expectedPods":2}},
	 {"metadata":{"name":"empty","namespace":"shop"},"status":{"disruptionsAllowed":0,"expectedPods":0}}]}`
	got, err := ParseDrainBlockers([]byte(list))
	if err != nil || len(got) != 1 || got[0].String() != "shop/web" || got[0].Pods != 2 {
		t.Errorf("got %+v, %v", got, err)
	}
	e := &DrainBlockedError{NodeGroup: "ng", Budgets: got, Err: errors.New("PodEvictionFailure")}
	if !strings.Contains(e.Error(), "PodDisruptionBudget shop/web (allows 0 disruptions of its 2 pod(s))") {
		t.Errorf("error: %v", e)
	}
}
