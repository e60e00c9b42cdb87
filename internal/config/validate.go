package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	api "github.com/weaveworks/eksctl/pkg/apis/eksctl.io/v1alpha5"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"
)

// Problem is one thing wrong with a configuration, at a path such as
// environments.production.database.instanceClass, with a hint at the fix and,
// when the file has the path, its line.
type Problem struct {
	Path    string
	Message string
	Hint    string
	Line    int

	// replaced says the value at Path was dropped for its default, so the
	// default's own checks are not reported again.
	replaced bool
}

func (p Problem) String() string {
	s := p.Message
	if p.Path != "" {
		s = p.Path + ": " + s
	}
	var notes []string
	if p.Line > 0 {
		notes = append(notes, fmt.Sprintf("line %d", p.Line))
	}
	if p.Hint != "" {
		notes = append(notes, p.Hint)
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, "; ") + ")"
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

// maxEcho is how much of a value a message repeats.
const maxEcho = 80

// truncate shortens a value for a message: the first maxEcho characters and
// "…", so a huge value is not echoed whole.
func truncate(s string) string {
	if utf8.RuneCountInString(s) <= maxEcho {
		return s
	}
	r := []rune(s)
	return string(r[:maxEcho]) + "…"
}

// quote is %q of a value, truncated.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxEcho {
		return strconv.Quote(s)
	}
	return strconv.Quote(string([]rune(s)[:maxEcho])) + "…"
}

// Validate checks every environment of a file and returns Problems, or nil.
// A value the file gave in the wrong shape is reported once: the checks of
// the default put in its place are not repeated at or below its path.
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
		for _, pr := range ValidateProfile(p, now) {
			if !replaced(f.decodeProblems, pr.Path) {
				probs = append(probs, pr)
			}
		}
		key := p.Region + "/" + p.Cluster.Name
		if other, ok := clusters[key]; ok {
			probs = append(probs, Problem{Path: envPath(n, "cluster.name"),
				Message: fmt.Sprintf("%s is also the cluster of environment %q in %s", quote(p.Cluster.Name), other, p.Region),
				Hint:    "give each environment its own cluster name"})
		}
		clusters[key] = n
	}
	probs = append(probs, SharedNames(f)...)
	if len(probs) == 0 {
		return nil
	}
	return withLines(probs, f.lines)
}

// Resolve loads the configuration at path (see Load), picks one environment
// and validates the whole file: a run never starts on a file with problems.
// The problems are reported with the file's name.
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
		probs = append(probs, Problem{Path: "--env", Message: "no environment " + quote(env), Hint: "known: " + strings.Join(known, ", ")})
	}
	if len(probs) > 0 {
		if f.path != "" {
			return nil, fmt.Errorf("%s: %w", f.path, probs)
		}
		return nil, probs
	}
	return p, nil
}

var (
	// envNameRE is terraform/stateful's var.environment rule (3–20
	// characters); TestRulesAgreeWithTerraformRoot keeps the two equal.
	envNameRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{1,18}[a-z0-9]$`)
	accountIDRE = regexp.MustCompile(`^\d{12}$`)
	dnsLabelRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	// rdsIDRE and redisIDRE, with no "--" and no "-" last, are
	// terraform/stateful's var.db_identifier and var.redis_replication_group_id
	// rules: AWS's DBInstanceIdentifier (RDS API Reference, CreateDBInstance:
	// 1–63) and ReplicationGroupId (ElastiCache API Reference,
	// CreateReplicationGroup: 1–40), lower-case as both store them.
	// TestRulesAgreeWithTerraformRoot keeps the two sides equal.
	rdsIDRE      = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	redisIDRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
	pgIdentRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,62}$`)
	pgVersionRE  = regexp.MustCompile(`^(\d+)(?:\.(\d+))?$`)
	ecrRepoRE    = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	secretPathRE = regexp.MustCompile(`^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$`)
	iamRoleRE    = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	bucketRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	// A KMS key ARN names a key by its id (a UUID, or mrk- and 32 hex digits
	// for a multi-Region key) or an alias; nothing may follow. AWS KMS
	// Developer Guide, "Key identifiers (KeyId)".
	kmsARNRE = regexp.MustCompile(`^arn:aws:kms:([a-z0-9-]+):\d{12}:(key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|alias/[A-Za-z0-9/_-]{1,250})$`)
	// hostedZoneRE is terraform/stateful's var.route53_zone_id rule (at most
	// 32 characters).
	hostedZoneRE = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	domainRE     = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	// tagRE is the character set of AWS tag keys and values: Unicode letters,
	// digits, white space and _ . : / = + - @ ("Tagging AWS resources",
	// tag naming limits and requirements).
	tagRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// sections are the checks of one profile, one function per section of the
// file. A new field's rule goes into its section's function; a new section
// adds a line here.
var sections = []func(v *validator, p *Profile, now time.Time){
	checkName,
	checkPlacement,
	checkCluster,
	checkNodeGroup,
	checkDatabase,
	checkRedis,
	checkNames,
	checkSecrets,
	checkApp,
	checkBudget,
	checkTags,
	checkArchitecture,
	checkUsage,
}

// ValidateProfile checks one environment. Paths start at environments.<name>.
func ValidateProfile(p *Profile, now time.Time) Problems {
	v := &validator{env: p.Name}
	for _, check := range sections {
		check(v, p, now)
	}
	return v.probs
}

func checkName(v *validator, p *Profile, _ time.Time) {
	v.check(envNameRE.MatchString(p.Name), "", fmt.Sprintf("environment name %s is not allowed", quote(p.Name)),
		"3–20 characters: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit")
	v.check(p.AccountID == "" || accountIDRE.MatchString(p.AccountID), "accountID", fmt.Sprintf("%s is not an AWS account ID", quote(p.AccountID)),
		"12 digits, as `aws sts get-caller-identity --query Account --output text` prints it; quote it in YAML")
	for _, r := range AddonRoles() {
		if role := p.Role(r); len(role) > 64 {
			v.add("", fmt.Sprintf("IAM role name %s is longer than 64 characters", quote(role)), "use a shorter environment name")
		}
	}
}

// checkPlacement checks the region and its zones. A zone is checked against
// the region only when the region is known, so a region typo is one problem.
func checkPlacement(v *validator, p *Profile, _ time.Time) {
	zones, known := ZonesByRegion[p.Region]
	v.check(known, "region", fmt.Sprintf("%s is not a supported region", quote(p.Region)), "one of "+strings.Join(Regions, ", "))
	if len(p.AvailabilityZones) != 3 {
		v.add("availabilityZones", fmt.Sprintf("lists %d zones, must list exactly 3", len(p.AvailabilityZones)),
			"eksctl otherwise makes 2 public + 2 private subnets; list three zones such as "+p.Region+"a, "+p.Region+"b, "+p.Region+"c")
	}
	seen := map[string]bool{}
	for i, az := range p.AvailabilityZones {
		path := fmt.Sprintf("availabilityZones[%d]", i)
		letter, inRegion := strings.CutPrefix(az, p.Region)
		switch {
		case seen[az]:
			v.add(path, fmt.Sprintf("%s is listed twice", quote(az)), "list three different zones")
		case !known:
		case !inRegion || len(letter) != 1 || !strings.Contains(zones, letter):
			v.add(path, fmt.Sprintf("%s is not a zone of region %s", quote(az), p.Region), "the zones of "+p.Region+" are "+zoneList(p.Region, zones))
		}
		seen[az] = true
	}
}

func zoneList(region, letters string) string {
	out := make([]string, len(letters))
	for i, l := range letters {
		out[i] = region + string(l)
	}
	return strings.Join(out, ", ")
}

func checkCluster(v *validator, p *Profile, now time.Time) {
	c := p.Cluster
	v.validateEndpointAccess(p) // validate_hardening.go
	v.check(validClusterName(c.Name), "cluster.name", fmt.Sprintf("%s is not a valid EKS cluster name", quote(c.Name)),
		"1–100 characters: letters, digits and '-', starting with a letter or digit (eksctl refuses '_')")
	v.kubeVersion(c.KubernetesVersion, now)
	checkSupportType(c, now, v.add)
	v.vpc(p)
	v.check(slices.Contains([]string{"HighlyAvailable", "Single"}, c.NAT), "cluster.nat",
		fmt.Sprintf("%s is not a NAT mode for private node groups", quote(c.NAT)),
		"HighlyAvailable (one NAT gateway per zone) or Single; nodes in private subnets need NAT")
	seenLog := map[string]bool{}
	for i, l := range c.Logging {
		path := fmt.Sprintf("cluster.logging[%d]", i)
		v.check(slices.Contains(ControlPlaneLogTypes, l), path, fmt.Sprintf("%s is not a control-plane log type", quote(l)), "one of "+strings.Join(ControlPlaneLogTypes, ", "))
		v.check(!seenLog[l], path, fmt.Sprintf("%s is listed twice", quote(l)), "")
		seenLog[l] = true
	}
	if c.KMSKeyARN != "" {
		m := kmsARNRE.FindStringSubmatch(c.KMSKeyARN)
		switch {
		case m == nil:
			v.add("cluster.kmsKeyARN", fmt.Sprintf("%s is not a KMS key ARN", quote(c.KMSKeyARN)),
				"arn:aws:kms:<region>:<account>:key/<key id> (a UUID, or mrk-<32 hex digits>), or arn:aws:kms:<region>:<account>:alias/<name>, with nothing after")
		case m[1] != p.Region:
			v.add("cluster.kmsKeyARN", fmt.Sprintf("key is in %s, the cluster in %s", m[1], p.Region), "use a key in the cluster's region")
		}
	}
}

// validClusterName is eksctl's own rule for a cluster name (create cluster
// refuses a name for which api.IsInvalidNameArg holds: pkg/ctl/create/cluster.go
// at v0.230.0) and EKS's: 1–100 characters starting with a letter or digit.
func validClusterName(name string) bool {
	if name == "" || len(name) > 100 || api.IsInvalidNameArg(name) {
		return false
	}
	c := name[0]
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func checkNodeGroup(v *validator, p *Profile, _ time.Time) {
	ng := p.Cluster.NodeGroup
	v.check(dnsLabelRE.MatchString(ng.Name) && !api.IsInvalidNameArg(ng.Name), "cluster.nodeGroup.name", fmt.Sprintf("%s is not a valid node group name", quote(ng.Name)),
		"lower-case letters, digits and '-'")
	if _, ok := NodeInstanceTypes[ng.InstanceType]; !ok {
		v.add("cluster.nodeGroup.instanceType", fmt.Sprintf("%s is not a known node instance type", quote(ng.InstanceType)), "one of "+keys(NodeInstanceTypes))
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
}

func checkDatabase(v *validator, p *Profile, _ time.Time) {
	d := p.Database
	v.check(rdsIDRE.MatchString(d.Identifier) && !strings.HasSuffix(d.Identifier, "-") && !strings.Contains(d.Identifier, "--"),
		"database.identifier", fmt.Sprintf("%s is not a valid RDS identifier", quote(d.Identifier)),
		"1–63 lower-case letters, digits and '-', starting with a letter, no '--', not ending with '-'")
	v.postgresVersion(d.EngineVersion)
	v.check(slices.Contains(DBInstanceClasses, d.InstanceClass), "database.instanceClass",
		fmt.Sprintf("%s is not a known RDS instance class", quote(d.InstanceClass)), "one of "+strings.Join(DBInstanceClasses, ", "))
	if d.AllocatedStorageGB < 20 || d.AllocatedStorageGB > MaxStorageGB {
		v.add("database.allocatedStorageGB", fmt.Sprintf("is %d", d.AllocatedStorageGB), "gp3 storage is 20 to 65536 GB")
	}
	switch {
	case d.MaxAllocatedStorageGB == 0:
	case d.MaxAllocatedStorageGB > MaxStorageGB:
		v.add("database.maxAllocatedStorageGB", fmt.Sprintf("is %d", d.MaxAllocatedStorageGB), "at most 65536 GB, RDS's gp3 limit; 0 turns storage autoscaling off")
	case d.MaxAllocatedStorageGB*10 < d.AllocatedStorageGB*11: // 10% above, in whole numbers as the root's validation counts
		v.add("database.maxAllocatedStorageGB", fmt.Sprintf("%d is not at least 10%% above allocatedStorageGB %d", d.MaxAllocatedStorageGB, d.AllocatedStorageGB),
			"raise it, or set 0 to turn storage autoscaling off")
	}
	if d.BackupRetentionDays < 1 || d.BackupRetentionDays > 35 {
		v.add("database.backupRetentionDays", fmt.Sprintf("is %d", d.BackupRetentionDays), "1 to 35 days; 0 would turn automated backups off")
	}
	v.check(pgIdentRE.MatchString(d.Name) && !slices.Contains([]string{"postgres", "template0", "template1", "rdsadmin"}, d.Name),
		"database.name", fmt.Sprintf("%s is not a usable database name", quote(d.Name)), "letters, digits and '_', starting with a letter, not a reserved name")
	v.check(pgIdentRE.MatchString(d.Username) && !ReservedDBUsername(d.Username),
		"database.username", fmt.Sprintf("%s is not a usable master user name", quote(d.Username)),
		"1–63 letters, digits and '_', starting with a letter; not postgres, rdsadmin or another name RDS or PostgreSQL reserves (any case), e.g. sovd_admin")
	// The logins are <appRole>_1 and <appRole>_2: two characters within
	// PostgreSQL's 63.
	v.check(pgIdentRE.MatchString(d.AppRole) && len(d.AppRole) <= 61 && !ReservedDBUsername(d.AppRole) && !strings.EqualFold(d.AppRole, d.Username),
		"database.appRole", fmt.Sprintf("%s is not a usable name for the app's role", quote(d.AppRole)),
		"1–61 letters, digits and '_', starting with a letter; not a reserved name and not database.username (the master user), e.g. sovd_app")
	if d.PasswordRotationDays < 0 || d.PasswordRotationDays > 365 {
		v.add("database.passwordRotationDays", fmt.Sprintf("is %d", d.PasswordRotationDays), "0 (rotate only by hand) to 365 days; 30 is the default")
	}
	v.check(d.Port >= 1150 && d.Port <= 65535, "database.port", fmt.Sprintf("is %d", d.Port), "RDS ports are 1150 to 65535; PostgreSQL's is 5432")
}

func checkRedis(v *validator, p *Profile, _ time.Time) {
	r := p.Redis
	v.check(redisIDRE.MatchString(r.ReplicationGroupID) && !strings.HasSuffix(r.ReplicationGroupID, "-") && !strings.Contains(r.ReplicationGroupID, "--"),
		"redis.replicationGroupId", fmt.Sprintf("%s is not a valid replication group id", quote(r.ReplicationGroupID)),
		"1–40 lower-case letters, digits and '-', starting with a letter, no '--', not ending with '-'")
	v.check(slices.Contains(RedisVersions, r.EngineVersion), "redis.engineVersion",
		fmt.Sprintf("%s is not a supported Redis version", quote(r.EngineVersion)), "one of "+strings.Join(RedisVersions, ", "))
	v.check(slices.Contains(CacheNodeTypes, r.NodeType), "redis.nodeType",
		fmt.Sprintf("%s is not a known ElastiCache node type", quote(r.NodeType)), "one of "+strings.Join(CacheNodeTypes, ", "))
	if r.NumCacheClusters < 1 || r.NumCacheClusters > 6 {
		v.add("redis.numCacheClusters", fmt.Sprintf("is %d", r.NumCacheClusters), "1 (primary only) to 6 (primary and 5 replicas)")
	}
	if r.AutomaticFailover && r.NumCacheClusters < 2 {
		v.add("redis.automaticFailover", "needs at least one replica", "set numCacheClusters to 2 or more, or turn failover off")
	}
	if r.MultiAZ && !r.AutomaticFailover {
		v.add("redis.multiAZ", "needs automaticFailover", "turn automaticFailover on")
	}
	v.check(r.Port >= 1024 && r.Port <= 65535, "redis.port", fmt.Sprintf("is %d", r.Port), "1024 to 65535; Redis's port is 6379")
}

// checkNames checks the buckets and repositories.
func checkNames(v *validator, p *Profile, _ time.Time) {
	if p.Storage.Bucket != "" {
		v.bucket("storage.bucket", p.Storage.Bucket)
		v.check(len(p.Storage.Bucket) <= MaxStorageBucketLen || !bucketRE.MatchString(p.Storage.Bucket), "storage.bucket",
			fmt.Sprintf("%s is %d characters: its access-log bucket %s would pass S3's 63", quote(p.Storage.Bucket), len(p.Storage.Bucket), p.Storage.Bucket+AccessLogSuffix),
			fmt.Sprintf("at most %d characters, or leave it unset for <prefix>-backups-<account id>", MaxStorageBucketLen))
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
			fmt.Sprintf("%s is not a valid ECR repository name", quote(repo)), "lower-case letters, digits, '.', '_', '-' and '/' between parts")
		v.check(!seenRepo[repo], path, fmt.Sprintf("%s is listed twice", quote(repo)), "")
		seenRepo[repo] = true
	}
}

func checkSecrets(v *validator, p *Profile, _ time.Time) {
	s := p.Secrets
	v.check(secretPathRE.MatchString(s.Prefix) && len(s.Prefix) <= 400, "secrets.prefix",
		fmt.Sprintf("%s is not a valid Secrets Manager path", quote(s.Prefix)), "parts of letters, digits and _+=.@- joined by '/', no leading or trailing '/', at most 400 characters")
	if s.Generation < 1 {
		// terraform/stateful/variables.tf generated_secrets_version: a
		// whole number of at least 1 (the JSON int is whole already).
		v.add("secrets.generation", fmt.Sprintf("is %d", s.Generation), "1 or more; raise it by one to rotate the generated JWT and Redis secrets")
	}
	if s.RecoveryWindowDays != 0 && (s.RecoveryWindowDays < 7 || s.RecoveryWindowDays > 30) {
		v.add("secrets.recoveryWindowDays", fmt.Sprintf("is %d", s.RecoveryWindowDays), "0 (delete at once) or 7 to 30 days")
	}
}

// checkApp checks what the app's chart gets: Kubernetes names by
// Kubernetes's own rules (a namespace is a DNS label, a service account a
// DNS subdomain: k8s.io/apimachinery's validation), the IRSA role, the domain.
func checkApp(v *validator, p *Profile, _ time.Time) {
	a := p.App
	if errs := k8svalidation.IsDNS1123Label(a.Namespace); len(errs) > 0 {
		v.add("app.namespace", fmt.Sprintf("%s is not a valid namespace", quote(a.Namespace)), "a DNS label: "+errs[0])
	}
	if errs := k8svalidation.IsDNS1123Subdomain(a.ServiceAccount); len(errs) > 0 {
		v.add("app.serviceAccount", fmt.Sprintf("%s is not a valid service account name", quote(a.ServiceAccount)), "a DNS subdomain: "+errs[0])
	}
	v.check(iamRoleRE.MatchString(a.RoleName), "app.roleName", fmt.Sprintf("%s is not a valid IAM role name", quote(a.RoleName)), "1–64 letters, digits and +=,.@_-")
	if a.Domain != "" {
		v.check(domainRE.MatchString(a.Domain) && len(a.Domain) <= 253, "app.domain", fmt.Sprintf("%s is not a domain name", quote(a.Domain)),
			"lower-case labels of 1–63 characters joined by dots, at most 253 characters, e.g. sovd.example.com")
	}
	if a.HostedZoneID != "" {
		v.check(hostedZoneRE.MatchString(a.HostedZoneID), "app.hostedZoneID", fmt.Sprintf("%s is not a Route53 hosted zone id", quote(a.HostedZoneID)),
			"Z followed by 1–31 upper-case letters and digits, without /hostedzone/")
	}
	if a.Domain == "" && a.HostedZoneID != "" {
		v.add("app.hostedZoneID", "a hosted zone without app.domain", "set app.domain (the app's host name, in that zone), or remove hostedZoneID")
	}
}

func checkBudget(v *validator, p *Profile, _ time.Time) {
	b := p.Budget
	if b.MonthlyMax <= 0 || b.MonthlyMin < 0 || b.MonthlyMin > b.MonthlyMax {
		v.add("budget", fmt.Sprintf("monthlyMin %.0f and monthlyMax %.0f are not a band", b.MonthlyMin, b.MonthlyMax), "0 <= monthlyMin <= monthlyMax, monthlyMax above 0")
	}
}

// checkTags checks the extra tags by AWS's rules (keys 1–128 and values
// 0–256 characters of tagRE's set, no aws: prefix, at most 50 tags on a
// resource) with bootstrap's own three counted.
func checkTags(v *validator, p *Profile, _ time.Time) {
	if n := len(p.AllTags()); n > MaxTags {
		v.add("tags", fmt.Sprintf("gives %d tags with bootstrap's own %d, more than AWS's %d per resource", n, len(p.AllTags())-len(p.Tags), MaxTags),
			fmt.Sprintf("keep at most %d extra tags", MaxTags-(len(p.AllTags())-len(p.Tags))))
	}
	for _, k := range sortedKeys(anyMap(p.Tags)) {
		path := "tags." + truncate(k)
		val := p.Tags[k]
		switch {
		case k == "":
			v.add("tags", "has an empty key", "tag keys are 1–128 characters")
		case reservedTagRE.MatchString(k):
			v.add(path, "the aws: prefix is reserved by AWS", "choose another key")
		case k == "Environment" || k == "Application" || k == "ManagedBy":
			v.add(path, "is set by bootstrap on every resource", "remove it; bootstrap uses these tags to find what it owns")
		case utf8.RuneCountInString(k) > 128 || utf8.RuneCountInString(val) > 256:
			v.add(path, "is too long", "keys up to 128 characters, values up to 256")
		case !tagRE.MatchString(k) || !tagRE.MatchString(val):
			v.add(path, fmt.Sprintf("key or value %s has a character AWS does not allow in tags", quote(k+"="+val)), "letters, digits, spaces and _ . : / = + - @")
		}
	}
}

var reservedTagRE = regexp.MustCompile(`^(?i)aws:`)

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
	v.probs = append(v.probs, Problem{Path: envPath(v.env, path), Message: msg, Hint: hint})
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
		v.add("cluster.kubernetesVersion", fmt.Sprintf("%s is not a version eksctl can create", quote(ver)), "one of "+strings.Join(known, ", "))
		return
	}
	if k.SupportTier(now) == "unsupported" {
		v.add("cluster.kubernetesVersion", fmt.Sprintf("%s left EKS extended support on %s", ver, k.EndOfExtended.Format(time.DateOnly)), "choose a newer version")
	}
}

func (v *validator) postgresVersion(ver string) {
	m := pgVersionRE.FindStringSubmatch(ver)
	if m == nil {
		v.add("database.engineVersion", fmt.Sprintf("%s is not a PostgreSQL version", quote(ver)), "a major such as \"15\" or major.minor such as \"15.10\"")
		return
	}
	if _, ok := PostgresMajors[m[1]]; !ok {
		v.add("database.engineVersion", fmt.Sprintf("PostgreSQL %s is not supported", m[1]), "one of "+keysT(PostgresMajors)+"; the app needs PostgreSQL 15 or newer")
		return
	}
	if n, _ := strconv.Atoi(m[1]); n < 15 {
		v.add("database.engineVersion", fmt.Sprintf("PostgreSQL %s is older than the app supports", m[1]), "the app needs PostgreSQL 15 or newer")
		return
	}
	if m[2] != "" && !slices.Contains(PostgresMinors[m[1]], ver) {
		v.add("database.engineVersion", fmt.Sprintf("RDS offers no PostgreSQL %s", ver),
			"give the major alone (\""+m[1]+"\": RDS picks its default minor) or one of "+strings.Join(PostgresMinors[m[1]], ", "))
	}
}

// vpc checks the VPC CIDR and that the private subnet eksctl cuts for each
// zone (an eighth of the VPC) holds every pod the node group can run there:
// the VPC CNI gives each pod a VPC address.
func (v *validator) vpc(p *Profile) {
	pfx, err := netip.ParsePrefix(p.Cluster.VPCCIDR)
	if err != nil || !pfx.Addr().Is4() {
		v.add("cluster.vpcCIDR", fmt.Sprintf("%s is not an IPv4 CIDR", quote(p.Cluster.VPCCIDR)), "e.g. 10.0.0.0/16")
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

// bucket checks an S3 bucket name by AWS's general purpose bucket naming
// rules (Amazon S3 User Guide, "General purpose bucket naming rules"), without
// dots, which TLS to virtual-hosted bucket names cannot cover.
func (v *validator) bucket(path, name string) {
	if !bucketRE.MatchString(name) {
		v.add(path, fmt.Sprintf("%s is not a valid S3 bucket name", quote(name)), "3–63 lower-case letters, digits and '-', starting and ending with a letter or digit; no dots")
		return
	}
	for _, pre := range BucketReservedPrefixes {
		if strings.HasPrefix(name, pre) {
			v.add(path, fmt.Sprintf("%s starts with %s, which S3 reserves", quote(name), pre), "choose another name")
		}
	}
	for _, suf := range BucketReservedSuffixes {
		if strings.HasSuffix(name, suf) {
			v.add(path, fmt.Sprintf("%s ends with %s, which S3 reserves", quote(name), suf), "choose another name")
		}
	}
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

// singlePoints lists what a zone's failure takes down.
func singlePoints(p *Profile) []string {
	var out []string
	if p.Cluster.NAT != "HighlyAvailable" {
		out = append(out, "a single NAT gateway")
	}
	if !p.Database.MultiAZ {
		out = append(out, "a single-AZ database")
	}
	if !p.Redis.AutomaticFailover {
		out = append(out, "Redis without failover")
	}
	return out
}

// Warnings are things that are allowed but cost money or risk an outage: a
// protected environment with a single point of failure. Support windows
// (a version leaving standard support) are internal/cost's
// SupportWarnings, which know what the window costs.
func Warnings(p *Profile, _ time.Time) []string {
	var w []string
	if spof := singlePoints(p); p.Protected() && len(spof) > 0 {
		w = append(w, fmt.Sprintf("environment %s protects its data but runs %s: one zone's failure stops it (production's built-in profile shows the highly available shape)",
			p.Name, strings.Join(spof, ", ")))
	}
	return w
}
