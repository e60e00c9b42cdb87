package cost

// The price table: us-east-1 (US East, N. Virginia) on-demand list prices in
// USD, Linux, no Savings Plans, Reserved Instances or free tier.
//
// Every figure below was taken on PricesRead. "confirmed" names the page whose
// text carried the figure that day; "list price" marks a figure from AWS's
// published price list that no page read that day repeated, to be re-checked
// against the AWS Pricing Calculator (calculator.aws) at the next review.
// internal/config's catalog (NodeInstanceTypes, DBInstanceClasses,
// CacheNodeTypes) must have an entry here: a test fails when it has not.
//
// To update: change the figures and their notes, move PricesRead, run
// `go test ./internal/cost ./internal/cmd/cost ./internal/cmd/runbook -update`
// and review the golden files and docs/runbooks/infrastructure_setup.md.

// PricesRead is the day the table was read.
const PricesRead = "2026-11-24"

// PriceRegion is the region the table prices.
const PriceRegion = "us-east-1"

// HoursPerMonth is AWS's own monthly convention (8,760 h / 12).
const HoursPerMonth = 730

// EKS control plane, per cluster-hour. Source: aws.amazon.com/eks/pricing and
// the EKS user guide "Kubernetes version lifecycle" (14 months of standard
// support, then 12 of extended support at a higher rate); confirmed
// 2026-11-24 in docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions
// (tiers) and in AWS's extended-support notice quoted in
// github.com/WGBH-MLA/chowda/issues/217 ($0.60 per cluster hour).
const (
	EKSStandardHourly = 0.10
	EKSExtendedHourly = 0.60
)

// EC2Hourly is the on-demand Linux price of each node instance type, per
// instance-hour. Source: aws.amazon.com/ec2/pricing/on-demand. t3.large
// confirmed 2026-11-24 (go-cloud.io EC2 pricing guide: "$0.0832/hour");
// the rest are list prices.
var EC2Hourly = map[string]float64{
	"t3.medium":  0.0416,
	"t3.large":   0.0832,
	"t3.xlarge":  0.1664,
	"t3.2xlarge": 0.3328,
	"m5.large":   0.096,
	"m5.xlarge":  0.192,
	"m6i.large":  0.096,
	"m6i.xlarge": 0.192,
	"m7i.large":  0.1008,
	"c6i.large":  0.085,
	"r6i.large":  0.126,
	// Graviton (arm64), for architecture: arm64, added 2026-12-02:
	// m7g.large confirmed that day (factualminds.com EC2 on-demand pricing
	// 2026: "In us-east-1 (June 2026), Linux m7g.large is $0.0816/hr");
	// the rest are list prices.
	"t4g.medium":  0.0336,
	"t4g.large":   0.0672,
	"t4g.xlarge":  0.1344,
	"t4g.2xlarge": 0.2688,
	"m7g.large":   0.0816,
	"m7g.xlarge":  0.1632,
	"c7g.large":   0.0725,
	"r7g.large":   0.1071,
}

// EBSGp3GBMonth is gp3 volume storage per GB-month, with the free baseline of
// 3,000 IOPS and 125 MB/s (eksctl's node volumes are gp3 at the baseline).
// Source: aws.amazon.com/ebs/pricing; confirmed 2026-11-24 (Amazon EBS
// overview on menuvis1-blip.github.io: "gp3 ... $0.08/GB").
const EBSGp3GBMonth = 0.08

// NAT gateway, per gateway-hour and per GB processed (both directions, any
// destination). Source: aws.amazon.com/vpc/pricing; confirmed 2026-11-24
// (basavytix.com and costpatrol.io NAT gateway pricing: "$0.045/hr",
// "$0.045/GB", us-east-1).
const (
	NATHourly = 0.045
	NATPerGB  = 0.045
)

// PublicIPv4Hourly is the charge for every public IPv4 address, in use or
// idle, since 2024-02-01: NAT gateways' Elastic IPs and the internet-facing
// load balancer's addresses (one per zone). Source: aws.amazon.com/vpc/pricing
// ("Public IPv4 Address"); confirmed 2026-11-24 (pocketlantern.dev: "$0.005
// per hour for both in-use and idle public IPv4 addresses").
const PublicIPv4Hourly = 0.005

// RDSPostgresHourly is RDS for PostgreSQL, Single-AZ, per instance-hour.
// Multi-AZ (one standby) bills two instances. Source:
// aws.amazon.com/rds/postgresql/pricing. db.t4g.medium confirmed 2026-11-24
// (infratally.com RDS pricing 2026: "db.t4g.medium ... $0.065"); the rest are
// list prices.
var RDSPostgresHourly = map[string]float64{
	"db.t3.medium":  0.072,
	"db.t3.large":   0.145,
	"db.t4g.medium": 0.065,
	"db.t4g.large":  0.129,
	"db.m5.large":   0.178,
	"db.m6i.large":  0.178,
	"db.m6g.large":  0.159,
	"db.m7g.large":  0.168,
	"db.r6g.large":  0.225,
}

// RDSVCPUs is each class's vCPU count, on which RDS extended support is
// charged. Source: the RDS DB instance class tables (every class here has 2).
var RDSVCPUs = map[string]int{
	"db.t3.medium":  2,
	"db.t3.large":   2,
	"db.t4g.medium": 2,
	"db.t4g.large":  2,
	"db.m5.large":   2,
	"db.m6i.large":  2,
	"db.m6g.large":  2,
	"db.m7g.large":  2,
	"db.r6g.large":  2,
}

// RDSGp3GBMonth is RDS gp3 storage per GB-month, Single-AZ; Multi-AZ stores
// (and bills) a second copy. Source: aws.amazon.com/rds/pricing; confirmed
// 2026-11-24 (usage.ai RDS pricing calculator guide: "GB provisioned x
// $0.115/month (gp3)"; the AWS RDS user guide: Multi-AZ storage is charged
// for both the primary and the standby).
const RDSGp3GBMonth = 0.115

// RDS extended support, per vCPU-hour, on every instance including a
// Multi-AZ standby, from the day after the major version's end of standard
// support (config.PostgresMajors): years 1–2, then year 3. Source:
// aws.amazon.com/rds/postgresql/pricing ("Extended Support"); confirmed
// 2026-11-24 (usage.ai and cloudyali.io: "$0.100 per vCPU-hour ... doubles
// to $0.200 per vCPU-hour" in year 3, US East; docs.aws.amazon.com RDS user
// guide: charges apply to standby instances in Multi-AZ deployments).
const (
	RDSExtendedYear12VCPUHourly = 0.100
	RDSExtendedYear3VCPUHourly  = 0.200
)

// CacheHourly is ElastiCache for Redis OSS, on-demand, per node-hour; every
// node of the replication group (primary and replicas) bills. Source:
// aws.amazon.com/elasticache/pricing. cache.t3.medium confirmed 2026-11-24
// (dragonflydb.io/finops/elasticache/cache.t3.medium: "US East (N.
// Virginia) $0.068"); the rest are list prices.
var CacheHourly = map[string]float64{
	"cache.t3.small":   0.034,
	"cache.t3.medium":  0.068,
	"cache.t4g.small":  0.032,
	"cache.t4g.medium": 0.065,
	"cache.m6g.large":  0.149,
	"cache.m7g.large":  0.158,
	"cache.r6g.large":  0.206,
	"cache.r7g.large":  0.219,
}

// Application Load Balancer, per ALB-hour and per LCU-hour. Source:
// aws.amazon.com/elasticloadbalancing/pricing (list prices; the LCU
// dimensions were confirmed 2026-11-24 in handbook.vantage.sh/aws/services/
// elb-pricing: 25 new connections/s, 3,000 active connections/min, 1 GB/h,
// 1,000 rule evaluations/s).
const (
	ALBHourly    = 0.0225
	ALBLCUHourly = 0.008
)

// SecretsManagerSecretMonth is one secret for a month (API calls, $0.05 per
// 10,000, are left out: External Secrets' hourly refresh of four secrets is
// about 2,900 calls a month). Source: aws.amazon.com/secrets-manager/pricing;
// confirmed 2026-11-24 (hivebook.wiki Secrets Manager: "$0.40 per secret per
// month + $0.05 per 10k API calls").
const SecretsManagerSecretMonth = 0.40

// S3StandardGBMonth is S3 Standard storage, first 50 TB, per GB-month.
// Source: aws.amazon.com/s3/pricing (list price).
const S3StandardGBMonth = 0.023

// ECRGBMonth is private repository storage per GB-month; same-region pulls
// are free. Source: aws.amazon.com/ecr/pricing; confirmed 2026-11-24
// (cloudburn.io ECR pricing, "as of March 2026": "Private storage
// $0.10/GB/month").
const ECRGBMonth = 0.10

// CloudWatchLogsIngestGB is CloudWatch Logs standard ingestion per GB, where
// the EKS control-plane logs the profile enables go. Source:
// aws.amazon.com/cloudwatch/pricing (list price).
const CloudWatchLogsIngestGB = 0.50

// Surplus CPU credits of burstable types in unlimited mode, per vCPU-hour
// above the baseline. EC2 launches T3 and T4g in unlimited mode unless told
// otherwise, and eksctl v0.230.0 does not for a managed node group (only its
// self-managed node groups' builder, pkg/cfn/builder/nodegroup.go, sets a
// CreditSpecification, from cpuCredits); RDS runs db.t3 and db.t4g
// unlimited. Sources: aws.amazon.com/ec2/pricing/on-demand ("T2/T3/T4g
// Unlimited Mode Pricing"), confirmed 2026-12-02 for T4g (GitLab
// docker-machine MR 118 quoting AWS: "The CPU credit price for T4g is
// $0.04/vCPU/hour"; T3 Linux confirmed the same day, matthiaskraaz.blogspot
// .com on burstable surplus charges: "0.05 $ per hour and vCPU"; and the EC2
// Spot pricing page: "T4g and T3 instances launch as unlimited by
// default"); aws.amazon.com/rds/
// postgresql/pricing ("T4g and T3 CPU credits", $0.075, list price).
// ElastiCache bills no surplus credits for its T nodes (its price page has
// no such dimension), so none is counted for Redis.
const (
	EC2T3CreditVCPUHour  = 0.05
	EC2T4gCreditVCPUHour = 0.04
	RDSCreditVCPUHour    = 0.075
)

// Burstable is a burstable type's vCPUs and its baseline utilisation per
// vCPU in percent: above it, unlimited mode bills surplus credits. Source:
// the EC2 user guide "Burstable performance instances" key concepts table
// (baseline per vCPU: medium 20%, large 30%, xlarge and 2xlarge 40%) and the
// RDS user guide "DB instance classes" (db.t3 and db.t4g as their EC2 type);
// list values, added 2026-12-02.
type Burstable struct {
	VCPUs        int
	BaselinePerc float64
}

// Burstables are the catalog's burstable node, database and cache types.
var Burstables = map[string]Burstable{
	"t3.medium": {2, 20}, "t3.large": {2, 30}, "t3.xlarge": {4, 40}, "t3.2xlarge": {8, 40},
	"t4g.medium": {2, 20}, "t4g.large": {2, 30}, "t4g.xlarge": {4, 40}, "t4g.2xlarge": {8, 40},
	"db.t3.medium": {2, 20}, "db.t3.large": {2, 30}, "db.t4g.medium": {2, 20}, "db.t4g.large": {2, 30},
}

// KMS customer-managed keys, per key-month, and requests per 10,000 (the
// 20,000 free requests a month are left out, as every free tier is).
// Source: aws.amazon.com/kms/pricing; list prices ($1.00 a key a month,
// $0.03 per 10,000 requests), added 2026-12-02.
const (
	KMSKeyMonth       = 1.00
	KMSPer10kRequests = 0.03
)

// PerformanceInsightsFree is Performance Insights with 7 days of retention,
// which terraform/stateful/rds.tf enables: free ("the free tier includes 7
// days of performance data history"). Source: aws.amazon.com/rds/
// performance-insights/pricing, list, added 2026-12-02. A line at $0 shows
// it was counted, not forgotten.
const PerformanceInsightsFree = 0.0

// The range of an estimate: the low end takes every usage assumption at
// LowFactor of its value, the high end at HighFactor (a busy month: a
// release week's image pulls, a traffic peak, an audit-log storm), CPU
// utilisation at HighCPUFactor, capped at 100%.
const (
	LowFactor     = 0.5
	HighFactor    = 3.0
	HighCPUFactor = 1.5
)

// AssumedLoadBalancers is the internet-facing ALBs: one, for the app chart's
// one Ingress (className alb). It is the app's shape, not a usage.
const AssumedLoadBalancers = 1
