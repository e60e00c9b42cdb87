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
	// Graviton (arm64), for architecture: arm64: list prices, added
	// 2026-12-02.
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

// Usage the table cannot know, stated as named assumptions: each shows in
// the estimate's assumptions, and changing one changes the figure.
const (
	// AssumedNATGBPerMonth is the traffic through all NAT gateways together:
	// image pulls from ECR and public registries, OS and chart downloads, AWS
	// API calls from private subnets. There are no VPC endpoints, so ECR
	// pulls pass the NAT.
	AssumedNATGBPerMonth = 100
	// AssumedLoadBalancers is the internet-facing ALBs: one, for the app
	// chart's one Ingress (className alb).
	AssumedLoadBalancers = 1
	// AssumedALBLCUs is the ALB's average load in LCUs over the month.
	AssumedALBLCUs = 1
	// AssumedS3GB is the backups/logs bucket's size.
	AssumedS3GB = 50
	// AssumedECRGB is the images kept: the lifecycle policy keeps 10 tagged
	// images per repository, about 0.5 GB each for two repositories.
	AssumedECRGB = 10
	// AssumedLogGBPerType is a month of one EKS control-plane log type
	// (api, audit, ...) in CloudWatch Logs for a small cluster.
	AssumedLogGBPerType = 3
)
