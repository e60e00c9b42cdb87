package main

import (
	"strings"
	"testing"
)

// TestResolveUpgradeVersion follows pkg/eks/versions_manager.go
// ResolveUpgradeVersion at v0.230.0: one version at a time, either way.
func TestResolveUpgradeVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		desired, current, want, wantErr string
	}{
		{desired: "", current: "1.34", want: "1.35"},
		{desired: "auto", current: "1.34", want: "1.35"},
		{desired: "", current: "1.35", want: ""},
		{desired: "1.35", current: "1.34", want: "1.35"},
		{desired: "1.34", current: "1.34", want: ""},
		{desired: "1.35", current: "1.33", wantErr: `Please upgrade to "1.34" first`},
		{desired: "1.33", current: "1.34", want: "1.33"},
		{desired: "1.32", current: "1.34", wantErr: `Please downgrade to "1.33" first`},
		{desired: "1.36", current: "1.35", wantErr: `control plane version "1.36" is not supported`},
		{desired: "1.29", current: "1.29", want: ""},
		{desired: "1.28", current: "1.29", wantErr: "not supported"},
		{desired: "1.35", current: "", wantErr: "couldn't resolve control plane version"},
	}
	for _, tt := range tests {
		got, err := resolveUpgradeVersion(tt.desired, tt.current)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q from %q: error %v, want %q", tt.desired, tt.current, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q from %q: %q, %v; want %q", tt.desired, tt.current, got, err, tt.want)
		}
	}
}

func TestAddonVersionOrder(t *testing.T) {
	t.Parallel()
	if !addonVersionLess("v1.12.4-eksbuild.1", "v1.13.1-eksbuild.1") || !addonVersionLess("v1.9.9-eksbuild.1", "v1.10.0-eksbuild.1") || addonVersionLess("v1.13.1-eksbuild.2", "v1.13.1-eksbuild.1") {
		t.Error("add-on versions are not ordered numerically")
	}
}
