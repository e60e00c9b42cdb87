package addons

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// Release statuses helm reports.
const (
	StatusDeployed = "deployed"
	StatusFailed   = "failed"
)

// ReleaseStatus is one entry of `helm list --output json`.
type ReleaseStatus struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Revision  string `json:"revision"`
	Status    string `json:"status"`
	// Chart is chart-version ("metrics-server-3.13.0").
	Chart      string `json:"chart"`
	AppVersion string `json:"app_version"`
}

// ParseList reads the output of List: the release, or nil when there is
// none.
func ParseList(c Chart, out []byte) (*ReleaseStatus, error) {
	var list []ReleaseStatus
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("reading helm list for %s: %w", c.Release, err)
	}
	for _, r := range list {
		if r.Name == c.Release && r.Namespace == c.Namespace {
			return &r, nil
		}
	}
	return nil, nil
}

// Pending reports a release left in the middle of an operation (helm was
// killed): helm refuses to upgrade it until it is rolled back.
func (r *ReleaseStatus) Pending() bool {
	switch r.Status {
	case "pending-install", "pending-upgrade", "pending-rollback", "uninstalling":
		return true
	}
	return false
}

// UpToDate reports whether the release already runs chart c at its pin with
// the given values (the output of GetValues): upgrading it would only make a
// new revision of the same thing.
func UpToDate(c Chart, r *ReleaseStatus, gotValues []byte, want any) (bool, error) {
	if r == nil || r.Status != StatusDeployed || r.Chart != c.NameVersion() {
		return false, nil
	}
	return SameValues(gotValues, want)
}

// SameValues compares the JSON helm shows for a release's values with the
// values bootstrap would give it, as data (key order and number formats do
// not matter).
func SameValues(got []byte, want any) (bool, error) {
	var g any
	if err := json.Unmarshal(got, &g); err != nil {
		return false, fmt.Errorf("reading helm get values: %w", err)
	}
	b, err := json.Marshal(want)
	if err != nil {
		return false, err
	}
	var w any
	if err := json.Unmarshal(b, &w); err != nil {
		return false, err
	}
	return reflect.DeepEqual(g, w), nil
}
