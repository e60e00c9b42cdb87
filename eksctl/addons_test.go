package eksctl

import (
	"slices"
	"strings"
	"testing"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"

	"github.com/sovd/bootstrap/addons"
	"github.com/sovd/bootstrap/internal/config"
)

// doubles are the EKS add-ons eksctl would make from cfg that a Helm
// release of addons.All also installs. The add-ons eksctl makes come
// from eksctl's own KnownAddons table (AddonsCreated), the releases from
// the chart list.
func doubles(cfg *api.ClusterConfig) []string {
	var out []string
	made := AddonsCreated(cfg)
	for _, c := range addons.All {
		if c.EKSAddon != "" && slices.Contains(made, strings.ToLower(c.EKSAddon)) {
			out = append(out, c.Release+" (EKS add-on "+c.EKSAddon+")")
		}
	}
	return out
}

// TestNoEKSAddonHelmAlsoInstalls fails when the rendered ClusterConfig would
// make eksctl install, as an EKS add-on, software a Helm release of
// bootstrap installs too (Helm then refuses the objects the add-on made),
// in every region bootstrap renders for; and when it would leave out a
// default add-on Helm does not replace (the node group needs the
// networking add-ons).
func TestNoEKSAddonHelmAlsoInstalls(t *testing.T) {
	t.Parallel()
	for _, env := range config.BuiltinEnvironments {
		for _, region := range config.Regions {
			p := profile(t, env)
			p.Region = region
			for i := range p.AvailabilityZones {
				p.AvailabilityZones[i] = region + string(rune('a'+i))
			}
			cfg, err := render(t, p)
			if err != nil {
				t.Fatalf("%s in %s: %v", env, region, err)
			}
			if d := doubles(cfg); len(d) > 0 {
				t.Errorf("%s in %s: eksctl would install as EKS add-ons what Helm installs: %v", env, region, d)
			}
			made := AddonsCreated(cfg)
			for name, known := range api.KnownAddons {
				if known.IsDefault && !slices.Contains(known.ExcludedRegions, region) && !slices.Contains(addons.EKSAddonsReplaced(), name) && !slices.Contains(made, name) {
					t.Errorf("%s in %s: default add-on %s is not made (made: %v)", env, region, name, made)
				}
			}
		}
	}
}

// TestDoublesCanFail: the ClusterConfig bootstrap rendered before (no
// addons, defaults on) makes eksctl install metrics-server beside Helm's.
func TestDoublesCanFail(t *testing.T) {
	t.Parallel()
	cfg, err := render(t, profile(t, "staging"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AddonsConfig, cfg.Addons = api.AddonsConfig{}, nil
	if d := doubles(cfg); !slices.Equal(d, []string{"metrics-server (EKS add-on metrics-server)"}) {
		t.Errorf("defaults on: doubles %v, want metrics-server", d)
	}
}

// TestSupportTypes: the profile's support type is rendered, and its values
// are eksctl's.
func TestSupportTypes(t *testing.T) {
	t.Parallel()
	if !slices.Equal(config.SupportTypes, []string{api.SupportTypeStandard, api.SupportTypeExtended}) {
		t.Errorf("config.SupportTypes %v, eksctl's %s and %s", config.SupportTypes, api.SupportTypeStandard, api.SupportTypeExtended)
	}
	for _, st := range config.SupportTypes {
		p := profile(t, "production")
		p.Cluster.SupportType = st
		cfg, err := render(t, p)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.UpgradePolicy == nil || cfg.UpgradePolicy.SupportType != st {
			t.Errorf("supportType %s rendered as %+v", st, cfg.UpgradePolicy)
		}
	}
	p := profile(t, "production")
	p.Cluster.SupportType = "standard"
	if _, err := render(t, p); err == nil || !strings.Contains(err.Error(), "upgradePolicy.supportType") {
		t.Errorf("eksctl's validation let %q through: %v", p.Cluster.SupportType, err)
	}
}
