package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// envDelays names the environment variable that makes the fake take
// eksctl's time (see the package comment).
const envDelays = "FAKE_EKSCTL_DELAYS"

// delays is FAKE_EKSCTL_DELAYS parsed: how long each stage of eksctl's
// CloudFormation work takes. Zero, the default, is no wait at all.
type delays struct {
	network, controlPlane, iam, nodeGroup time.Duration
	deleteNodeGroup, deleteCluster        time.Duration
	// upgradeCluster and upgradeNodeGroup are the time EKS takes for a
	// control-plane version update and a node group's rolling update.
	upgradeCluster, upgradeNodeGroup time.Duration
}

// parseDelays reads "key=duration,..." with Go durations ("90s", "2m",
// "1.5s"). Unknown keys, repeated keys and negative durations are errors:
// a benchmark with a misspelt key would otherwise measure nothing quietly.
func parseDelays(s string) (delays, error) {
	var d delays
	fields := map[string]*time.Duration{
		"network":          &d.network,
		"controlplane":     &d.controlPlane,
		"iam":              &d.iam,
		"nodegroup":        &d.nodeGroup,
		"deletenodegroup":  &d.deleteNodeGroup,
		"deletecluster":    &d.deleteCluster,
		"upgradecluster":   &d.upgradeCluster,
		"upgradenodegroup": &d.upgradeNodeGroup,
	}
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		key = strings.TrimSpace(key)
		field := fields[key]
		switch {
		case !ok:
			return delays{}, fmt.Errorf("%s: %q is not key=duration", envDelays, item)
		case field == nil:
			return delays{}, fmt.Errorf("%s: unknown key %q (known: network, controlplane, iam, nodegroup, deletenodegroup, deletecluster, upgradecluster, upgradenodegroup)", envDelays, key)
		case seen[key]:
			return delays{}, fmt.Errorf("%s: %q given twice", envDelays, key)
		}
		v, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil {
			return delays{}, fmt.Errorf("%s: %s: %w", envDelays, key, err)
		}
		if v < 0 {
			return delays{}, fmt.Errorf("%s: %s: negative duration %s", envDelays, key, v)
		}
		seen[key] = true
		*field = v
	}
	return d, nil
}

// pause waits d, the time AWS takes for what, unless ctx ends first (SIGINT
// or SIGTERM): then it returns an error at once, and the caller returns it
// and leaves what it has made, as an interrupted eksctl leaves its stacks
// (create cluster first completes its cluster stack, as CloudFormation
// does).
func pause(ctx context.Context, d time.Duration, what string) error {
	if d <= 0 {
		return nil
	}
	info("waiting %s for %s (%s)", d, what, envDelays)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("interrupted while waiting for %s: %w", what, context.Cause(ctx))
	}
}
