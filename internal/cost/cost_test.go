package cost

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/config"
)

// priceDay is the day the table was read: estimates in tests are taken on it,
// so they do not drift as versions leave standard support.
var priceDay = mustDay(PricesRead)

func mustDay(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func estimate(t *testing.T, p *config.Profile, on time.Time) Report {
	t.Helper()
	r, err := Estimate(p, on)
	if err != nil {
		t.Fatalf("Estimate(%s): %v", p.Name, err)
	}
	return r
}

// TestEveryCatalogEntryHasAPrice keeps config's catalog and the price table in
// step: a class added to config without a price fails here.
func TestEveryCatalogEntryHasAPrice(t *testing.T) {
	t.Parallel()
	for typ := range config.NodeInstanceTypes {
		if EC2Hourly[typ] <= 0 {
			t.Errorf("node instance type %s (config.NodeInstanceTypes) has no EC2 price in prices.go", typ)
		}
	}
	for _, class := range config.DBInstanceClasses {
		if RDSPostgresHourly[class] <= 0 {
			t.Errorf("RDS class %s (config.DBInstanceClasses) has no RDS PostgreSQL price in prices.go", class)
		}
		if RDSVCPUs[class] <= 0 {
			t.Errorf("RDS class %s (config.DBInstanceClasses) has no vCPU count in prices.go (extended support is charged per vCPU)", class)
		}
	}
	for _, typ := range config.CacheNodeTypes {
		if CacheHourly[typ] <= 0 {
			t.Errorf("ElastiCache node type %s (config.CacheNodeTypes) has no price in prices.go", typ)
		}
	}
	if _, err := time.Parse(time.DateOnly, PricesRead); err != nil {
		t.Errorf("PricesRead %q is not a date: %v", PricesRead, err)
	}
}

// TestBuiltinProfilesInsideTheirBands: the seed's band for production, and
// staging's own, on the day the prices were read.
func TestBuiltinProfilesInsideTheirBands(t *testing.T) {
	t.Parallel()
	prod := config.Builtin("production")
	if prod.Budget.MonthlyMin != 500 || prod.Budget.MonthlyMax != 800 {
		t.Fatalf("production's budget is %+v, the seed's band is $500–800", prod.Budget)
	}
	for _, env := range config.BuiltinEnvironments {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			p := config.Builtin(env)
			r := estimate(t, p, priceDay)
			if !r.WithinBudget || r.Verdict != "inside" {
				t.Errorf("%s costs $%.2f a month, outside its band $%.0f–$%.0f: %s", env, r.Total, p.Budget.MonthlyMin, p.Budget.MonthlyMax, r.Message)
			}
			if r.Total < p.Budget.MonthlyMin || r.Total > p.Budget.MonthlyMax {
				t.Errorf("%s total $%.2f outside $%.0f–$%.0f but WithinBudget=%v", env, r.Total, p.Budget.MonthlyMin, p.Budget.MonthlyMax, r.WithinBudget)
			}
			if len(r.Warnings) != 0 {
				t.Errorf("warnings for a built-in profile on %s: %q", PricesRead, r.Warnings)
			}
		})
	}
}

// TestTotalsAddUp: the table a person reads adds up, by line and by service.
func TestTotalsAddUp(t *testing.T) {
	t.Parallel()
	r := estimate(t, config.Builtin("production"), priceDay)
	var lines, services float64
	for _, l := range r.Lines {
		if l.Monthly != cents(l.Quantity*l.UnitPrice) {
			t.Errorf("%s %q: %v × %v is not %v", l.Service, l.Item, l.Quantity, l.UnitPrice, l.Monthly)
		}
		lines += l.Monthly
	}
	for _, s := range r.Services {
		services += s.Monthly
	}
	if !near(lines, r.Total) || !near(services, r.Total) {
		t.Errorf("lines sum to %.2f, services to %.2f, total is %.2f", lines, services, r.Total)
	}
	wantServices := []string{"EKS", "EC2", "EBS", "VPC", "RDS", "ElastiCache", "ELB", "Secrets Manager", "KMS", "S3", "ECR", "CloudWatch"}
	var got []string
	for _, s := range r.Services {
		got = append(got, s.Service)
	}
	if !slices.Equal(got, wantServices) {
		t.Errorf("services %q, want %q", got, wantServices)
	}
}

// TestProfileChangesMoveTheFigure: every expectation is computed from the
// price table, so it holds whatever the prices are.
func TestProfileChangesMoveTheFigure(t *testing.T) {
	t.Parallel()
	base := config.Builtin("production")
	b := estimate(t, base, priceDay)
	h := float64(HoursPerMonth)

	tests := []struct {
		name   string
		change func(p *config.Profile)
		delta  float64
	}{
		{
			name:   "larger node instance type",
			change: func(p *config.Profile) { p.Cluster.NodeGroup.InstanceType = "t3.xlarge" },
			// and the surplus credits go: 35% CPU is below t3.xlarge's 40%.
			delta: 3*h*(EC2Hourly["t3.xlarge"]-EC2Hourly["t3.large"]) - 3*2*h*(0.35-0.30)*EC2T3CreditVCPUHour,
		},
		{
			name:   "one more node",
			change: func(p *config.Profile) { p.Cluster.NodeGroup.Desired = 4 },
			delta:  h*EC2Hourly["t3.large"] + 50*EBSGp3GBMonth + 2*h*(0.35-0.30)*EC2T3CreditVCPUHour,
		},
		{
			name:   "other RDS class, both Multi-AZ instances",
			change: func(p *config.Profile) { p.Database.InstanceClass = "db.m6g.large" },
			delta:  2 * h * (RDSPostgresHourly["db.m6g.large"] - RDSPostgresHourly["db.t3.large"]),
		},
		{
			name:   "Multi-AZ off halves the instance and the storage",
			change: func(p *config.Profile) { p.Database.MultiAZ = false },
			delta:  -(h*RDSPostgresHourly["db.t3.large"] + 100*RDSGp3GBMonth),
		},
		{
			name:   "more RDS storage, twice for Multi-AZ",
			change: func(p *config.Profile) { p.Database.AllocatedStorageGB = 200 },
			delta:  2 * 100 * RDSGp3GBMonth,
		},
		{
			name:   "a second Redis replica",
			change: func(p *config.Profile) { p.Redis.NumCacheClusters = 3 },
			delta:  h * CacheHourly["cache.t3.medium"],
		},
		{
			name:   "other Redis node type on both nodes",
			change: func(p *config.Profile) { p.Redis.NodeType = "cache.r7g.large" },
			delta:  2 * h * (CacheHourly["cache.r7g.large"] - CacheHourly["cache.t3.medium"]),
		},
		{
			name:   "a single NAT gateway and its address",
			change: func(p *config.Profile) { p.Cluster.NAT = "Single" },
			delta:  -2 * h * (NATHourly + PublicIPv4Hourly),
		},
		{
			name:   "usage: more NAT traffic",
			change: func(p *config.Profile) { p.Usage.NATGB = 250 },
			delta:  150 * NATPerGB,
		},
		{
			name: "usage: a louder audit log",
			change: func(p *config.Profile) {
				p.Usage.ControlPlaneLogGB = map[string]float64{"api": 15, "audit": 90, "authenticator": 3}
			},
			delta: 60 * CloudWatchLogsIngestGB,
		},
		{
			name:   "usage: the database above its baseline",
			change: func(p *config.Profile) { p.Usage.DatabaseCPUPercent = 40 },
			delta:  2 * h * (0.40 - 0.30) * RDSCreditVCPUHour,
		},
		{
			name:   "no control-plane logs",
			change: func(p *config.Profile) { p.Cluster.Logging = nil },
			delta:  -(15 + 30 + 3) * CloudWatchLogsIngestGB,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := config.Builtin("production")
			tt.change(p)
			r := estimate(t, p, priceDay)
			if got := r.Total - b.Total; math.Abs(got-tt.delta) > 0.03 {
				t.Errorf("total moved by %.2f (%.2f → %.2f), want %.2f", got, b.Total, r.Total, tt.delta)
			}
		})
	}
}

func TestKubernetesSupportTier(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	kv, _ := config.LookupKubeVersion(p.Cluster.KubernetesVersion)

	std := estimate(t, p, priceDay)
	if l := line(t, std, "EKS", "control plane"); l.UnitPrice != EKSStandardHourly || l.Quantity != HoursPerMonth {
		t.Errorf("standard support: %+v", l)
	}

	if !strings.Contains(std.Support, "supportType STANDARD: EKS upgrades the cluster") {
		t.Errorf("STANDARD: support %q", std.Support)
	}
	// STANDARD past the end of standard support: EKS has upgraded the
	// cluster; no extended rate.
	past := estimate(t, p, kv.EndOfStandard.AddDate(0, 0, 1))
	if l := line(t, past, "EKS", "control plane"); l.UnitPrice != EKSStandardHourly || len(past.Warnings) == 0 || !strings.Contains(past.Warnings[0], "upgrades the cluster") {
		t.Errorf("STANDARD past standard support: %+v, warnings %q", l, past.Warnings)
	}

	p.Cluster.SupportType = config.SupportExtended
	if got := estimate(t, p, priceDay); !strings.Contains(got.Support, "$0.60/h instead of $0.10/h ($365.00 a month more)") || got.Total != std.Total {
		t.Errorf("EXTENDED in standard support: total %.2f (want %.2f), support %q", got.Total, std.Total, got.Support)
	}
	ext := estimate(t, p, kv.EndOfStandard.AddDate(0, 0, 1))
	if l := line(t, ext, "EKS", "control plane"); l.UnitPrice != EKSExtendedHourly {
		t.Errorf("extended support priced at %v, want %v", l.UnitPrice, EKSExtendedHourly)
	}
	if want := std.Total + cents(HoursPerMonth*(EKSExtendedHourly-EKSStandardHourly)); !near(ext.Total, want) {
		t.Errorf("extended support total %.2f, want %.2f", ext.Total, want)
	}
	if len(ext.Warnings) == 0 || !strings.Contains(ext.Warnings[0], "extended support") {
		t.Errorf("no extended-support warning: %q", ext.Warnings)
	}

	if _, err := Estimate(p, kv.EndOfExtended.AddDate(0, 0, 1)); err == nil {
		t.Error("a version EKS no longer runs was priced")
	}
}

func TestPostgresExtendedSupport(t *testing.T) {
	t.Parallel()
	p := config.Builtin("production")
	p.Database.EngineVersion = "14.12"
	end := config.PostgresMajors["14"]

	if r := estimate(t, p, end); hasLine(r, "RDS", "EXTENDED") {
		t.Error("extended support charged on the last day of standard support")
	}
	r := estimate(t, p, end.AddDate(0, 0, 1))
	l := line(t, r, "RDS", "EXTENDED")
	if want := float64(RDSVCPUs["db.t3.large"] * 2 * HoursPerMonth); l.UnitPrice != RDSExtendedYear12VCPUHourly || l.Quantity != want {
		t.Errorf("%v vCPU-hours at %v, want %v (primary and standby) at %v", l.Quantity, l.UnitPrice, want, RDSExtendedYear12VCPUHourly)
	}
	if len(r.Warnings) == 0 {
		t.Error("no warning for PostgreSQL in extended support")
	}

	// Year 3 lies past every Kubernetes version the catalog knows, so the
	// rate is checked on its own.
	tests := []struct {
		on      time.Time
		rate    float64
		charged bool
	}{
		{end, 0, false},
		{end.AddDate(0, 0, 1), RDSExtendedYear12VCPUHourly, true},
		{end.AddDate(1, 11, 0), RDSExtendedYear12VCPUHourly, true},
		{end.AddDate(2, 0, 1), RDSExtendedYear3VCPUHourly, true},
	}
	for _, tt := range tests {
		rate, _, charged := rdsExtendedRate(end, tt.on)
		if rate != tt.rate || charged != tt.charged {
			t.Errorf("on %s: %v %v, want %v %v", tt.on.Format(time.DateOnly), rate, charged, tt.rate, tt.charged)
		}
	}
}

func TestBudgetVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		min, max float64
		inside   bool
		message  string
	}{
		{"inside", 500, 800, true, "inside the budget of $500–$800 a month"},
		{"above", 100, 300, false, "OUTSIDE the budget of $100–$300 a month: $"},
		{"below", 900, 1000, false, "below the minimum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := config.Builtin("production")
			p.Budget = config.Budget{MonthlyMin: tt.min, MonthlyMax: tt.max}
			r := estimate(t, p, priceDay)
			if r.WithinBudget != tt.inside || !strings.Contains(r.Message, tt.message) {
				t.Errorf("total %.2f in [%v, %v]: inside=%v %q", r.Total, tt.min, tt.max, r.WithinBudget, r.Message)
			}
			if want := map[bool]string{true: "inside", false: "OUTSIDE"}[tt.inside]; r.Verdict != want {
				t.Errorf("verdict %q, want %q", r.Verdict, want)
			}
		})
	}
}

func TestUnknownValuesFail(t *testing.T) {
	t.Parallel()
	tests := map[string]func(p *config.Profile){
		"node type":  func(p *config.Profile) { p.Cluster.NodeGroup.InstanceType = "x9.huge" },
		"RDS class":  func(p *config.Profile) { p.Database.InstanceClass = "db.x9.huge" },
		"cache type": func(p *config.Profile) { p.Redis.NodeType = "cache.x9.huge" },
		"Kubernetes": func(p *config.Profile) { p.Cluster.KubernetesVersion = "1.19" },
		"PostgreSQL": func(p *config.Profile) { p.Database.EngineVersion = "9.6" },
	}
	for name, change := range tests {
		p := config.Builtin("staging")
		change(p)
		if _, err := Estimate(p, priceDay); err == nil {
			t.Errorf("%s: priced a value the table does not know", name)
		}
	}
}

func TestOtherRegionWarns(t *testing.T) {
	t.Parallel()
	p := config.Builtin("staging")
	p.Region = "eu-west-1"
	r := estimate(t, p, priceDay)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "eu-west-1") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{0.1: "$0.10", 0.0832: "$0.0832", 0.045: "$0.045", 0.005: "$0.005", 1.5: "$1.50"} {
		if got := Price(in); got != want {
			t.Errorf("Price(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{756.66: "$756.66", 1234.5: "$1,234.50", 16.425: "$16.43", 1e6: "$1,000,000.00"} {
		if got := Money(in); got != want {
			t.Errorf("Money(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{2190: "2,190", 730: "730", 0.5: "0.5", 12345.25: "12,345.25"} {
		if got := Quantity(in); got != want {
			t.Errorf("Quantity(%v) = %q, want %q", in, got, want)
		}
	}
}

func line(t *testing.T, r Report, service, itemPart string) Line {
	t.Helper()
	for _, l := range r.Lines {
		if l.Service == service && strings.Contains(l.Item, itemPart) {
			return l
		}
	}
	t.Fatalf("no %s line with %q in %+v", service, itemPart, r.Lines)
	return Line{}
}

func hasLine(r Report, service, itemPart string) bool {
	for _, l := range r.Lines {
		if l.Service == service && strings.Contains(l.Item, itemPart) {
			return true
		}
	}
	return false
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.005 }
