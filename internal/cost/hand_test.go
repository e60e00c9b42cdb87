package cost

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/config"
)

// TestEstimateAgainstHandComputation: each built-in profile and the Graviton
// option, priced by hand line by line from the published prices (us-east-1
// on-demand, the figures and pages noted in prices.go) and the profile's
// usage defaults (config.defaultUsage), written here as arithmetic and not
// read from the code's tables. Each bill line is rounded to the cent, as the
// estimate's table shows it.
func TestEstimateAgainstHandComputation(t *testing.T) {
	t.Parallel()
	c := func(v float64) float64 { return math.Round(v*100+1e-7) / 100 }
	sum := func(lines ...float64) float64 {
		var s float64
		for _, l := range lines {
			s += c(l)
		}
		return c(s)
	}
	// The lines production and its Graviton option share.
	productionCommon := []float64{
		730 * 0.10,            // EKS control plane, standard support
		3 * 50 * 0.08,         // EBS gp3, 3 nodes × 50 GB
		3 * 730 * 0.045,       // 3 NAT gateways (HighlyAvailable)
		100 * 0.045,           // NAT data, usage.natGB 100
		(3 + 3) * 730 * 0.005, // public IPv4: 3 NAT + 3 ALB (one per zone)
		100 * 2 * 0.115,       // RDS gp3 100 GB, primary + standby
		0,                     // Performance Insights, 7 days: free (RDS at 20% CPU: below its 30% baseline, no credits)
		730 * 0.0225,          // ALB hours
		1 * 730 * 0.008,       // ALB 1 LCU on average
		4 * 0.40,              // 4 secrets
		2 * 1.00,              // KMS: data key + cluster envelope key (protected)
		100000 * 0.03 / 10000, // KMS requests
		50 * 0.023,            // S3 backups bucket
		5 * 0.023,             // S3 access-log bucket
		10 * 0.10,             // ECR
		(15 + 30 + 3) * 0.50,  // control-plane logs: api, audit, authenticator
		0.5 * 0.50,            // enhanced monitoring of the primary
		2 * 0.50,              // PostgreSQL logs
	}
	tests := []struct {
		name string
		p    *config.Profile
		want float64
	}{
		{
			name: "production (x86_64, the seed's shape)",
			p:    config.Builtin("production"),
			want: sum(append(productionCommon,
				3*730*0.0832,                 // 3 × t3.large
				3*2*730*(35.0-30.0)/100*0.05, // t3 surplus credits: 35% CPU over a 30% baseline, 2 vCPU each
				2*730*0.145,                  // db.t3.large, primary + standby
				2*730*0.068,                  // 2 × cache.t3.medium
			)...),
		},
		{
			name: "production on Graviton (architecture arm64)",
			p:    config.WithArchitecture(config.Builtin("production"), config.ArchARM),
			want: sum(append(productionCommon,
				3*730*0.0672,                 // 3 × t4g.large
				3*2*730*(35.0-30.0)/100*0.04, // t4g surplus credits at $0.04
				2*730*0.129,                  // db.t4g.large, primary + standby
				2*730*0.065,                  // 2 × cache.t4g.medium
			)...),
		},
		{
			name: "staging",
			p:    config.Builtin("staging"),
			want: sum(
				730*0.10,                     // EKS
				2*730*0.0416,                 // 2 × t3.medium
				2*2*730*(25.0-20.0)/100*0.05, // surplus credits: 25% over 20%
				2*30*0.08,                    // EBS
				730*0.045,                    // 1 NAT gateway (Single)
				50*0.045,                     // NAT data
				(1+3)*730*0.005,              // IPv4: 1 NAT + 3 ALB
				730*0.072,                    // db.t3.medium, Single-AZ (10% CPU: below baseline)
				20*0.115,                     // RDS gp3 20 GB
				0,                            // Performance Insights
				730*0.034,                    // 1 × cache.t3.small
				730*0.0225,                   // ALB
				0.5*730*0.008,                // 0.5 LCU
				4*0.40,                       // secrets
				1*1.00,                       // KMS: data key only (unprotected, no cluster key)
				30000*0.03/10000,             // KMS requests
				10*0.023,                     // backups bucket
				1*0.023,                      // access-log bucket
				10*0.10,                      // ECR
				(5+10+1)*0.50,                // control-plane logs
				0.5*0.50,                     // enhanced monitoring
				2*0.50,                       // PostgreSQL logs
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if probs := config.ValidateProfile(tt.p, priceDay); len(probs) > 0 {
				t.Fatalf("the profile is invalid: %v", probs)
			}
			r := estimate(t, tt.p, priceDay)
			if !near(r.Total, tt.want) {
				t.Errorf("estimate $%.2f, hand computation $%.2f; lines:\n%+v", r.Total, tt.want, r.Lines)
			}
			if !(r.Range.Low < r.Range.Expected && r.Range.Expected == r.Total && r.Total < r.Range.High) {
				t.Errorf("range %+v around %.2f", r.Range, r.Total)
			}
		})
	}

	// The saving `cost` shows: production against its Graviton option, and
	// the same figure the other way round.
	prod := estimate(t, config.Builtin("production"), priceDay)
	saving := c(3*730*0.0832) - c(3*730*0.0672) + c(3*2*730*0.05*0.05) - c(3*2*730*0.05*0.04) +
		c(2*730*0.145) - c(2*730*0.129) + c(2*730*0.068) - c(2*730*0.065)
	if a := prod.Alternative; a == nil || a.Architecture != config.ArchARM || !near(a.Saving, c(saving)) || a.Types != "t4g.large, db.t4g.large, cache.t4g.medium" {
		t.Errorf("production's alternative %+v, want arm64 saving $%.2f", a, saving)
	}
	grav := estimate(t, config.WithArchitecture(config.Builtin("production"), config.ArchARM), priceDay)
	if a := grav.Alternative; a == nil || a.Architecture != config.ArchX86 || !near(a.Saving, -c(saving)) || a.Types != "t3.large, db.t3.large, cache.t3.medium" {
		t.Errorf("Graviton's alternative %+v, want x86_64 costing $%.2f more", a, saving)
	}
}

// TestRangeIsTheUsageAtItsEnds: the low and high totals are the estimate with
// every usage value scaled, and nothing else.
func TestRangeIsTheUsageAtItsEnds(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	r := estimate(t, p, priceDay)
	low, high := *p, *p
	low.Usage, high.Usage = LowUsage(p.Usage), HighUsage(p.Usage)
	if l := estimate(t, &low, priceDay); l.Total != r.Range.Low {
		t.Errorf("low %.2f, want %.2f", r.Range.Low, l.Total)
	}
	h := estimate(t, &high, priceDay)
	if h.Total != r.Range.High {
		t.Errorf("high %.2f, want %.2f", r.Range.High, h.Total)
	}
	// High triples the control-plane logs: 48 GB → 144 GB.
	if l := line(t, h, "CloudWatch", "control-plane logs"); l.Quantity != 144 {
		t.Errorf("high control-plane logs %v GB, want 144", l.Quantity)
	}
	// CPU ×1.5: 52.5% on nodes with a 30% baseline.
	if l := line(t, h, "EC2", "CPU credits"); !near(l.Quantity, 3*2*730*0.225) {
		t.Errorf("high CPU credits %v vCPU-hours, want %v", l.Quantity, 3*2*730*0.225)
	}
}

// TestSupportWindow: the warning starts 90 days before Kubernetes 1.35 leaves
// standard support (2027-03-27) and says what the support type does; cost
// projects the month after it.
func TestSupportWindow(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time { return mustDay(s) }
	kv, _ := config.LookupKubeVersion("1.35")
	if kv.EndOfStandard != day("2027-03-27") || kv.EndOfExtended != day("2028-03-27") {
		t.Fatalf("1.35's window %v–%v, AWS's calendar says 2027-03-27 and 2028-03-27", kv.EndOfStandard, kv.EndOfExtended)
	}
	tests := []struct {
		on          string
		supportType string
		want        string // "" for no warning
	}{
		{"2026-12-26", config.SupportStandard, ""},
		{"2026-12-27", config.SupportStandard, "leaves EKS standard support on 2027-03-27, in 90 days: with supportType STANDARD, EKS then upgrades the cluster"},
		{"2026-12-27", config.SupportExtended, "in 90 days: with supportType EXTENDED, the control plane then costs $0.60/h instead of $0.10/h ($365.00 a month more)"},
		{"2027-03-26", config.SupportExtended, "in 1 day: with supportType EXTENDED"},
		{"2027-03-27", config.SupportStandard, "left EKS standard support on 2027-03-27: with supportType STANDARD"},
		{"2027-03-27", config.SupportExtended, "is in EKS extended support since 2027-03-27: the control plane costs $0.60/h"},
	}
	for _, tt := range tests {
		p := config.Builtin("production")
		p.Cluster.SupportType = tt.supportType
		w := SupportWarnings(p, day(tt.on))
		switch {
		case tt.want == "" && len(w) != 0:
			t.Errorf("%s %s: warnings %q, want none", tt.on, tt.supportType, w)
		case tt.want != "" && (len(w) != 1 || !strings.Contains(w[0], tt.want)):
			t.Errorf("%s %s: warnings %q, want one with %q", tt.on, tt.supportType, w, tt.want)
		}
		// cost shows the same warning.
		if r := estimate(t, p, day(tt.on)); len(r.Warnings) != len(w) {
			t.Errorf("%s %s: cost warns %q, SupportWarnings %q", tt.on, tt.supportType, r.Warnings, w)
		}
	}

	// The month after: EXTENDED bills $365 more, STANDARD does not.
	p := config.Builtin("production")
	r := estimate(t, p, priceDay)
	if r.After == nil || r.After.From != "2027-03-27" || r.After.Total != r.Total || !strings.Contains(r.After.Note, "STANDARD") {
		t.Errorf("STANDARD after: %+v", r.After)
	}
	p.Cluster.SupportType = config.SupportExtended
	r = estimate(t, p, priceDay)
	if r.After == nil || !near(r.After.Total, r.Total+730*(0.60-0.10)) || !strings.Contains(r.After.Note, "$365.00 a month more") {
		t.Errorf("EXTENDED after: %+v (total %.2f)", r.After, r.Total)
	}
}
