package config

import (
	"fmt"
	"slices"
	"time"
)

// checkSupportType reports what is wrong with cluster.supportType, through
// add (path relative to the profile, message, hint). It is kept apart from
// ValidateProfile so that the validation's sections can call it wherever
// they end up.
//
// The values are eksctl's (pkg/apis/eksctl.io/v1alpha5 validation.go
// validateSupportType: STANDARD or EXTENDED; eksctl/addons_test.go keeps
// SupportTypes equal to its constants). An empty value is refused rather
// than left to eksctl, whose default is EXTENDED (types.go
// DefaultSupportType): the choice bills $0.60/h instead of $0.10/h once the
// version leaves standard support, so the profile makes it.
func checkSupportType(c Cluster, _ time.Time, add func(path, msg, hint string)) {
	if !slices.Contains(SupportTypes, c.SupportType) {
		add("cluster.supportType", fmt.Sprintf("%q is not an EKS support type", c.SupportType),
			"STANDARD (EKS upgrades the cluster when its version leaves standard support) or EXTENDED (the control plane then costs $0.60/h instead of $0.10/h until upgraded)")
	}
}
