package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/weaveworks/eksctl/pkg/utils/instance"
)

// The processor architectures a profile can choose (architecture), spelled
// as EC2 spells them (DescribeInstanceTypes ProcessorInfo.
// SupportedArchitectures).
const (
	ArchX86 = "x86_64"
	ArchARM = "arm64"
)

// Architectures are the values of a profile's architecture.
var Architectures = []string{ArchX86, ArchARM}

// InstanceArch is the processor architecture of an EC2 instance type, an RDS
// instance class (db.<type>) or an ElastiCache node type (cache.<type>):
// the architecture of the EC2 type it is built on, "" when unknown.
//
// The rule is eksctl's own, not a copy: eksctl v0.230.0 picks a node group's
// AMI type by instance.IsARMInstanceType (pkg/apis/eksctl.io/v1alpha5
// amitype.go GetAMIType), which reads InstanceTypesMap[type].CPUArch
// ("x86-64" or "arm64", generated from EC2's DescribeInstanceTypes), and
// this reads the same map. RDS and ElastiCache classes run on the EC2 type
// of the same name (AWS: db.t4g and cache.t4g are "Graviton2", like t4g), so
// the prefix is dropped and the same map answers.
func InstanceArch(typ string) string {
	base := strings.TrimPrefix(strings.TrimPrefix(typ, "db."), "cache.")
	switch instance.InstanceTypesMap[base].CPUArch {
	case "x86-64", "x86_64":
		return ArchX86
	case "arm64":
		return ArchARM
	}
	return ""
}

// GravitonCounterparts maps each x86 type of the catalog to the Graviton
// (arm64) type of the same size and role: the T3 burstable types to T4g,
// the general-purpose M types to M7g, C6i to C7g, R6i to R7g. A validation
// error for a mixed profile names the counterpart as the fix; `bootstrap
// cost` prices the counterpart profile to show the saving.
var GravitonCounterparts = map[string]string{
	"t3.medium":       "t4g.medium",
	"t3.large":        "t4g.large",
	"t3.xlarge":       "t4g.xlarge",
	"t3.2xlarge":      "t4g.2xlarge",
	"m5.large":        "m7g.large",
	"m5.xlarge":       "m7g.xlarge",
	"m6i.large":       "m7g.large",
	"m6i.xlarge":      "m7g.xlarge",
	"m7i.large":       "m7g.large",
	"c6i.large":       "c7g.large",
	"r6i.large":       "r7g.large",
	"db.t3.medium":    "db.t4g.medium",
	"db.t3.large":     "db.t4g.large",
	"db.m5.large":     "db.m7g.large",
	"db.m6i.large":    "db.m7g.large",
	"cache.t3.small":  "cache.t4g.small",
	"cache.t3.medium": "cache.t4g.medium",
}

// x86Counterparts is GravitonCounterparts read backwards; where several x86
// types share a Graviton counterpart, the newest family is named.
var x86Counterparts = func() map[string]string {
	m := map[string]string{}
	for x86, g := range GravitonCounterparts {
		m[g] = x86
	}
	m["m7g.large"], m["m7g.xlarge"], m["db.m7g.large"] = "m7i.large", "m6i.xlarge", "db.m6i.large"
	return m
}()

// X86Counterpart is the x86 type of the same size and role as a Graviton
// type ("" when the catalog has none).
func X86Counterpart(graviton string) string { return x86Counterparts[graviton] }

// WithArchitecture is a copy of p on the other architecture: every node,
// database and cache type replaced by its counterpart (unchanged when it has
// none, which validation then reports). `bootstrap cost` prices it to show
// what the other architecture saves or costs.
func WithArchitecture(p *Profile, arch string) *Profile {
	q := *p
	q.Architecture = arch
	swap := func(typ string) string {
		if arch == ArchARM {
			if g, ok := GravitonCounterparts[typ]; ok {
				return g
			}
			return typ
		}
		if x := X86Counterpart(typ); x != "" {
			return x
		}
		return typ
	}
	q.Cluster.NodeGroup.InstanceType = swap(p.Cluster.NodeGroup.InstanceType)
	q.Database.InstanceClass = swap(p.Database.InstanceClass)
	q.Redis.NodeType = swap(p.Redis.NodeType)
	return &q
}

// checkArchitecture refuses an unknown architecture and any node, database
// or cache type of the other architecture: eksctl would pick the AMI by the
// instance type (so the profile's word would be silently wrong), and a
// Graviton profile is Graviton throughout.
func checkArchitecture(v *validator, p *Profile, _ time.Time) {
	if !slices.Contains(Architectures, p.Architecture) {
		v.add("architecture", fmt.Sprintf("%s is not an architecture", quote(p.Architecture)),
			"x86_64 (Intel/AMD: t3, m6i, db.t3, cache.t3) or arm64 (Graviton: t4g, m7g, db.t4g, cache.t4g)")
		return
	}
	for _, f := range []struct{ path, typ string }{
		{"cluster.nodeGroup.instanceType", p.Cluster.NodeGroup.InstanceType},
		{"database.instanceClass", p.Database.InstanceClass},
		{"redis.nodeType", p.Redis.NodeType},
	} {
		got := InstanceArch(f.typ)
		if got == "" || got == p.Architecture {
			continue // unknown types are their section's problem
		}
		hint := fmt.Sprintf("set architecture: %s, or choose a %s type", got, p.Architecture)
		if p.Architecture == ArchARM {
			if g, ok := GravitonCounterparts[f.typ]; ok {
				hint = fmt.Sprintf("use %s (the Graviton counterpart of %s), or set architecture: %s", g, f.typ, ArchX86)
			}
		} else if x := X86Counterpart(f.typ); x != "" {
			hint = fmt.Sprintf("use %s (the x86 counterpart of %s), or set architecture: %s", x, f.typ, ArchARM)
		}
		v.add(f.path, fmt.Sprintf("%s is an %s type but architecture is %s", quote(f.typ), got, p.Architecture), hint)
	}
}
