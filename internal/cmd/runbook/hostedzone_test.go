package runbook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/pipeline"
)

// zoneAPI imitates cloud.Clients' FindHostedZone (PickHostedZone over every
// zone) and HostedZoneExists (internal/cloud/dns.go: an unknown id is an
// error, a private zone is refused) over a fixed list of zones.
type zoneAPI []cloud.ZoneCandidate

func (z zoneAPI) FindHostedZone(_ context.Context, domain string) (cloud.HostedZone, error) {
	return cloud.PickHostedZone(domain, z)
}

func (z zoneAPI) HostedZoneExists(_ context.Context, id string) (cloud.HostedZone, error) {
	for _, c := range z {
		if strings.TrimPrefix(c.ID, "/hostedzone/") == id {
			if c.Private {
				return cloud.HostedZone{}, fmt.Errorf("app.hostedZoneID %s is a private zone", id)
			}
			return cloud.HostedZone{ID: id, Name: strings.TrimSuffix(c.Name, ".")}, nil
		}
	}
	return cloud.HostedZone{}, errors.New("NoSuchHostedZone")
}

// stubAWS is the aws CLI as the runbook's hosted_zone_id calls it: the
// zones as `--output text` prints the projection [Id,Name,PrivateZone]
// (tab-separated, True/False), all of them for list-hosted-zones, the one
// asked for by get-hosted-zone (exit 254, as the CLI on NoSuchHostedZone).
const stubAWS = `#!/usr/bin/env bash
printf '%s\n' "$*" >> "$STUB_DIR/calls"
case "$2" in
list-hosted-zones) cat "$STUB_DIR/zones" ;;
get-hosted-zone)
  line=$(awk -F '\t' -v id="$4" '$1 == "/hostedzone/" id' "$STUB_DIR/zones")
  if [ -z "$line" ]; then echo "An error occurred (NoSuchHostedZone)" >&2; exit 254; fi
  printf '%s\n' "$line" ;;
*) echo "stub aws: unexpected $*" >&2; exit 3 ;;
esac
`

// TestHostedZoneScriptAgreesWithGo runs the runbook's read of
// <hosted-zone-id> (the prelude's hosted_zone_id) with a stub aws on PATH
// and pipeline.ResolveHostedZone on the same zones: both must pick the same
// zone, or both refuse.
func TestHostedZoneScriptAgreesWithGo(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	pub := func(id, name string) cloud.ZoneCandidate {
		return cloud.ZoneCandidate{ID: "/hostedzone/" + id, Name: name}
	}
	priv := func(id, name string) cloud.ZoneCandidate {
		return cloud.ZoneCandidate{ID: "/hostedzone/" + id, Name: name, Private: true}
	}
	tests := []struct {
		name       string
		domain     string
		configured string
		zones      []cloud.ZoneCandidate
		want       string // "" means both refuse
	}{
		{"exact zone", "sovd.example.com", "", []cloud.ZoneCandidate{pub("Z1", "sovd.example.com.")}, "Z1"},
		{"parent zone", "sovd.example.com", "", []cloud.ZoneCandidate{pub("Z1", "example.com.")}, "Z1"},
		{"longest suffix wins", "app.sovd.example.com", "", []cloud.ZoneCandidate{pub("Z1", "example.com."), pub("Z2", "sovd.example.com."), pub("Z3", "com.")}, "Z2"},
		{"label boundary", "sovd.example.com", "", []cloud.ZoneCandidate{pub("Z1", "ample.com."), pub("Z2", "dexample.com.")}, ""},
		{"no zone", "sovd.example.com", "", []cloud.ZoneCandidate{pub("Z1", "example.org.")}, ""},
		{"no zones at all", "sovd.example.com", "", nil, ""},
		{"private left out", "sovd.example.com", "", []cloud.ZoneCandidate{priv("Z1", "sovd.example.com."), pub("Z2", "example.com.")}, "Z2"},
		{"only private", "sovd.example.com", "", []cloud.ZoneCandidate{priv("Z1", "example.com.")}, ""},
		{"ambiguous", "sovd.example.com", "", []cloud.ZoneCandidate{pub("Z1", "example.com."), pub("Z2", "example.com.")}, ""},
		{"ambiguous parent, unique child", "sovd.example.com", "", []cloud.ZoneCandidate{pub("Z1", "example.com."), pub("Z2", "example.com."), pub("Z3", "sovd.example.com.")}, "Z3"},
		{"case", "Sovd.Example.com", "", []cloud.ZoneCandidate{pub("Z1", "EXAMPLE.com.")}, "Z1"},
		{"configured", "sovd.example.com", "Z2", []cloud.ZoneCandidate{pub("Z1", "sovd.example.com."), pub("Z2", "example.com.")}, "Z2"},
		{"configured private", "sovd.example.com", "Z1", []cloud.ZoneCandidate{priv("Z1", "example.com.")}, ""},
		{"configured elsewhere", "sovd.example.com", "Z1", []cloud.ZoneCandidate{pub("Z1", "example.org.")}, ""},
		{"configured unknown", "sovd.example.com", "Z9", []cloud.ZoneCandidate{pub("Z1", "example.com.")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := config.Builtin("staging")
			p.App.Domain, p.App.HostedZoneID = tt.domain, tt.configured

			st := &pipeline.State{Profile: p}
			goErr := pipeline.ResolveHostedZone(context.Background(), zoneAPI(tt.zones), st)
			goZone := st.HostedZoneID
			if goErr != nil {
				goZone = ""
			}
			if goZone != tt.want {
				t.Fatalf("Go picked %q (%v), the table says %q", goZone, goErr, tt.want)
			}

			dir := t.TempDir()
			var zones strings.Builder
			for _, z := range tt.zones {
				fmt.Fprintf(&zones, "%s\t%s\t%s\n", z.ID, z.Name, map[bool]string{true: "True", false: "False"}[z.Private])
			}
			for name, content := range map[string]string{"aws": stubAWS, "zones": zones.String()} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			script := "set -euo pipefail\n" + strings.Join(prelude(p.Region, p), "\n") +
				"\nHOSTED_ZONE_ID=" + reader(p, "hosted-zone-id") + "\nprintf 'zone=%s\\n' \"${HOSTED_ZONE_ID}\"\n"
			cmd := exec.Command("bash", "-c", script)
			cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "STUB_DIR="+dir)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
			wantCall := "route53 list-hosted-zones --query HostedZones[].[Id,Name,Config.PrivateZone] --output text"
			if tt.configured != "" {
				wantCall = "route53 get-hosted-zone --id " + tt.configured + " --query [HostedZone.Id,HostedZone.Name,HostedZone.Config.PrivateZone] --output text"
			}
			if strings.TrimSpace(string(calls)) != wantCall {
				t.Errorf("the script called aws as\n%s\nwant\n%s", calls, wantCall)
			}
			switch {
			case tt.want == "" && err == nil:
				t.Errorf("Go refused (%v), the script went on with %q", goErr, stdout.String())
			case tt.want == "" && !strings.Contains(stderr.String(), "hosted") && !strings.Contains(stderr.String(), "Hosted"):
				t.Errorf("the script refused without naming the hosted zone: %q", stderr.String())
			case tt.want != "" && err != nil:
				t.Errorf("Go picked %s, the script failed: %v\n%s", tt.want, err, stderr.String())
			case tt.want != "" && stdout.String() != "zone="+tt.want+"\n":
				t.Errorf("Go picked %s, the script %q", tt.want, stdout.String())
			}
		})
	}
}
