package plan

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/pipeline"
)

// TestWriteUpgrade: a live plan whose cluster differs from the profile
// shows the upgrade's steps after up's, with the difference.
func TestWriteUpgrade(t *testing.T) {
	t.Parallel()
	res := Result{Environment: "staging", Region: "us-east-1", Mode: "live",
		Steps:      []pipeline.Description{{Step: "Creating EKS cluster with eksctl", Actions: []pipeline.Action{{Tool: "eksctl", Args: []string{"create", "cluster"}}}}},
		Upgrade:    []pipeline.Description{{Step: "Upgrading the control plane one minor version at a time", Actions: []pipeline.Action{{Tool: "eksctl", Args: []string{"upgrade", "cluster", "--version", "1.35", "--approve"}}}}},
		UpgradeWhy: []string{"control plane at 1.34, profile 1.35"},
	}
	var out bytes.Buffer
	if err := Write(&out, res, "123456789012"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"Upgrade: the live environment differs from the profile (control plane at 1.34, profile 1.35); `bootstrap upgrade --env staging` would run:",
		"1. Upgrading the control plane one minor version at a time\n   $ eksctl upgrade cluster --version 1.35 --approve",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
	res.Upgrade, res.UpgradeWhy = nil, nil
	out.Reset()
	_ = Write(&out, res, "123456789012")
	if strings.Contains(out.String(), "Upgrade:") {
		t.Errorf("a plan without differences shows an upgrade:\n%s", out.String())
	}
}
