package config

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Problem is one thing wrong with a configuration, at a path such as
// environments.production.database.instanceClass, with a hint at the fix.
type Problem struct {
	Path    string
	Message string
	Hint    string
}

func (p Problem) String() string {
	s := p.Message
	if p.Path != "" {
		s = p.Path + ": " + s
	}
	if p.Hint != "" {
		s += " (" + p.Hint + ")"
	}
	return s
}

// Problems is every problem found in one pass. It is an error.
type Problems []Problem

func (ps Problems) Error() string {
	if len(ps) == 1 {
		return "invalid configuration: " + ps[0].String()
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  " + p.String()
	}
	return fmt.Sprintf("invalid configuration, %d problems:\n%s", len(ps), strings.Join(lines, "\n"))
}

// Validate checks every environment of a file and returns Problems, or nil.
func Validate(f *File, now time.Time) error {
	probs := append(Problems(nil), f.decodeProblems...)
	names := make([]string, 0, len(f.Environments))
	for n := range f.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	clusters := map[string]string{}
	for _, n := range names {
		p := f.Environments[n]
		probs = append(probs, ValidateProfile(p, now)...)
		key := p.Region + "/" + p.Cluster.Name
		if other, ok := clusters[key]; ok {
			probs = append(probs, Problem{envPath(n, "cluster.name"),
				fmt.Sprintf("%q is also the cluster of environment %q in %s", p.Cluster.Name, other, p.Region),
				"give each environment its own cluster name"})
		}
		clusters[key] = n
	}
	if len(probs) == 0 {
		return nil
	}
	return probs
}

// Resolve loads the configuration at path (see Load), picks one environment
// and validates the whole file: a run never starts on a file with problems.
func Resolve(path, env string, now time.Time) (*Profile, error) {
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	var probs Problems
	if err := Validate(f, now); err != nil {
		probs = append(probs, err.(Problems)...)
	}
	p, ok := f.Environments[env]
	if !ok {
		known := make([]string, 0, len(f.Environments))
		for n := range f.Environments {
			known = append(known, n)
		}
		sort.Strings(known)
		probs = append(probs, Problem{"--env", fmt.Sprintf("no environment %q", env), "known: " + strings.Join(known, ", ")})
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return p, nil
}

var (
	envNameRE     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,18}[a-z0-9]$`)
	eksNameRE     = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)
	dnsLabelRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	dnsSubRE      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
	rdsIDRE       = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	redisIDRE     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
	pgIdentRE     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,62}$`)
	pgVersionRE   = regexp.MustCompile(`^(\d+)(\.\d+)?$`)
	ecrRepoRE     = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	secretPathRE  = regexp.MustCompile(`^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$`)
	iamRoleRE     = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	bucketRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	kmsARNRE      = regexp.MustCompile(`^arn:aws:kms:([a-z0-9-]+):\d{12}:(key|alias)/.+$`)
	hostedZoneRE  = regexp.MustCompile(`^Z[A-Z0-9]{1,32}$`)
	domainRE      = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	reservedTagRE = regexp.MustCompile(`^(?i)aws:`)
)

// ValidateProfile checks one environment. Paths start at environments.<name>.
func ValidateProfile(p *Profile, now time.Time) Problems {
	v := &validator{env: p.Name}
	prod := p.Name == "production"

	v.check(envNameRE.MatchString(p.Name), "", fmt.Sprintf("environment name %q is not allowed", p.Name),
		"2–20 characters: lower-case letters, digits and '-', starting with a letter")

	// Region and availability zones.
	v.check(slices.Contains(Regions, p.Region), "region", fmt.Sprintf("%q is not a supported region", p.Region),
		"one of "+strings.Join(Regions, ", "))
	if len(p.AvailabilityZones) != 3 {
		v.add("availabilityZones", fmt.Sprintf("lists %d zones, must list exactly 3", len(p.AvailabilityZones)),
			"eksctl otherwise makes 2 public + 2 private subnets; list three zones such as "+p.Region+"a, "+p.Region+"b, "+p.Region+"c")
	}
	seenAZ := map[string]bool{}
	for i, az := range p.AvailabilityZones {
		path := fmt.Sprintf("availabilityZones[%d]", i)
		if !strings.HasPrefix(az, p.Region) || len(az) != len(p.Region)+1 || az[len(az)-1] < 'a' || az[len(az)-1] > 'z' {
			v.add(path, fmt.Sprintf("%q is not a zone of region %s", az, p.Region), "use "+p.Region+" followed by one letter")
		}
		if seenAZ[az] {
			v.add(path, fmt.Sprintf("%q is listed twice", az), "list three different zones")
		}
		seenAZ[az] = true
	}

	// Cluster.
	c := p.Cluster
	v.validateEndpointAccess(p) // validate_hardening.go
	v.check(eksNameRE.MatchString(c.Name), "cluster.name", fmt.Sprintf("%q is not a valid EKS cluster name", c.Name),
		"1–100 characters: letters, digits, '-' and '_', starting with a letter or digit")
	v.kubeVersion(c.KubernetesVersion, now)
	v.vpc(p)
	v.check(slices.Contains([]string{"HighlyAvailable", "Single"}, c.NAT), "cluster.nat",
		fmt.Sprintf("%q is not a NAT mode for private node groups", c.NAT),
		"HighlyAvailable (one NAT gateway per zone) or Single; nodes in private subnets need NAT")
	if prod && c.NAT != "HighlyAvailable" {
		v.add("cluster.nat", "production must have a NAT gateway per zone", "set HighlyAvailable: a single NAT is a single point of failure")
	}
	ng := c.NodeGroup
	v.check(dnsLabelRE.MatchString(ng.Name), "cluster.nodeGroup.name", fmt.Sprintf("%q is not a valid node group name", ng.Name),
		"lower-case letters, digits and '-'")
	if _, ok := NodeInstanceTypes[ng.InstanceType]; !ok {
		v.add("cluster.nodeGroup.instanceType", fmt.Sprintf("%q is not a known node instance type", ng.InstanceType), "one of "+keys(NodeInstanceTypes))
	}
	if ng.Min < 1 {
		v.add("cluster.nodeGroup.min", fmt.Sprintf("is %d, must be at least 1", ng.Min), "add-ons need a node to run on")
	}
	if ng.Min > ng.Desired || ng.Desired > ng.Max {
		v.add("cluster.nodeGroup.desired", fmt.Sprintf("min %d <= desired %d <= max %d does not hold", ng.Min, ng.Desired, ng.Max), "order them min <= desired <= max")
	}
	if ng.Max > 100 {
		v.add("cluster.nodeGroup.max", fmt.Sprintf("is %d", ng.Max), "at most 100 nodes in one managed node group")
	}
	if ng.VolumeSizeGB < 20 || ng.VolumeSizeGB > 1000 {
		v.add("cluster.nodeGroup.volumeSizeGB", fmt.Sprintf("is %d", ng.VolumeSizeGB), "between 20 and 1000 GB")
	}
	seenLog := map[string]bool{}
	for i, l := range c.Logging {
		path := fmt.Sprintf("cluster.logging[%d]", i)
		v.check(slices.Contains(ControlPlaneLogTypes, l), path, fmt.Sprintf("%q is not a control-plane log type", l), "one of "+strings.Join(ControlPlaneLogTypes, ", "))
		v.check(!seenLog[l], path, fmt.Sprintf("%q is listed twice", l), "")
		seenLog[l] = true
	}
	if c.KMSKeyARN != "" {
		m := kmsARNRE.FindStringSubmatch(c.KMSKeyARN)
		switch {
		case m == nil:
			v.add("cluster.kmsKeyARN", fmt.Sprintf("%q is not a KMS key ARN", c.KMSKeyARN), "arn:aws:kms:<region>:<account>:key/<id>")
		case m[1] != p.Region:
			v.add("cluster.kmsKeyARN", fmt.Sprintf("key is in %s, the cluster in %s", m[1], p.Region), "use a key in the cluster's region")
		}
	}

	// Database.
	d := p.Database
	v.check(rdsIDRE.MatchString(d.Identifier) && !strings.HasSuffix(d.Identifier, "-") && !strings.Contains(d.Identifier, "--"),
		"database.identifier", fmt.Sprintf("%q is not a valid RDS identifier", d.Identifier),
		"1–63 lower-case letters, digits and '-', starting with a letter, no '--', not ending with '-'")
	v.postgresVersion(d.EngineVersion)
	v.check(slices.Contains(DBInstanceClasses, d.InstanceClass), "database.instanceClass",
		fmt.Sprintf("%q is not a known RDS instance class", d.InstanceClass), "one of "+strings.Join(DBInstanceClasses, ", "))
	if d.AllocatedStorageGB < 20 || d.AllocatedStorageGB > 65536 {
		v.add("database.allocatedStorageGB", fmt.Sprintf("is %d", d.AllocatedStorageGB), "gp3 storage is 20 to 65536 GB")
	}
	if d.MaxAllocatedStorageGB != 0 && float64(d.MaxAllocatedStorageGB) < math.Ceil(float64(d.AllocatedStorageGB)*1.1) {
		v.add("database.maxAllocatedStorageGB", fmt.Sprintf("%d is not at least 10%% above allocatedStorageGB %d", d.MaxAllocatedStorageGB, d.AllocatedStorageGB),
			"raise it, or set 0 to turn storage autoscaling off")
	}
	switch {
	case d.BackupRetentionDays < 1 || d.BackupRetentionDays > 35:
		v.add("database.backupRetentionDays", fmt.Sprintf("is %d", d.BackupRetentionDays), "1 to 35 days; 0 would turn automated backups off")
	case prod && d.BackupRetentionDays < 7:
		v.add("database.backupRetentionDays", fmt.Sprintf("is %d for production", d.BackupRetentionDays), "production keeps at least 7 days of backups")
	}
	if prod && !d.DeletionProtection {
		v.add("database.deletionProtection", "is off for production", "keep it on; teardown lifts it explicitly after a typed confirmation")
	}
	if prod && !d.MultiAZ {
		v.add("database.multiAZ", "is off for production", "production runs RDS Multi-AZ")
	}
	v.check(pgIdentRE.MatchString(d.Name) && !slices.Contains([]string{"postgres", "template0", "template1", "rdsadmin"}, d.Name),
		"database.name", fmt.Sprintf("%q is not a usable database name", d.Name), "letters, digits and '_', starting with a letter, not a reserved name")
	v.check(pgIdentRE.MatchString(d.Username) && len(d.Username) <= 63 && !slices.Contains([]string{"rdsadmin", "rdsrepladmin", "public"}, d.Username),
		"database.username", fmt.Sprintf("%q is not a usable master user name", d.Username), "letters, digits and '_', starting with a letter, not rdsadmin")
	v.check(d.Port >= 1150 && d.Port <= 65535, "database.port", fmt.Sprintf("is %d", d.Port), "RDS ports are 1150 to 65535; PostgreSQL's is 5432")

	// Redis.
	r := p.Redis
	v.check(redisIDRE.MatchString(r.ReplicationGroupID) && !strings.HasSuffix(r.ReplicationGroupID, "-") && !strings.Contains(r.ReplicationGroupID, "--"),
		"redis.replicationGroupId", fmt.Sprintf("%q is not a valid replication group id", r.ReplicationGroupID),
		"1–40 lower-case letters, digits and '-', starting with a letter, no '--', not ending with '-'")
	v.check(slices.Contains(RedisVersions, r.EngineVersion), "redis.engineVersion",
		fmt.Sprintf("%q is not a supported Redis version", r.EngineVersion), "one of "+strings.Join(RedisVersions, ", "))
	v.check(slices.Contains(CacheNodeTypes, r.NodeType), "redis.nodeType",
		fmt.Sprintf("%q is not a known ElastiCache node type", r.NodeType), "one of "+strings.Join(CacheNodeTypes, ", "))
	if r.NumCacheClusters < 1 || r.NumCacheClusters > 6 {
		v.add("redis.numCacheClusters", fmt.Sprintf("is %d", r.NumCacheClusters), "1 (primary only) to 6 (primary and 5 replicas)")
	}
	if r.AutomaticFailover && r.NumCacheClusters < 2 {
		v.add("redis.automaticFailover", "needs at least one replica", "set numCacheClusters to 2 or more, or turn failover off")
	}
	if r.MultiAZ && !r.AutomaticFailover {
		v.add("redis.multiAZ", "needs automaticFailover", "turn automaticFailover on")
	}
	if prod && !r.AutomaticFailover {
		v.add("redis.automaticFailover", "is off for production", "production runs a replica with automatic failover")
	}
	v.check(r.Port >= 1024 && r.Port <= 65535, "redis.port", fmt.Sprintf("is %d", r.Port), "Redis's port is 6379")

	// Names of the rest.
	if p.Storage.Bucket != "" {
		v.bucket("storage.bucket", p.Storage.Bucket)
	}
	if p.State.Bucket != "" {
		v.bucket("state.bucket", p.State.Bucket)
	}
	if len(p.Registry.Repositories) == 0 {
		v.add("registry.repositories", "is empty", "list the app's repositories, e.g. sovd-backend, sovd-frontend")
	}
	seenRepo := map[string]bool{}
	for i, repo := range p.Registry.Repositories {
		path := fmt.Sprintf("registry.repositories[%d]", i)
		v.check(len(repo) >= 2 && len(repo) <= 256 && ecrRepoRE.MatchString(repo), path,
			fmt.Sprintf("%q is not a valid ECR repository name", repo), "lower-case letters, digits, '.', '_', '-' and '/' between parts")
		v.check(!seenRepo[repo], path, fmt.Sprintf("%q is listed twice", repo), "")
		seenRepo[repo] = true
	}
	s := p.Secrets
	v.check(secretPathRE.MatchString(s.Prefix) && len(s.Prefix) <= 400, "secrets.prefix",
		fmt.Sprintf("%q is not a valid Secrets Manager path", s.Prefix), "parts of letters, digits and _+=.@- joined by '/', no leading or trailing '/'")
	switch {
	case s.RecoveryWindowDays != 0 && (s.RecoveryWindowDays < 7 || s.RecoveryWindowDays > 30):
		v.add("secrets.recoveryWindowDays", fmt.Sprintf("is %d", s.RecoveryWindowDays), "0 (delete at once) or 7 to 30 days")
	case prod && s.RecoveryWindowDays == 0:
		v.add("secrets.recoveryWindowDays", "is 0 for production", "production secrets keep a 7–30 day recovery window")
	}
	a := p.App
	v.check(dnsLabelRE.MatchString(a.Namespace), "app.namespace", fmt.Sprintf("%q is not a valid namespace", a.Namespace), "a DNS label: lower-case letters, digits and '-'")
	v.check(dnsSubRE.MatchString(a.ServiceAccount), "app.serviceAccount", fmt.Sprintf("%q is not a valid service account name", a.ServiceAccount), "lower-case letters, digits, '-' and '.'")
	v.check(iamRoleRE.MatchString(a.RoleName), "app.roleName", fmt.Sprintf("%q is not a valid IAM role name", a.RoleName), "1–64 letters, digits and +=,.@_-")
	if a.Domain != "" {
		v.check(domainRE.MatchString(a.Domain), "app.domain", fmt.Sprintf("%q is not a domain name", a.Domain), "e.g. sovd.example.com")
	}
	if a.HostedZoneID != "" {
		v.check(hostedZoneRE.MatchString(a.HostedZoneID), "app.hostedZoneID", fmt.Sprintf("%q is not a Route53 hosted zone id", a.HostedZoneID), "Z followed by upper-case letters and digits")
	}
	if (a.Domain == "") != (a.HostedZoneID == "") {
		v.add("app.hostedZoneID", "domain and hostedZoneID go together", "set both to get an ACM certificate validated through Route53, or neither")
	}
	for _, role := range []string{p.LoadBalancerControllerRole(), p.ExternalSecretsRole()} {
		if len(role) > 64 {
			v.add("", fmt.Sprintf("IAM role name %q is longer than 64 characters", role), "use a shorter environment name")
		}
	}

	b := p.Budget
	if b.MonthlyMax <= 0 || b.MonthlyMin < 0 || b.MonthlyMin > b.MonthlyMax {
		v.add("budget", fmt.Sprintf("monthlyMin %.0f and monthlyMax %.0f are not a band", b.MonthlyMin, b.MonthlyMax), "0 <= monthlyMin <= monthlyMax, monthlyMax above 0")
	}
	for _, k := range sortedKeys(anyMap(p.Tags)) {
		path := "tags." + k
		switch {
		case reservedTagRE.MatchString(k):
			v.add(path, "the aws: prefix is reserved by AWS", "choose another key")
		case k == "Environment" || k == "Application" || k == "ManagedBy":
			v.add(path, "is set by bootstrap on every resource", "remove it; bootstrap uses these tags to find what it owns")
		case len(k) > 128 || len(p.Tags[k]) > 256:
			v.add(path, "is too long", "keys up to 128 characters, values up to 256")
		}
	}
	return v.probs
}

type validator struct {
	env   string
	probs Problems
}

func envPath(env, path string) string {
	if path == "" {
		return "environments." + env
	}
	return "environments." + env + "." + path
}

func (v *validator) add(path, msg, hint string) {
	v.probs = append(v.probs, Problem{envPath(v.env, path), msg, hint})
}

func (v *validator) check(ok bool, path, msg, hint string) {
	if !ok {
		v.add(path, msg, hint)
	}
}

func (v *validator) kubeVersion(ver string, now time.Time) {
	k, ok := LookupKubeVersion(ver)
	if !ok {
		known := make([]string, len(KubeVersions))
		for i, k := range KubeVersions {
			known[i] = k.Version
		}
		v.add("cluster.kubernetesVersion", fmt.Sprintf("%q is not a version eksctl can create", ver), "one of "+strings.Join(known, ", "))
		return
	}
	if k.SupportTier(now) == "unsupported" {
		v.add("cluster.kubernetesVersion", fmt.Sprintf("%s left EKS extended support on %s", ver, k.EndOfExtended.Format(time.DateOnly)), "choose a newer version")
	}
}

func (v *validator) postgresVersion(ver string) {
	m := pgVersionRE.FindStringSubmatch(ver)
	if m == nil {
		v.add("database.engineVersion", fmt.Sprintf("%q is not a PostgreSQL version", ver), "a major such as \"15\" or major.minor such as \"15.10\"")
		return
	}
	if _, ok := PostgresMajors[m[1]]; !ok {
		v.add("database.engineVersion", fmt.Sprintf("PostgreSQL %s is not supported", m[1]), "one of "+keysT(PostgresMajors)+"; the app needs PostgreSQL 15 or newer")
		return
	}
	if n, _ := strconv.Atoi(m[1]); n < 15 {
		v.add("database.engineVersion", fmt.Sprintf("PostgreSQL %s is older than the app supports", m[1]), "the app needs PostgreSQL 15 or newer")
	}
}

// vpc checks the VPC CIDR and that the private subnet eksctl cuts for each
// zone (an eighth of the VPC) holds every pod the node group can run there:
// the VPC CNI gives each pod a VPC address.
func (v *validator) vpc(p *Profile) {
	pfx, err := netip.ParsePrefix(p.Cluster.VPCCIDR)
	if err != nil || !pfx.Addr().Is4() {
		v.add("cluster.vpcCIDR", fmt.Sprintf("%q is not an IPv4 CIDR", p.Cluster.VPCCIDR), "e.g. 10.0.0.0/16")
		return
	}
	if pfx.Masked() != pfx {
		v.add("cluster.vpcCIDR", fmt.Sprintf("%s has host bits set", pfx), "use "+pfx.Masked().String())
		return
	}
	private := false
	for _, r := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
		if netip.MustParsePrefix(r).Contains(pfx.Addr()) && pfx.Bits() >= netip.MustParsePrefix(r).Bits() {
			private = true
		}
	}
	if !private {
		v.add("cluster.vpcCIDR", fmt.Sprintf("%s is not a private (RFC 1918) range", pfx), "use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
	}
	if pfx.Bits() < 16 || pfx.Bits() > 24 {
		v.add("cluster.vpcCIDR", fmt.Sprintf("/%d is outside /16–/24", pfx.Bits()), "AWS VPCs are /16 to /28, and eksctl needs room for six subnets")
		return
	}
	maxPods, ok := NodeInstanceTypes[p.Cluster.NodeGroup.InstanceType]
	if !ok || len(p.AvailabilityZones) == 0 {
		return
	}
	subnetBits := pfx.Bits() + 3
	usable := (1 << (32 - subnetBits)) - 5 // AWS reserves five addresses per subnet
	nodesPerZone := (p.Cluster.NodeGroup.Max + len(p.AvailabilityZones) - 1) / len(p.AvailabilityZones)
	need := nodesPerZone*(maxPods+1) + 32 // + RDS, Redis, load balancer and endpoint interfaces
	if need > usable {
		v.add("cluster.vpcCIDR", fmt.Sprintf("each private subnet (/%d, %d addresses) cannot hold %d nodes of %s with %d pods each (%d addresses)",
			subnetBits, usable, nodesPerZone, p.Cluster.NodeGroup.InstanceType, maxPods, need),
			"use a larger VPC CIDR or fewer nodes")
	}
}

func (v *validator) bucket(path, name string) {
	ok := bucketRE.MatchString(name) && !strings.HasPrefix(name, "xn--") && !strings.HasSuffix(name, "-s3alias")
	v.check(ok, path, fmt.Sprintf("%q is not a valid S3 bucket name", name), "3–63 lower-case letters, digits and '-', starting and ending with a letter or digit; no dots")
}

func keys(m map[string]int) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func keysT(m map[string]time.Time) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Warnings are things that are allowed but cost money or will soon break:
// a Kubernetes version in extended support, or leaving standard support
// within 60 days.
func Warnings(p *Profile, now time.Time) []string {
	var w []string
	if k, ok := LookupKubeVersion(p.Cluster.KubernetesVersion); ok {
		switch k.SupportTier(now) {
		case "extended":
			w = append(w, fmt.Sprintf("Kubernetes %s is in EKS extended support since %s: the control plane costs $0.60/h instead of $0.10/h; upgrade to a newer version",
				k.Version, k.EndOfStandard.Format(time.DateOnly)))
		case "standard":
			if k.EndOfStandard.Sub(now) < 60*24*time.Hour {
				w = append(w, fmt.Sprintf("Kubernetes %s leaves EKS standard support on %s; plan an upgrade",
					k.Version, k.EndOfStandard.Format(time.DateOnly)))
			}
		}
	}
	return w
}
