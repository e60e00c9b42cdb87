package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// checkSupportType reports what is wrong with cluster.supportType, through
// add (path relative to the profile, message, hint). It is kept apart from
// ValidateProfile so that the validation's sections can call it wherever
// they end up.
//
// The values are eksctl's (pkg/apis/eksctl.io/v1alpha5 validation.go
// validateSupportType, STANDARD or EXTENDED). An empty value is refused
// rather than left to eksctl, whose default is EXTENDED: the choice bills
// $0.60/h instead of $0.10/h once the version leaves standard support, so
// it is made in the profile. STANDARD means EKS upgrades the cluster when
// its version leaves standard support; a version already past it cannot
// be STANDARD.
func checkSupportType(c Cluster, now time.Time, add func(path, msg, hint string)) {
	const path = "cluster.supportType"
	if !slices.Contains(SupportTypes, c.SupportType) {
		add(path, fmt.Sprintf("%q is not an EKS support type", c.SupportType),
			"STANDARD (EKS upgrades the cluster when its version leaves standard support) or EXTENDED (the control plane then costs $0.60/h instead of $0.10/h until upgraded)")
		return
	}
	k, ok := LookupKubeVersion(c.KubernetesVersion)
	if ok && c.SupportType == SupportStandard && k.SupportTier(now) == "extended" {
		add(path, fmt.Sprintf("STANDARD, but Kubernetes %s left standard support on %s", k.Version, k.EndOfStandard.Format(time.DateOnly)),
			"choose a version in standard support ("+strings.Join(standardVersions(now), ", ")+"), or set EXTENDED and pay $0.60/h for the control plane")
	}
}

// standardVersions are the catalog's versions in standard support on a day.
func standardVersions(now time.Time) []string {
	var out []string
	for _, k := range KubeVersions {
		if k.SupportTier(now) == "standard" {
			out = append(out, k.Version)
		}
	}
	return out
}
