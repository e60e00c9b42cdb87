// Package cost estimates what an environment costs a month, from a dated table
// of us-east-1 on-demand prices (prices.go) and the profile alone: no AWS
// call, so `bootstrap cost` and `bootstrap plan` work offline. The estimate is
// a function of the profile and the day (support tiers change with the
// date): changing an instance class, a count or Multi-AZ changes the figure.
//
// Usage AWS bills by volume (NAT traffic, load balancer capacity, bucket and
// registry sizes, log volume, CPU above the burstable baseline, KMS
// requests) comes from the profile's usage section (config.Usage), each
// value listed under the estimate; the range takes all of them at their low
// and high ends (LowFactor, HighFactor). Not included: data transfer
// (cross-AZ, internet egress), backups beyond the free allowance, CloudWatch
// Logs storage after ingestion, Route53, API calls, and anything the app
// creates itself.
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

// Range is the month's total with every usage assumption at its low end, as
// the profile says, and at its high end.
type Range struct {
	Low      float64 `json:"lowUSD"`
	Expected float64 `json:"expectedUSD"`
	High     float64 `json:"highUSD"`
}

// Projection is the monthly total from the day a support window closes: what
// the environment costs if nothing is upgraded by then.
type Projection struct {
	// From is the first day at the new rate, YYYY-MM-DD.
	From string `json:"from"`
	// What closes that day ("Kubernetes 1.35 leaves EKS standard support").
	What  string  `json:"what"`
	Total float64 `json:"totalUSD"`
	// Note says why the figure moves or does not (the support type).
	Note string `json:"note"`
}

// Alternative is the same profile on the other architecture, every node,
// database and cache type replaced by its counterpart (same sizes, same HA).
type Alternative struct {
	Architecture string `json:"architecture"`
	// Types are the counterpart types, node / database / cache.
	Types string  `json:"types"`
	Total float64 `json:"totalUSD"`
	// Saving is this profile's total minus the alternative's, expected
	// usage both: positive when the alternative is cheaper.
	Saving float64 `json:"savingUSD"`
}

// Report is an environment's estimated monthly cost.
type Report struct {
	Environment  string `json:"environment"`
	Region       string `json:"region"`
	Architecture string `json:"architecture"`
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
	// Total is the sum of the lines, in USD a month, with the profile's
	// usage: the expected figure, which the budget is checked against.
	Total float64 `json:"totalUSD"`
	// Range is Total with usage low and high.
	Range  Range         `json:"range"`
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
	// After is the total from the next day a support window closes, when
	// that day is still to come.
	After *Projection `json:"after,omitempty"`
	// Alternative is the profile on the other architecture, when every type
	// has a counterpart.
	Alternative *Alternative `json:"alternative,omitempty"`
}

// supportNote is Report.Support.
func supportNote(supportType string, kv config.KubeVersion, now time.Time) string {
	end := kv.EndOfStandard.Format(time.DateOnly)
	if supportType == config.SupportStandard {
		return fmt.Sprintf("supportType STANDARD: EKS upgrades the cluster when Kubernetes %s leaves standard support (%s); the control plane stays at $%s/h",
			kv.Version, end, price(EKSStandardHourly))
	}
	if kv.SupportTier(now) == "standard" {
		return fmt.Sprintf("supportType EXTENDED: from %s, when Kubernetes %s leaves standard support, the control plane costs $%s/h instead of $%s/h (%s a month more) until the cluster is upgraded",
			end, kv.Version, price(EKSExtendedHourly), price(EKSStandardHourly), Money(ExtendedSupportMonthly()))
	}
	return fmt.Sprintf("supportType EXTENDED: Kubernetes %s is in extended support since %s; the control plane costs $%s/h instead of $%s/h (%s a month more) until the cluster is upgraded",
		kv.Version, end, price(EKSExtendedHourly), price(EKSStandardHourly), Money(ExtendedSupportMonthly()))
}

// ExtendedSupportMonthly is what EKS extended support adds to a month.
func ExtendedSupportMonthly() float64 {
	return cents(HoursPerMonth * (EKSExtendedHourly - EKSStandardHourly))
}

// Estimate prices a profile on a day, with its usage as expected and at the
// low and high ends, the figure from the next close of a support window, and
// the profile on the other architecture. It fails on a value the price
// table does not know (config validation rejects those first) and on a
// Kubernetes version EKS no longer runs on that day.
func Estimate(p *config.Profile, now time.Time) (Report, error) {
	r, err := estimateWith(p, p.Usage, now)
	if err != nil {
		return Report{}, err
	}
	low, err := estimateWith(p, LowUsage(p.Usage), now)
	if err != nil {
		return Report{}, err
	}
	high, err := estimateWith(p, HighUsage(p.Usage), now)
	if err != nil {
		return Report{}, err
	}
	r.Range = Range{Low: low.Total, Expected: r.Total, High: high.Total}
	r.Warnings = append(r.Warnings, SupportWarnings(p, now)...)
	if day, what, ok := nextSupportChange(p, now); ok {
		if later, err := estimateWith(p, p.Usage, day); err == nil {
			r.After = &Projection{From: day.Format(time.DateOnly), What: what, Total: later.Total, Note: afterNote(p, r.Total, later.Total)}
		}
	}
	other := config.ArchARM
	if p.Architecture == config.ArchARM {
		other = config.ArchX86
	}
	q := config.WithArchitecture(p, other)
	if archComplete(q) {
		if alt, err := estimateWith(q, q.Usage, now); err == nil {
			r.Alternative = &Alternative{
				Architecture: other,
				Types:        strings.Join([]string{q.Cluster.NodeGroup.InstanceType, q.Database.InstanceClass, q.Redis.NodeType}, ", "),
				Total:        alt.Total,
				Saving:       cents(r.Total - alt.Total),
			}
		}
	}
	return r, nil
}

// archComplete says whether every type of q is of q's architecture, so the
// alternative is a profile validation would accept.
func archComplete(q *config.Profile) bool {
	for _, t := range []string{q.Cluster.NodeGroup.InstanceType, q.Database.InstanceClass, q.Redis.NodeType} {
		if config.InstanceArch(t) != q.Architecture {
			return false
		}
	}
	return true
}

// LowUsage is every usage assumption at LowFactor.
func LowUsage(u config.Usage) config.Usage { return scaled(u, LowFactor, LowFactor) }

// HighUsage is every volume at HighFactor and CPU at HighCPUFactor (at most
// 100%).
func HighUsage(u config.Usage) config.Usage { return scaled(u, HighFactor, HighCPUFactor) }

func scaled(u config.Usage, f, cpu float64) config.Usage {
	out := u
	out.NATGB *= f
	out.ALBLCUs *= f
	out.BucketGB *= f
	out.AccessLogGB *= f
	out.RegistryGB *= f
	out.DatabaseLogGB *= f
	out.MonitoringGB *= f
	out.KMSRequests *= f
	out.NodeCPUPercent = math.Min(100, u.NodeCPUPercent*cpu)
	out.DatabaseCPUPercent = math.Min(100, u.DatabaseCPUPercent*cpu)
	out.ControlPlaneLogGB = map[string]float64{}
	for k, v := range u.ControlPlaneLogGB {
		out.ControlPlaneLogGB[k] = v * f
	}
	return out
}

// estimator collects the lines of one estimate.
type estimator struct {
	p   *config.Profile
	u   config.Usage
	now time.Time
	r   Report
}

func (e *estimator) add(service, item string, qty float64, unit string, price float64) {
	e.r.Lines = append(e.r.Lines, Line{Service: service, Item: item, Quantity: qty, Unit: unit, UnitPrice: price, Monthly: cents(qty * price)})
}

// estimateWith prices p with usage u on a day.
func estimateWith(p *config.Profile, u config.Usage, now time.Time) (Report, error) {
	e := &estimator{p: p, u: u, now: now, r: Report{
		Environment:  p.Name,
		Region:       p.Region,
		Architecture: p.Architecture,
		PriceRegion:  PriceRegion,
		PricesRead:   PricesRead,
		On:           now.UTC().Format(time.DateOnly),
		Budget:       p.Budget,
	}}
	if p.Region != PriceRegion {
		e.r.Warnings = append(e.r.Warnings, fmt.Sprintf("priced with %s's prices; %s's differ (often by 5–20%%)", PriceRegion, p.Region))
	}
	for _, part := range []func() error{e.controlPlane, e.nodes, e.network, e.database, e.cache, e.edge, e.logs} {
		if err := part(); err != nil {
			return Report{}, err
		}
	}
	e.totals()
	e.assumptions()
	return e.r, nil
}

// controlPlane is the EKS control plane: the rate follows the version's
// support tier on the day and the profile's support type.
func (e *estimator) controlPlane() error {
	p, c := e.p, e.p.Cluster
	kv, ok := config.LookupKubeVersion(c.KubernetesVersion)
	if !ok {
		return fmt.Errorf("pricing environment %s: Kubernetes %q is not in the EKS version catalog", p.Name, c.KubernetesVersion)
	}
	e.r.Support = supportNote(c.SupportType, kv, e.now)
	end := kv.EndOfStandard.Format(time.DateOnly)
	switch tier := kv.SupportTier(e.now); {
	case tier == "standard":
		e.add("EKS", fmt.Sprintf("control plane, Kubernetes %s (standard support until %s)", kv.Version, end), HoursPerMonth, "cluster-hour", EKSStandardHourly)
	case tier == "extended" && c.SupportType == config.SupportStandard:
		// upgradePolicy STANDARD: EKS upgrades the cluster when its version
		// leaves standard support, so it never bills extended support.
		e.add("EKS", fmt.Sprintf("control plane, Kubernetes %s upgraded by EKS (supportType STANDARD)", kv.Version), HoursPerMonth, "cluster-hour", EKSStandardHourly)
	case tier == "extended":
		e.add("EKS", fmt.Sprintf("control plane, Kubernetes %s (EXTENDED support since %s)", kv.Version, end), HoursPerMonth, "cluster-hour", EKSExtendedHourly)
	default:
		return fmt.Errorf("pricing environment %s: EKS stopped running Kubernetes %s on %s", p.Name, kv.Version, kv.EndOfExtended.Format(time.DateOnly))
	}
	return nil
}

// nodes are the node group at its desired size, its volumes and the surplus
// CPU credits of a burstable type.
func (e *estimator) nodes() error {
	ng := e.p.Cluster.NodeGroup
	ec2, ok := EC2Hourly[ng.InstanceType]
	if !ok {
		return unknown(e.p, "node instance type", ng.InstanceType)
	}
	e.add("EC2", fmt.Sprintf("%d × %s %s (node group %s)", ng.Desired, ng.InstanceType, plural(ng.Desired, "node"), ng.Name),
		float64(ng.Desired*HoursPerMonth), "instance-hour", ec2)
	if b, ok := Burstables[ng.InstanceType]; ok {
		rate := EC2T3CreditVCPUHour
		if strings.HasPrefix(ng.InstanceType, "t4g.") {
			rate = EC2T4gCreditVCPUHour
		}
		if over := surplus(e.u.NodeCPUPercent, b.BaselinePerc); over > 0 {
			e.add("EC2", fmt.Sprintf("CPU credits: nodes at %s%% CPU, %s%% above the %s%% baseline, %d vCPU × %d", Quantity(e.u.NodeCPUPercent), Quantity(over*100), Quantity(b.BaselinePerc), b.VCPUs, ng.Desired),
				round2(float64(b.VCPUs*ng.Desired*HoursPerMonth)*over), "vCPU-hour", rate)
		}
	}
	e.add("EBS", fmt.Sprintf("gp3 node volumes, %d × %d GB", ng.Desired, ng.VolumeSizeGB),
		float64(ng.Desired*ng.VolumeSizeGB), "GB-month", EBSGp3GBMonth)
	return nil
}

// surplus is the share of each vCPU-hour above a baseline, 0 when below.
func surplus(util, baseline float64) float64 { return math.Max(0, util-baseline) / 100 }

// round2 keeps a derived quantity to two decimals, as the table shows it.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// network is the NAT gateways (eksctl's HighlyAvailable mode puts one in
// each zone), their traffic, and the public IPv4 addresses of the NATs and
// the ALB.
func (e *estimator) network() error {
	zones := len(e.p.AvailabilityZones)
	nats := 1
	if e.p.Cluster.NAT == "HighlyAvailable" {
		nats = zones
	}
	natWhat := "1 NAT gateway (Single)"
	if nats > 1 {
		natWhat = fmt.Sprintf("%d NAT gateways (one per zone)", nats)
	}
	e.add("VPC", natWhat, float64(nats*HoursPerMonth), "gateway-hour", NATHourly)
	e.add("VPC", "NAT data processed", e.u.NATGB, "GB", NATPerGB)
	albIPs := AssumedLoadBalancers * zones
	e.add("VPC", fmt.Sprintf("%d public IPv4 addresses (%d NAT, %d ALB)", nats+albIPs, nats, albIPs),
		float64((nats+albIPs)*HoursPerMonth), "address-hour", PublicIPv4Hourly)
	return nil
}

// database is RDS PostgreSQL: Multi-AZ bills a standby instance and its
// storage; extended support, surplus credits, Performance Insights,
// enhanced monitoring and the exported logs.
func (e *estimator) database() error {
	p, d := e.p, e.p.Database
	rds, ok := RDSPostgresHourly[d.InstanceClass]
	if !ok {
		return unknown(p, "RDS instance class", d.InstanceClass)
	}
	major, _, _ := strings.Cut(d.EngineVersion, ".")
	endOfStandard, ok := config.PostgresMajors[major]
	if !ok {
		return fmt.Errorf("pricing environment %s: PostgreSQL %s is not in the RDS version catalog", p.Name, major)
	}
	instances, az := 1, "Single-AZ"
	if d.MultiAZ {
		instances, az = 2, "Multi-AZ (primary + standby)"
	}
	e.add("RDS", fmt.Sprintf("%s PostgreSQL %s, %s", d.InstanceClass, d.EngineVersion, az),
		float64(instances*HoursPerMonth), "instance-hour", rds)
	storageWhat := fmt.Sprintf("gp3 storage, %d GB", d.AllocatedStorageGB)
	if instances > 1 {
		storageWhat = fmt.Sprintf("gp3 storage, %d GB × %d copies", d.AllocatedStorageGB, instances)
	}
	e.add("RDS", storageWhat, float64(d.AllocatedStorageGB*instances), "GB-month", RDSGp3GBMonth)
	if rate, year, charged := rdsExtendedRate(endOfStandard, e.now); charged {
		vcpus, ok := RDSVCPUs[d.InstanceClass]
		if !ok {
			return unknown(p, "RDS instance class (vCPUs)", d.InstanceClass)
		}
		e.add("RDS", fmt.Sprintf("EXTENDED support, PostgreSQL %s (%s), %d vCPU × %d instances", major, year, vcpus, instances),
			float64(vcpus*instances*HoursPerMonth), "vCPU-hour", rate)
	}
	// Surplus credits: the primary does the work; a standby only replays.
	if b, ok := Burstables[d.InstanceClass]; ok {
		if over := surplus(e.u.DatabaseCPUPercent, b.BaselinePerc); over > 0 {
			e.add("RDS", fmt.Sprintf("CPU credits: primary at %s%% CPU, %s%% above the %s%% baseline, %d vCPU", Quantity(e.u.DatabaseCPUPercent), Quantity(over*100), Quantity(b.BaselinePerc), b.VCPUs),
				round2(float64(b.VCPUs*HoursPerMonth)*over), "vCPU-hour", RDSCreditVCPUHour)
		}
	}
	e.add("RDS", "Performance Insights, 7 days (free tier)", 1, "instance-month", PerformanceInsightsFree)
	return nil
}

// logs are what CloudWatch Logs ingests: the control-plane log types the
// profile enables, RDS enhanced monitoring of the primary (the standby is
// not monitored until it takes over), and the exported PostgreSQL logs.
func (e *estimator) logs() error {
	if c := e.p.Cluster; len(c.Logging) > 0 {
		var gb float64
		var parts []string
		for _, typ := range c.Logging {
			gb += e.u.ControlPlaneLogGB[typ]
			parts = append(parts, fmt.Sprintf("%s %s GB", typ, Quantity(e.u.ControlPlaneLogGB[typ])))
		}
		e.add("CloudWatch", "control-plane logs: "+strings.Join(parts, ", "), gb, "GB ingested", CloudWatchLogsIngestGB)
	}
	e.add("CloudWatch", "RDS enhanced monitoring (OS metrics of the primary)", e.u.MonitoringGB, "GB ingested", CloudWatchLogsIngestGB)
	e.add("CloudWatch", "RDS PostgreSQL logs exported", e.u.DatabaseLogGB, "GB ingested", CloudWatchLogsIngestGB)
	return nil
}

// cache is ElastiCache: every node of the replication group.
func (e *estimator) cache() error {
	rg := e.p.Redis
	cache, ok := CacheHourly[rg.NodeType]
	if !ok {
		return unknown(e.p, "ElastiCache node type", rg.NodeType)
	}
	nodes := "primary only"
	if rg.NumCacheClusters > 1 {
		nodes = fmt.Sprintf("primary + %d replica", rg.NumCacheClusters-1)
		if rg.NumCacheClusters > 2 {
			nodes += "s"
		}
	}
	e.add("ElastiCache", fmt.Sprintf("%d × %s Redis %s %s (%s)", rg.NumCacheClusters, rg.NodeType, rg.EngineVersion, plural(rg.NumCacheClusters, "node"), nodes),
		float64(rg.NumCacheClusters*HoursPerMonth), "node-hour", cache)
	return nil
}

// edge is the app's load balancer, made by the AWS Load Balancer
// Controller, the secrets, the keys, the buckets and the registry.
func (e *estimator) edge() error {
	p, u := e.p, e.u
	e.add("ELB", "Application Load Balancer (the app's Ingress)", AssumedLoadBalancers*HoursPerMonth, "ALB-hour", ALBHourly)
	e.add("ELB", fmt.Sprintf("ALB capacity, %s LCU on average", Quantity(u.ALBLCUs)), round2(AssumedLoadBalancers*u.ALBLCUs*HoursPerMonth), "LCU-hour", ALBLCUHourly)

	// The app's three secrets and the one RDS keeps the master password in.
	secrets := p.SecretNames()
	e.add("Secrets Manager", fmt.Sprintf("%d secrets: %s/{database,jwt,redis}, RDS master", len(secrets)+1, p.Secrets.Prefix),
		float64(len(secrets)+1), "secret-month", SecretsManagerSecretMonth)

	// terraform/stateful/kms.tf's data key, and the cluster's envelope key
	// a protected profile must name (config.ReadyToCreate) or any names.
	keys, what := 1, "1 customer-managed key (the data tier's)"
	if p.Cluster.KMSKeyARN != "" || p.Protected() {
		keys, what = 2, "2 customer-managed keys (the data tier's, the cluster's Secrets envelope key)"
	}
	e.add("KMS", what, float64(keys), "key-month", KMSKeyMonth)
	e.add("KMS", "key requests", u.KMSRequests, "request", KMSPer10kRequests/10000)

	e.add("S3", "backups bucket", u.BucketGB, "GB-month", S3StandardGBMonth)
	e.add("S3", "access-log bucket", u.AccessLogGB, "GB-month", S3StandardGBMonth)
	e.add("ECR", fmt.Sprintf("%d %s, images kept", len(p.Registry.Repositories), plural(len(p.Registry.Repositories), "repository")), u.RegistryGB, "GB-month", ECRGBMonth)
	return nil
}

// totals sums the rounded lines, so that the table adds up, by service and
// overall, and checks the total against the budget.
func (e *estimator) totals() {
	r := &e.r
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

	b := e.p.Budget
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
}

// assumptions lists every usage input with its profile key, so a reader
// knows what to change.
func (e *estimator) assumptions() {
	u, ng := e.u, e.p.Cluster.NodeGroup
	var logs []string
	for _, typ := range config.ControlPlaneLogTypes {
		if gb, ok := u.ControlPlaneLogGB[typ]; ok {
			logs = append(logs, fmt.Sprintf("%s %s", typ, Quantity(gb)))
		}
	}
	e.r.Assumptions = []string{
		fmt.Sprintf("%d hours a month; on-demand list prices, no Savings Plans, reservations or free tier", HoursPerMonth),
		fmt.Sprintf("the node group at its desired size, %d nodes (up to %d when it scales out)", ng.Desired, ng.Max),
		fmt.Sprintf("usage.natGB %s: GB a month through the NAT gateways (no VPC endpoints, so ECR pulls pass them)", Quantity(u.NATGB)),
		fmt.Sprintf("usage.albLCUs %s: the ALB's average load in LCUs", Quantity(u.ALBLCUs)),
		fmt.Sprintf("usage.bucketGB %s, usage.accessLogGB %s, usage.registryGB %s: GB stored in the backups bucket, its access-log bucket and ECR", Quantity(u.BucketGB), Quantity(u.AccessLogGB), Quantity(u.RegistryGB)),
		fmt.Sprintf("usage.controlPlaneLogGB: GB a month of each control-plane log type (%s); only the types in cluster.logging are billed", strings.Join(logs, ", ")),
		fmt.Sprintf("usage.databaseLogGB %s, usage.monitoringGB %s: GB of PostgreSQL logs, and of enhanced-monitoring OS metrics per DB instance", Quantity(u.DatabaseLogGB), Quantity(u.MonitoringGB)),
		fmt.Sprintf("usage.nodeCPUPercent %s, usage.databaseCPUPercent %s: average CPU; burstable (t3/t4g) types bill surplus credits above their baseline (unlimited mode)", Quantity(u.NodeCPUPercent), Quantity(u.DatabaseCPUPercent)),
		fmt.Sprintf("usage.kmsRequests %s: requests a month to the customer-managed keys", Quantity(u.KMSRequests)),
		fmt.Sprintf("range: low takes every usage value at ×%s, high at ×%s (CPU ×%s, at most 100%%)", Quantity(LowFactor), Quantity(HighFactor), Quantity(HighCPUFactor)),
		"not included: data transfer (cross-AZ, internet), backups beyond the free allowance (RDS: up to the allocated storage), CloudWatch Logs storage after ingestion, KMS key rotation's extra key material, API calls, Route53 (the hosted zone is the account's own; external-dns's records are an alias to the load balancer, whose queries Route53 does not bill, and a TXT ownership record, billed per query like any standard record)",
	}
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
	s := fmt.Sprintf("%.6f", v)
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
