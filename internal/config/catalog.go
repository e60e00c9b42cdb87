package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The catalog is what bootstrap knows how to build and price. A value outside
// it is rejected with the list of known values, rather than discovered by
// eksctl or Terraform half-way through a run. internal/cost has a price for
// every entry (a test keeps the two in step).

// NodeInstanceTypes maps EC2 instance types for nodes to the pods one node
// can hold with the VPC CNI (ENIs × (IPs per ENI − 1) + 2, AWS's eni-max-pods).
var NodeInstanceTypes = map[string]int{
	"t3.medium":  17,
	"t3.large":   35,
	"t3.xlarge":  58,
	"t3.2xlarge": 58,
	"m5.large":   29,
	"m5.xlarge":  58,
	"m6i.large":  29,
	"m6i.xlarge": 58,
	"m7i.large":  29,
	"c6i.large":  29,
	"r6i.large":  29,
	// Graviton (arm64), for architecture: arm64.
	"t4g.medium":  17,
	"t4g.large":   35,
	"t4g.xlarge":  58,
	"t4g.2xlarge": 58,
	"m7g.large":   29,
	"m7g.xlarge":  58,
	"c7g.large":   29,
	"r7g.large":   29,
}

// DBInstanceClasses are the RDS classes bootstrap prices.
var DBInstanceClasses = []string{
	"db.t3.medium", "db.t3.large", "db.t4g.medium", "db.t4g.large",
	"db.m5.large", "db.m6i.large", "db.m6g.large", "db.m7g.large", "db.r6g.large",
}

// CacheNodeTypes are the ElastiCache node types bootstrap prices.
var CacheNodeTypes = []string{
	"cache.t3.small", "cache.t3.medium", "cache.t4g.small", "cache.t4g.medium",
	"cache.m6g.large", "cache.m7g.large", "cache.r6g.large", "cache.r7g.large",
}

// KubeVersion is an EKS Kubernetes minor version and its support window.
// Dates from the EKS release calendar (docs.aws.amazon.com/eks, "Kubernetes
// version lifecycle"), read 2026-11-24; checked again 2026-12-02 (the user
// guide's rule, 14 months of standard support then 12 of extended, and the
// calendar's rows as endoflife.date/amazon-eks mirrors them: 1.35 standard
// support to 2027-03-27, extended to 2028-03-27, and likewise for 1.30-1.34;
// AWS's table gives 1.35's EKS release as 2026-01-27, a day before the date
// below, which nothing here depends on).
type KubeVersion struct {
	Version       string
	Released      time.Time
	EndOfStandard time.Time // extended support ($0.60/h) from here
	EndOfExtended time.Time // EKS no longer runs it
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// KubeVersions are the versions eksctl v0.230.0 can create, oldest first.
var KubeVersions = []KubeVersion{
	{"1.30", day("2024-05-23"), day("2025-07-23"), day("2026-07-23")},
	{"1.31", day("2024-09-26"), day("2025-11-26"), day("2026-11-26")},
	{"1.32", day("2025-01-25"), day("2026-03-23"), day("2027-03-23")},
	{"1.33", day("2025-05-28"), day("2026-07-29"), day("2027-07-29")},
	{"1.34", day("2025-10-06"), day("2026-12-02"), day("2027-12-02")},
	{"1.35", day("2026-01-28"), day("2027-03-27"), day("2028-03-27")},
}

// LookupKubeVersion finds a version in the catalog.
func LookupKubeVersion(v string) (KubeVersion, bool) {
	for _, k := range KubeVersions {
		if k.Version == v {
			return k, true
		}
	}
	return KubeVersion{}, false
}

// SupportTier is "standard", "extended" or "unsupported" on a day.
func (k KubeVersion) SupportTier(on time.Time) string {
	switch {
	case on.Before(k.EndOfStandard):
		return "standard"
	case on.Before(k.EndOfExtended):
		return "extended"
	default:
		return "unsupported"
	}
}

// The EKS support types (upgradePolicy.supportType), spelled as eksctl's
// v1alpha5 SupportTypeStandard and SupportTypeExtended (a test in eksctl/
// keeps them equal).
const (
	SupportStandard = "STANDARD"
	SupportExtended = "EXTENDED"
)

// SupportTypes are the values eksctl and EKS accept.
var SupportTypes = []string{SupportStandard, SupportExtended}

// PostgresMajors are the RDS PostgreSQL majors in RDS standard support
// through 2026 with the date standard support ends (extended-support charges
// follow). Source: RDS for PostgreSQL release calendar, read 2026-11-24.
var PostgresMajors = map[string]time.Time{
	"14": day("2027-02-28"),
	"15": day("2028-02-29"),
	"16": day("2029-02-28"),
	"17": day("2030-02-28"),
}

// PostgresExtendedEnds are the days RDS extended support ends for each major
// (RDS then upgrades the engine itself): three years after the end of
// standard support, the pattern of RDS's release calendar (PostgreSQL 12:
// standard support to 2025-02-28, extended to 2028-02-29; AWS's "Amazon RDS
// Extended Support" overview: up to three years). Read 2026-12-02 from the
// documentation search; check `aws rds describe-db-major-engine-versions
// --engine postgres` (SupportedEngineLifecycles) for the live dates. Looked
// for again 2026-12-02: the release calendar page
// (docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html)
// is not in the stored documentation, only its title in the guide's index,
// so these stay the pattern, not the page's dates.
var PostgresExtendedEnds = map[string]time.Time{
	"14": day("2030-02-28"),
	"15": day("2031-02-28"),
	"16": day("2032-02-29"),
	"17": day("2033-02-28"),
}

// RedisVersions are the ElastiCache Redis OSS engine versions accepted. AWS
// has announced no end of standard support for Redis OSS 7 (ElastiCache's
// extended support covers 4 and 5 only, read 2026-12-02), so they carry no
// dates and raise no support warning.
var RedisVersions = []string{"7.0", "7.1"}

// ControlPlaneLogTypes are the EKS control-plane log types.
var ControlPlaneLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// Regions with at least three availability zones where EKS, RDS and
// ElastiCache are all offered; bootstrap is tested and priced for us-east-1
// but renders for these.
var Regions = []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1"}

// PostgresMinors are the major.minor versions RDS for PostgreSQL has offered
// for each supported major: the upgrade-target table of "Choosing a major
// version for an RDS for PostgreSQL upgrade" (Amazon RDS User Guide) lists
// 16.1-16.9, 17.1-17.5 and 15.x up to 15.13 (15.2 was RDS's first 15 minor),
// plus the August 2025 minors (17.6, 16.10, 15.14, 14.19); read 2026-12-02
// through the documentation search, not from the live API. Check a region with
// `aws rds describe-db-engine-versions --engine postgres --query
// 'DBEngineVersions[].EngineVersion'`. A newer minor is given as its major
// alone (RDS then creates its default minor) until it is added here.
var PostgresMinors = map[string][]string{
	"14": minors("14", 1, 19),
	"15": minors("15", 2, 14),
	"16": minors("16", 1, 10),
	"17": minors("17", 1, 6),
}

func minors(major string, first, last int) []string {
	var out []string
	for i := first; i <= last; i++ {
		out = append(out, fmt.Sprintf("%s.%d", major, i))
	}
	return out
}

// ZonesByRegion are the zone letters of each region bootstrap supports: the
// region's name and one of these letters is a zone name. One letter per AZ ID
// listed for the region in "AWS Availability Zones" (AWS Regions and
// Availability Zones guide, docs.aws.amazon.com/global-infrastructure), read
// 2026-12-02: us-east-1 has six (use1-az1..az6), us-west-2 four, the others
// three.
var ZonesByRegion = map[string]string{
	"us-east-1":    "abcdef",
	"us-east-2":    "abc",
	"us-west-2":    "abcd",
	"eu-west-1":    "abc",
	"eu-central-1": "abc",
}

// MaxStorageGB is RDS's gp3 storage limit, for allocated and autoscaled
// storage alike.
const MaxStorageGB = 65536

// MaxTags is AWS's limit of user tags on one resource ("Tagging AWS
// resources", tag naming limits and requirements).
const MaxTags = 50

// BucketReservedPrefixes and BucketReservedSuffixes are what S3 reserves in
// general purpose bucket names (Amazon S3 User Guide, "General purpose bucket
// naming rules", read 2026-12-02).
var (
	BucketReservedPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	BucketReservedSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// ReservedDBUsername reports whether RDS for PostgreSQL refuses a master user
// name, in any case: postgres and RDS's own roles (rdsadmin, rdsrepladmin,
// rdstopmgr), names PostgreSQL reserves for roles (public, none, pg_*,
// rds_* roles RDS creates), and PostgreSQL's reserved key words ("Can't be a
// reserved word for the chosen database engine", CreateDBInstance
// MasterUsername; PostgreSQL manual, Appendix C, reserved key words).
// terraform/stateful's var.db_username holds the same list.
func ReservedDBUsername(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "pg_") || strings.HasPrefix(n, "rds_") || slices.Contains(reservedDBUsernames, n)
}

var reservedDBUsernames = []string{
	"postgres", "rdsadmin", "rdsrepladmin", "rdstopmgr", "public", "none",
	"all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast",
	"check", "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role",
	"current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do",
	"else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in",
	"initially", "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
	"null", "offset", "on", "only", "or", "order", "placing", "primary", "references", "returning", "select",
	"session_user", "some", "symmetric", "system_user", "table", "then", "to", "trailing", "true", "union",
	"unique", "user", "using", "variadic", "when", "where", "window", "with",
}
