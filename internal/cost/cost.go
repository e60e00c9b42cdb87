// Package cost estimates what an environment costs a month, from a dated table
// of us-east-1 on-demand prices (prices.go) and the profile alone: no AWS
// call, so `bootstrap cost` and `bootstrap plan` work offline. The estimate is
// a function of the profile and the day (support tiers change with the
// date): changing an instance class, a count or Multi-AZ changes the figure.
//
// Usage AWS bills by volume (NAT traffic, load balancer capacity, bucket and
// registry sizes, log volume) is estimated from named assumptions that every
// estimate lists. Not included: data transfer (cross-AZ, internet egress),
// backups beyond the free allowance, CPU credits above the burstable
// baseline, KMS, Route53 and anything the app creates itself.
package cost

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sovd/bootstrap/internal/config"
)

// Line is one charge: Quantity units at UnitPrice make Monthly.
type Line struct {
	// Service is the AWS service the charge appears under on the bill.
	Service string `json:"service"`
	// Item says what is charged, in the profile's terms.
	Item string `json:"item"`
	// Quantity is the month's billed quantity, in Unit.
	Quantity float64 `json:"quantity"`
	// Unit is what one quantity is ("instance-hour", "GB-month").
	Unit string `json:"unit"`
	// UnitPrice is USD per Unit, from the price table.
	UnitPrice float64 `json:"unitPriceUSD"`
	// Monthly is Quantity × UnitPrice in USD, rounded to the cent.
	Monthly float64 `json:"monthlyUSD"`
}

// ServiceTotal is the month's cost of one service.
type ServiceTotal struct {
	Service string  `json:"service"`
	Monthly float64 `json:"monthlyUSD"`
}

// Report is an environment's estimated monthly cost.
type Report struct {
	Environment string `json:"environment"`
	Region      string `json:"region"`
	// PriceRegion and PricesRead say which table priced it.
	PriceRegion string `json:"priceRegion"`
	PricesRead  string `json:"pricesRead"`
	// On is the day support tiers were taken for (EKS and RDS extended
	// support), YYYY-MM-DD.
	On    string `json:"on"`
	Lines []Line `json:"lines"`
	// Services are the lines summed by service, in the order they first
	// appear.
	Services []ServiceTotal `json:"services"`
	// Total is the sum of the lines, in USD a month.
	Total  float64       `json:"totalUSD"`
	Budget config.Budget `json:"budget"`
	// WithinBudget is whether Total is inside Budget (ends included).
	WithinBudget bool `json:"withinBudget"`
	// Verdict is "inside" or "OUTSIDE"; Message says by how much.
	Verdict     string   `json:"verdict"`
	Message     string   `json:"message"`
	Assumptions []string `json:"assumptions"`
	Warnings    []string `json:"warnings,omitempty"`
	// Support says what the cluster's support type (upgradePolicy) costs
	// when its Kubernetes version leaves standard support.
	Support string `json:"support"`
}

// supportNote is Report.Support.
func supportNote(supportType string, kv config.KubeVersion, now time.Time) string {
	end := kv.EndOfStandard.Format(time.DateOnly)
	extra := cents(HoursPerMonth * (EKSExtendedHourly - EKSStandardHourly))
	if supportType == config.SupportStandard {
		return fmt.Sprintf("supportType STANDARD: EKS upgrades the cluster when Kubernetes %s leaves standard support (%s); the control plane stays at $%s/h",
			kv.Version, end, price(EKSStandardHourly))
	}
	if kv.SupportTier(now) == "standard" {
		return fmt.Sprintf("supportType EXTENDED: from %s, when Kubernetes %s leaves standard support, the control plane costs $%s/h instead of $%s/h (%s a month more) until the cluster is upgraded",
			end, kv.Version, price(EKSExtendedHourly), price(EKSStandardHourly), Money(extra))
	}
	return fmt.Sprintf("supportType EXTENDED: Kubernetes %s is in extended support since %s; the control plane costs $%s/h instead of $%s/h (%s a month more) until the cluster is upgraded",
		kv.Version, end, price(EKSExtendedHourly), price(EKSStandardHourly), Money(extra))
}

// Estimate prices a profile on a day. It fails on a value the price table
// does not know (config validation rejects those first) and on a Kubernetes
// version EKS no longer runs on that day.
func Estimate(p *config.Profile, now time.Time) (Report, error) {
	r := Report{
		Environment: p.Name,
		Region:      p.Region,
		PriceRegion: PriceRegion,
		PricesRead:  PricesRead,
		On:          now.UTC().Format(time.DateOnly),
		Budget:      p.Budget,
	}
	if p.Region != PriceRegion {
		r.Warnings = append(r.Warnings, fmt.Sprintf("priced with %s's prices; %s's differ (often by 5–20%%)", PriceRegion, p.Region))
	}
	add := func(service, item string, qty float64, unit string, price float64) {
		r.Lines = append(r.Lines, Line{Service: service, Item: item, Quantity: qty, Unit: unit, UnitPrice: price, Monthly: cents(qty * price)})
	}
	zones := len(p.AvailabilityZones)

	// EKS control plane: the rate follows the version's support tier today.
	c := p.Cluster
	kv, ok := config.LookupKubeVersion(c.KubernetesVersion)
	if !ok {
		return Report{}, fmt.Errorf("pricing environment %s: Kubernetes %q is not in the EKS version catalog", p.Name, c.KubernetesVersion)
	}
	r.Support = supportNote(c.SupportType, kv, now)
	switch tier := kv.SupportTier(now); {
	case tier == "standard":
		add("EKS", fmt.Sprintf("control plane, Kubernetes %s (standard support until %s)", kv.Version, kv.EndOfStandard.Format(time.DateOnly)),
			HoursPerMonth, "cluster-hour", EKSStandardHourly)
	case tier == "extended" && c.SupportType == config.SupportStandard:
		// upgradePolicy STANDARD: EKS upgrades the cluster when its version
		// leaves standard support, so it never bills extended support.
		add("EKS", fmt.Sprintf("control plane, Kubernetes %s upgraded by EKS (supportType STANDARD)", kv.Version),
			HoursPerMonth, "cluster-hour", EKSStandardHourly)
		r.Warnings = append(r.Warnings, fmt.Sprintf("Kubernetes %s left EKS standard support on %s: with supportType STANDARD, EKS upgrades the cluster to the next version itself; set cluster.kubernetesVersion to it",
			kv.Version, kv.EndOfStandard.Format(time.DateOnly)))
	case tier == "extended":
		add("EKS", fmt.Sprintf("control plane, Kubernetes %s (EXTENDED support since %s)", kv.Version, kv.EndOfStandard.Format(time.DateOnly)),
			HoursPerMonth, "cluster-hour", EKSExtendedHourly)
		r.Warnings = append(r.Warnings, fmt.Sprintf("Kubernetes %s is in EKS extended support: the control plane costs $%s/h instead of $%s/h; upgrade the cluster",
			kv.Version, price(EKSExtendedHourly), price(EKSStandardHourly)))
	default:
		return Report{}, fmt.Errorf("pricing environment %s: EKS stopped running Kubernetes %s on %s", p.Name, kv.Version, kv.EndOfExtended.Format(time.DateOnly))
	}

	// Nodes and their volumes, at the node group's desired size.
	ng := c.NodeGroup
	ec2, ok := EC2Hourly[ng.InstanceType]
	if !ok {
		return Report{}, unknown(p, "node instance type", ng.InstanceType)
	}
	add("EC2", fmt.Sprintf("%d × %s %s (node group %s)", ng.Desired, ng.InstanceType, plural(ng.Desired, "node"), ng.Name),
		float64(ng.Desired*HoursPerMonth), "instance-hour", ec2)
	add("EBS", fmt.Sprintf("gp3 node volumes, %d × %d GB", ng.Desired, ng.VolumeSizeGB),
		float64(ng.Desired*ng.VolumeSizeGB), "GB-month", EBSGp3GBMonth)

	// Network: NAT gateways (eksctl's HighlyAvailable mode puts one in each
	// zone) and the public IPv4 addresses of the NATs and the ALB.
	nats := 1
	if c.NAT == "HighlyAvailable" {
		nats = zones
	}
	natWhat := "1 NAT gateway (Single)"
	if nats > 1 {
		natWhat = fmt.Sprintf("%d NAT gateways (one per zone)", nats)
	}
	add("VPC", natWhat, float64(nats*HoursPerMonth), "gateway-hour", NATHourly)
	add("VPC", fmt.Sprintf("NAT data processed (assumed %d GB)", AssumedNATGBPerMonth), AssumedNATGBPerMonth, "GB", NATPerGB)
	albIPs := AssumedLoadBalancers * zones
	add("VPC", fmt.Sprintf("%d public IPv4 addresses (%d NAT, %d ALB)", nats+albIPs, nats, albIPs),
		float64((nats+albIPs)*HoursPerMonth), "address-hour", PublicIPv4Hourly)

	// RDS PostgreSQL: Multi-AZ bills a standby instance and its storage.
	d := p.Database
	rds, ok := RDSPostgresHourly[d.InstanceClass]
	if !ok {
		return Report{}, unknown(p, "RDS instance class", d.InstanceClass)
	}
	major, _, _ := strings.Cut(d.EngineVersion, ".")
	endOfStandard, ok := config.PostgresMajors[major]
	if !ok {
		return Report{}, fmt.Errorf("pricing environment %s: PostgreSQL %s is not in the RDS version catalog", p.Name, major)
	}
	instances, az := 1, "Single-AZ"
	if d.MultiAZ {
		instances, az = 2, "Multi-AZ (primary + standby)"
	}
	add("RDS", fmt.Sprintf("%s PostgreSQL %s, %s", d.InstanceClass, d.EngineVersion, az),
		float64(instances*HoursPerMonth), "instance-hour", rds)
	storageWhat := fmt.Sprintf("gp3 storage, %d GB", d.AllocatedStorageGB)
	if instances > 1 {
		storageWhat = fmt.Sprintf("gp3 storage, %d GB × %d copies", d.AllocatedStorageGB, instances)
	}
	add("RDS", storageWhat, float64(d.AllocatedStorageGB*instances), "GB-month", RDSGp3GBMonth)
	if rate, year, charged := rdsExtendedRate(endOfStandard, now); charged {
		vcpus, ok := RDSVCPUs[d.InstanceClass]
		if !ok {
			return Report{}, unknown(p, "RDS instance class (vCPUs)", d.InstanceClass)
		}
		add("RDS", fmt.Sprintf("EXTENDED support, PostgreSQL %s (%s), %d vCPU × %d instances", major, year, vcpus, instances),
			float64(vcpus*instances*HoursPerMonth), "vCPU-hour", rate)
		r.Warnings = append(r.Warnings, fmt.Sprintf("PostgreSQL %s left RDS standard support on %s: extended support adds $%s per vCPU-hour; upgrade the engine",
			major, endOfStandard.Format(time.DateOnly), price(rate)))
	}

	// ElastiCache: every node of the replication group.
	rg := p.Redis
	cache, ok := CacheHourly[rg.NodeType]
	if !ok {
		return Report{}, unknown(p, "ElastiCache node type", rg.NodeType)
	}
	nodes := "primary only"
	if rg.NumCacheClusters > 1 {
		nodes = fmt.Sprintf("primary + %d replica", rg.NumCacheClusters-1)
		if rg.NumCacheClusters > 2 {
			nodes += "s"
		}
	}
	add("ElastiCache", fmt.Sprintf("%d × %s Redis %s %s (%s)", rg.NumCacheClusters, rg.NodeType, rg.EngineVersion, plural(rg.NumCacheClusters, "node"), nodes),
		float64(rg.NumCacheClusters*HoursPerMonth), "node-hour", cache)

	// The app's load balancer, made by the AWS Load Balancer Controller.
	add("ELB", "Application Load Balancer (the app's Ingress)", AssumedLoadBalancers*HoursPerMonth, "ALB-hour", ALBHourly)
	add("ELB", fmt.Sprintf("ALB capacity (assumed %d LCU on average)", AssumedALBLCUs), AssumedLoadBalancers*AssumedALBLCUs*HoursPerMonth, "LCU-hour", ALBLCUHourly)

	// The app's three secrets and the one RDS keeps the master password in.
	secrets := p.SecretNames()
	add("Secrets Manager", fmt.Sprintf("%d secrets: %s/{database,jwt,redis}, RDS master", len(secrets)+1, p.Secrets.Prefix),
		float64(len(secrets)+1), "secret-month", SecretsManagerSecretMonth)

	add("S3", fmt.Sprintf("backups/logs bucket (assumed %d GB)", AssumedS3GB), AssumedS3GB, "GB-month", S3StandardGBMonth)
	add("ECR", fmt.Sprintf("%d %s (assumed %d GB of images)", len(p.Registry.Repositories), plural(len(p.Registry.Repositories), "repository"), AssumedECRGB), AssumedECRGB, "GB-month", ECRGBMonth)

	if n := len(c.Logging); n > 0 {
		add("CloudWatch", fmt.Sprintf("control-plane logs: %s (assumed %d GB each)", strings.Join(c.Logging, ", "), AssumedLogGBPerType),
			float64(n*AssumedLogGBPerType), "GB ingested", CloudWatchLogsIngestGB)
	}

	// Totals, from the rounded lines, so that the table adds up.
	byService := map[string]float64{}
	var total float64
	for _, l := range r.Lines {
		if _, seen := byService[l.Service]; !seen {
			r.Services = append(r.Services, ServiceTotal{Service: l.Service})
		}
		byService[l.Service] += l.Monthly
		total += l.Monthly
	}
	for i := range r.Services {
		r.Services[i].Monthly = cents(byService[r.Services[i].Service])
	}
	r.Total = cents(total)

	b := p.Budget
	band := fmt.Sprintf("$%s–$%s a month", dollars(b.MonthlyMin), dollars(b.MonthlyMax))
	switch {
	case r.Total > b.MonthlyMax:
		r.Verdict = "OUTSIDE"
		r.Message = fmt.Sprintf("OUTSIDE the budget of %s: $%s above the maximum", band, money(r.Total-b.MonthlyMax))
	case r.Total < b.MonthlyMin:
		r.Verdict = "OUTSIDE"
		r.Message = fmt.Sprintf("OUTSIDE the budget of %s: $%s below the minimum (is the profile smaller than intended?)", band, money(b.MonthlyMin-r.Total))
	default:
		r.WithinBudget = true
		r.Verdict = "inside"
		r.Message = fmt.Sprintf("inside the budget of %s", band)
	}

	r.Assumptions = []string{
		fmt.Sprintf("%d hours a month; on-demand list prices, no Savings Plans, reservations or free tier", HoursPerMonth),
		fmt.Sprintf("the node group at its desired size, %d nodes (up to %d when it scales out)", ng.Desired, ng.Max),
		fmt.Sprintf("%d GB a month through the NAT gateways (no VPC endpoints)", AssumedNATGBPerMonth),
		fmt.Sprintf("%d ALB with %d LCU on average", AssumedLoadBalancers, AssumedALBLCUs),
		fmt.Sprintf("S3 %d GB, ECR %d GB, CloudWatch Logs %d GB per control-plane log type", AssumedS3GB, AssumedECRGB, AssumedLogGBPerType),
		"not included: data transfer (cross-AZ, internet), backups beyond the free allowance (RDS: up to the allocated storage), CPU credits above the burstable baseline, API calls, Route53, KMS",
	}
	return r, nil
}

// rdsExtendedRate is the RDS extended-support rate per vCPU-hour on a day,
// for a major version whose standard support ended on endOfStandard: none on
// that day, the years 1–2 rate from the next, the year 3 rate two years on.
func rdsExtendedRate(endOfStandard, now time.Time) (rate float64, year string, charged bool) {
	switch {
	case !now.After(endOfStandard):
		return 0, "", false
	case now.Before(endOfStandard.AddDate(2, 0, 0)):
		return RDSExtendedYear12VCPUHourly, "years 1–2", true
	default:
		return RDSExtendedYear3VCPUHourly, "year 3", true
	}
}

func unknown(p *config.Profile, what, value string) error {
	return fmt.Errorf("pricing environment %s: no price for %s %q in the price table of %s (internal/cost/prices.go)", p.Name, what, value, PricesRead)
}

// cents rounds to the cent. The small nudge makes half-cents that binary
// floating point stores just below .5 (16.425) round up, as a person would.
func cents(v float64) float64 { return math.Round(v*100+1e-7) / 100 }

// money formats USD with thousands separators and cents: 1,234.56.
func money(v float64) string {
	s := fmt.Sprintf("%.2f", cents(v))
	whole, frac, _ := strings.Cut(s, ".")
	return group(whole) + "." + frac
}

// dollars is money without cents when there are none: 500, 412.50.
func dollars(v float64) string {
	s := money(v)
	return strings.TrimSuffix(s, ".00")
}

// plural is "1 node" style agreement for the few nouns the lines use.
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	if strings.HasSuffix(noun, "y") {
		return strings.TrimSuffix(noun, "y") + "ies"
	}
	return noun + "s"
}

// price formats a unit price with as many decimals as it has, at least two.
func price(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	s = strings.TrimRight(s, "0")
	if i := strings.IndexByte(s, '.'); len(s)-i-1 < 2 {
		s += strings.Repeat("0", 2-(len(s)-i-1))
	}
	return s
}

// group puts thousands separators into a run of digits (with an optional
// leading minus).
func group(digits string) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Money formats USD for people: $1,234.56.
func Money(v float64) string { return "$" + money(v) }

// Price formats a unit price for people: $0.0832, $0.10.
func Price(v float64) string { return "$" + price(v) }

// Quantity formats a quantity for people: 2,190 or 0.5.
func Quantity(v float64) string {
	if v == math.Trunc(v) {
		return group(fmt.Sprintf("%.0f", v))
	}
	s := strings.TrimRight(fmt.Sprintf("%.2f", v), "0")
	whole, frac, _ := strings.Cut(s, ".")
	return group(whole) + "." + frac
}
