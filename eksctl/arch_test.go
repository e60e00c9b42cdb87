package eksctl

import (
	"testing"
	"time"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
	"github.com/weaveworks/eksctl/pkg/utils/instance"

	"github.com/sovd/bootstrap/internal/config"
)

// TestArchitectureAgreesWithEksctl: the architecture bootstrap's validation
// gives each node type of its catalog is the one eksctl v0.230.0 picks the
// AMI by (pkg/apis/eksctl.io/v1alpha5 amitype.go GetAMIType, through
// pkg/utils/instance IsARMInstanceType), for the AMI family eksctl defaults
// a managed node group to. A type the two disagree on would pass validation
// and boot the wrong AMI.
func TestArchitectureAgreesWithEksctl(t *testing.T) {
	t.Parallel()
	arm := 0
	for typ := range config.NodeInstanceTypes {
		got := config.InstanceArch(typ)
		if got == "" {
			t.Errorf("%s: no architecture (not in eksctl's instance table)", typ)
			continue
		}
		ami := api.GetAMIType(api.DefaultNodeImageFamily, typ, false)
		wantARM := instance.IsARMInstanceType(typ)
		if (got == config.ArchARM) != wantARM {
			t.Errorf("%s: bootstrap says %s, eksctl's IsARMInstanceType %v", typ, got, wantARM)
		}
		if wantARM != (ami == ekstypes.AMITypesAl2023Arm64Standard) {
			t.Errorf("%s: eksctl picks AMI type %s for %s", typ, ami, got)
		}
		if got == config.ArchARM {
			arm++
		}
	}
	if arm == 0 {
		t.Error("the catalog has no Graviton node type")
	}
	// Every counterpart is a known type of the other architecture.
	for x86, g := range config.GravitonCounterparts {
		if config.InstanceArch(x86) != config.ArchX86 || config.InstanceArch(g) != config.ArchARM {
			t.Errorf("counterpart %s → %s: architectures %q → %q", x86, g, config.InstanceArch(x86), config.InstanceArch(g))
		}
	}
}

// TestGravitonProfileRenders: production on arm64 passes bootstrap's
// validation and eksctl's, and eksctl resolves its nodes to the AL2023 arm64
// AMI; an x86 type under architecture arm64 is refused by bootstrap's
// validation, naming the field.
func TestGravitonProfileRenders(t *testing.T) {
	t.Parallel()
	on := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	p := config.WithArchitecture(config.Builtin("production"), config.ArchARM)
	if probs := config.ValidateProfile(p, on); len(probs) > 0 {
		t.Fatalf("Graviton production is invalid: %v", probs)
	}
	cfg, err := Render(p, inputs(t, p))
	if err != nil {
		t.Fatal(err)
	}
	ng := cfg.ManagedNodeGroups[0].DeepCopy()
	if err := api.SetManagedNodeGroupDefaults(ng, cfg.Metadata, false); err != nil {
		t.Fatal(err)
	}
	if ami := api.GetAMIType(ng.AMIFamily, ng.InstanceType, false); ng.InstanceType != "t4g.large" || ami != ekstypes.AMITypesAl2023Arm64Standard {
		t.Errorf("node group %s (%s): AMI type %s, want t4g.large on %s", ng.Name, ng.AMIFamily, ami, ekstypes.AMITypesAl2023Arm64Standard)
	}

	p.Cluster.NodeGroup.InstanceType = "t3.large"
	probs := config.ValidateProfile(p, on)
	if len(probs) != 1 || probs[0].Path != "environments.production.cluster.nodeGroup.instanceType" {
		t.Errorf("t3.large under arm64: %v", probs)
	}
}
