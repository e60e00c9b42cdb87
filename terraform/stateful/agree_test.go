package stateful

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// agreeCase is one value fed through both validators: the Go validator (a
// problem at path under environments.<env>) and the root's validation of
// variable tfVar, with the profile mapped onto the root's variables by
// internal/tfdriver.Vars, as `bootstrap data` maps it.
type agreeCase struct {
	name  string
	env   string // "" is production
	path  string // the Go problem's path below environments.<env>; "" is the name
	tfVar string
	edit  func(p *config.Profile)
}

func agreeCases() []agreeCase {
	var cs []agreeCase
	add := func(name, path, tfVar string, edit func(p *config.Profile)) {
		cs = append(cs, agreeCase{name: name, path: path, tfVar: tfVar, edit: edit})
	}
	for _, env := range []string{"qa", "qa1", "a-", "production-eu", "prod", "abcdefghijklmnopqrst", "abcdefghijklmnopqrstu", "9ab", "ab-"} {
		cs = append(cs, agreeCase{name: "environment " + env, env: env, tfVar: "environment", edit: func(*config.Profile) {}})
	}
	for _, u := range []string{"sovd_admin", "Admin1", "postgres", "Postgres", "RDSADMIN", "rdsrepladmin", "user", "Select", "public", "pg_admin", "rds_admin", "rdsadminx", "1admin", "a_b"} {
		add("db_username "+u, "database.username", "db_username", func(p *config.Profile) { p.Database.Username = u })
	}
	for _, n := range []string{"sovd_x", "postgres", "template1", "rdsadmin", "x-y"} {
		add("db_name "+n, "database.name", "db_name", func(p *config.Profile) { p.Database.Name = n })
	}
	// The identifiers: AWS's shape (RDS CreateDBInstance's
	// DBInstanceIdentifier, 1-63; ElastiCache CreateReplicationGroup's
	// ReplicationGroupId, 1-40: a letter first, letters, digits and single
	// hyphens, no hyphen last), lower-case as both store them. Each length
	// at its limit and one past it.
	for _, id := range []string{"a", "db-1", "a" + strings.Repeat("b", 62), "a" + strings.Repeat("b", 63), "", "1db", "-db", "db-", "d--b", "Db", "d_b", "d.b"} {
		add("db_identifier "+truncName(id), "database.identifier", "db_identifier", func(p *config.Profile) { p.Database.Identifier = id })
	}
	for _, id := range []string{"a", "cache-1", "a" + strings.Repeat("b", 39), "a" + strings.Repeat("b", 40), "", "1rg", "rg-", "r--g", "Rg", "r_g"} {
		add("redis_replication_group_id "+truncName(id), "redis.replicationGroupId", "redis_replication_group_id", func(p *config.Profile) { p.Redis.ReplicationGroupID = id })
	}
	// The ports: RDS's 1150-65535 for PostgreSQL; Redis's above the
	// privileged ones.
	for _, port := range []int{1149, 1150, 5432, 65535, 65536, 0} {
		add(fmt.Sprintf("db_port %d", port), "database.port", "db_port", func(p *config.Profile) { p.Database.Port = port })
	}
	for _, port := range []int{1023, 1024, 6379, 65535, 65536, 0} {
		add(fmt.Sprintf("redis_port %d", port), "redis.port", "redis_port", func(p *config.Profile) { p.Redis.Port = port })
	}
	// PostgreSQL's identifiers are at most 63 characters (NAMEDATALEN - 1).
	add("db_name 63", "database.name", "db_name", func(p *config.Profile) { p.Database.Name = "d" + strings.Repeat("b", 62) })
	add("db_name 64", "database.name", "db_name", func(p *config.Profile) { p.Database.Name = "d" + strings.Repeat("b", 63) })
	add("db_username 63", "database.username", "db_username", func(p *config.Profile) { p.Database.Username = "u" + strings.Repeat("s", 62) })
	add("db_username 64", "database.username", "db_username", func(p *config.Profile) { p.Database.Username = "u" + strings.Repeat("s", 63) })
	for _, sz := range [][2]int{{100, 0}, {100, 65536}, {100, 65537}, {100, 109}, {100, 110}, {20, 0}, {19, 0}, {65536, 0}, {65537, 0}} {
		path, v := "database.maxAllocatedStorageGB", "db_max_allocated_storage"
		if sz[1] == 0 {
			path, v = "database.allocatedStorageGB", "db_allocated_storage"
		}
		add(fmt.Sprintf("storage %d/%d", sz[0], sz[1]), path, v, func(p *config.Profile) {
			p.Database.AllocatedStorageGB, p.Database.MaxAllocatedStorageGB = sz[0], sz[1]
		})
	}
	for _, d := range []int{0, 1, 35, 36} {
		add(fmt.Sprintf("backup days %d", d), "database.backupRetentionDays", "db_backup_retention_days", func(p *config.Profile) { p.Database.BackupRetentionDays = d })
	}
	for _, g := range []int{-1, 0, 1, 2} {
		add(fmt.Sprintf("secrets generation %d", g), "secrets.generation", "generated_secrets_version", func(p *config.Profile) { p.Secrets.Generation = g })
	}
	for _, d := range []int{0, 5, 7, 30, 31} {
		add(fmt.Sprintf("recovery window %d", d), "secrets.recoveryWindowDays", "secret_recovery_window_days", func(p *config.Profile) { p.Secrets.RecoveryWindowDays = d })
	}
	for _, z := range []string{"Z0123456789ABCDEFGHIJ", "Z" + strings.Repeat("A", 31), "Z" + strings.Repeat("A", 32), "z0123", "Z"} {
		add("zone id "+z, "app.hostedZoneID", "route53_zone_id", func(p *config.Profile) {
			p.App.Domain, p.App.HostedZoneID = "sovd.example.com", z
		})
	}
	long := strings.Repeat(strings.Repeat("a", 62)+".", 4) + "com" // 255
	for _, d := range []string{"sovd.example.com", "*.example.com", "Sovd.example.com", long, long[4:], "a.b"} {
		add("domain "+d[:min(len(d), 20)], "app.domain", "domain_name", func(p *config.Profile) {
			p.App.Domain, p.App.HostedZoneID = d, "Z0123456789ABCDEFGHIJ"
		})
	}
	for _, b := range []string{"sovd-backups-1", "sthree-x", "xn--abc", "amzn-s3-demo-x", "x-s3alias", "x--ol-s3", "x--x-s3", "x--table-s3", "a.b.c", "ab", "Ab1", "-ab",
		// 51 and 52 characters: the longest whose access-log bucket fits, and one more.
		"sovd-production-backups-123456789012-" + strings.Repeat("b", 14), "sovd-production-backups-123456789012-" + strings.Repeat("b", 15)} {
		add("bucket "+b, "storage.bucket", "bucket_name", func(p *config.Profile) { p.Storage.Bucket = b })
	}
	for _, n := range []int{0, 1, 6, 7} {
		add(fmt.Sprintf("redis nodes %d", n), "redis.numCacheClusters", "redis_num_cache_clusters", func(p *config.Profile) {
			p.Redis.NumCacheClusters = n
			p.Redis.AutomaticFailover, p.Redis.MultiAZ = false, false
		})
	}
	// Failover needs a replica; Multi-AZ needs failover (ElastiCache's
	// CreateReplicationGroup refuses either otherwise). Each rule is asked
	// with the other one met.
	for _, f := range []struct {
		nodes             int
		failover, multiAZ bool
	}{{1, true, false}, {2, true, false}, {2, true, true}, {2, false, false}} {
		add(fmt.Sprintf("redis failover nodes=%d failover=%t multiAZ=%t", f.nodes, f.failover, f.multiAZ), "redis.automaticFailover", "redis_automatic_failover", func(p *config.Profile) {
			p.Redis.NumCacheClusters, p.Redis.AutomaticFailover, p.Redis.MultiAZ = f.nodes, f.failover, f.multiAZ
		})
	}
	for _, f := range []struct {
		nodes             int
		failover, multiAZ bool
	}{{2, false, true}, {1, false, true}, {2, true, true}, {1, false, false}} {
		add(fmt.Sprintf("redis multi-az nodes=%d failover=%t multiAZ=%t", f.nodes, f.failover, f.multiAZ), "redis.multiAZ", "redis_multi_az", func(p *config.Profile) {
			p.Redis.NumCacheClusters, p.Redis.AutomaticFailover, p.Redis.MultiAZ = f.nodes, f.failover, f.multiAZ
		})
	}
	for _, r := range [][]string{{"sovd-backend"}, {"sovd/backend"}, {"Bad"}, {"a"}, {"ab"}, {"x", "x"}, {strings.Repeat("r", 256)}, {strings.Repeat("r", 257)}, {"a--b"}, {"a//b"}, {}} {
		add("ecr "+truncName(strings.Join(r, ",")), "registry.repositories", "ecr_repository_names", func(p *config.Profile) { p.Registry.Repositories = r })
	}
	for _, s := range []string{"sovd/x", "/x", "x/", "a b", "s/" + strings.Repeat("x", 398), "s/" + strings.Repeat("x", 399)} {
		add("secrets prefix "+truncName(s), "secrets.prefix", "secrets_prefix", func(p *config.Profile) { p.Secrets.Prefix = s })
	}
	many := map[string]string{}
	for i := 0; i < 48; i++ {
		many[fmt.Sprintf("t%02d", i)] = "v"
	}
	for name, tags := range map[string]map[string]string{
		"ok": {"team": "web", "cost-center": "42", "note": "a b:c/d=e+f-g@h.i_j"}, "aws prefix": {"AWS:x": "y"}, "reserved": {"Environment": "x"},
		"charset": {"owner": "ops <ops@example.com>"}, "empty key": {"": "x"}, "long key": {strings.Repeat("k", 129): "v"},
		"long value": {"k": strings.Repeat("v", 257)}, "48 tags": many, "unicode": {"équipe": "données"},
	} {
		add("tags "+name, "tags", "tags", func(p *config.Profile) { p.Tags = tags })
	}
	// The catalogs: every value Go accepts, the root accepts. (Go's catalogs
	// are narrower than the root's patterns by design: bootstrap prices what it
	// builds, and a minor outside the catalog is refused before a run; the
	// root, run by hand, checks the form only.)
	// A Graviton class is asked on a Graviton profile (config.WithArchitecture),
	// so the case asks the class's rule, not the rule that a profile's types
	// share one architecture (which the root does not know).
	onArchOf := func(p *config.Profile, typ string) {
		if a := config.InstanceArch(typ); a != "" && a != p.Architecture {
			*p = *config.WithArchitecture(p, a)
		}
	}
	for _, c := range config.DBInstanceClasses {
		add("class "+c, "database.instanceClass", "db_instance_class", func(p *config.Profile) { onArchOf(p, c); p.Database.InstanceClass = c })
	}
	for _, c := range config.CacheNodeTypes {
		add("node type "+c, "redis.nodeType", "redis_node_type", func(p *config.Profile) { onArchOf(p, c); p.Redis.NodeType = c })
	}
	for _, v := range config.RedisVersions {
		add("redis "+v, "redis.engineVersion", "redis_engine_version", func(p *config.Profile) { p.Redis.EngineVersion = v })
	}
	versions := []string{"14", "15.x", "15.", "x"}
	for major, minors := range config.PostgresMinors {
		versions = append(versions, major)
		versions = append(versions, minors...)
	}
	for _, v := range versions {
		add("postgres "+v, "database.engineVersion", "db_engine_version", func(p *config.Profile) { p.Database.EngineVersion = v })
	}
	for _, r := range config.Regions {
		add("region "+r, "region", "region", func(p *config.Profile) {
			p.Region = r
			z := config.ZonesByRegion[r]
			p.AvailabilityZones = []string{r + z[0:1], r + z[1:2], r + z[2:3]}
		})
	}
	return cs
}

// TestRulesAgreeWithTerraformRoot feeds each case's profile through the Go
// validator and, as the variables `bootstrap data` passes, through the
// root's own variable validations, and requires the same verdict. The root's
// variables.tf runs alone (no resources, no provider) under `terraform test`,
// one test file per case so that one failure does not skip the rest:
// `terraform validate` does not evaluate variable validations, and a plan of
// the whole root would need AWS.
func TestRulesAgreeWithTerraformRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("runs terraform test over every case (about 15 s)")
	}
	t.Parallel()
	tf, env := testenv.TerraformCLI(t)
	dir := t.TempDir()
	src, err := os.ReadFile("variables.tf")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "variables.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	cases := agreeCases()
	goRejects := map[string]bool{}
	files := map[string]agreeCase{}
	rejected := 0
	for i, c := range cases {
		name := c.env
		if name == "" {
			name = "production"
		}
		p := config.Builtin(name)
		c.edit(p)
		want := "environments." + name
		if c.path != "" {
			want += "." + c.path
		}
		var msgs []string
		for _, pr := range config.ValidateProfile(p, now) {
			if pr.Path == want || strings.HasPrefix(pr.Path, want+".") || strings.HasPrefix(pr.Path, want+"[") {
				msgs = append(msgs, pr.String())
			}
		}
		rejects := len(msgs) > 0
		file := fmt.Sprintf("case_%03d", i)
		goRejects[file] = rejects
		files[file] = c
		if rejects {
			rejected++
		}
		in := tfdriver.Inputs{AccountID: "123456789012", VPCID: "vpc-0123456789abcdef0",
			PrivateSubnetIDs: []string{"subnet-0123456789abcdef0", "subnet-0123456789abcdef1"}, ClusterSecurityGroupID: "sg-0123456789abcdef0"}
		if p.App.HostedZoneID == "" {
			// The zone found by name, as ResolveHostedZone supplies it to a
			// real run (production's built-in profile names a domain, no
			// id); Vars sends it only with a domain.
			in.HostedZoneID = "Z0123456789ABCDEFGHIJ"
		}
		vars := tfdriver.Vars(p, in, nil)
		if c.tfVar == "environment" {
			// Several of the root's variables are derived from the
			// environment's name (identifiers, repositories), so a bad name
			// fails them too: take those from a valid profile, so the case
			// asks var.environment's rule alone.
			name := vars["environment"]
			vars = tfdriver.Vars(config.Builtin("production"), in, nil)
			vars["environment"] = name
		}
		if err := os.WriteFile(filepath.Join(dir, "tests", file+".tftest.hcl"), []byte(runBlock(t, vars, c.tfVar, rejects)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if rejected == 0 || rejected == len(cases) {
		t.Fatalf("%d of %d cases rejected by Go: the cases test nothing", rejected, len(cases))
	}

	run := func(args ...string) string {
		cmd := exec.Command(tf, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := run("init", "-backend=false", "-no-color"); !strings.Contains(out, "initialized") {
		t.Fatalf("terraform init:\n%s", out)
	}
	out := run("test", "-no-color")
	verdict := regexp.MustCompile(`(?m)^tests/(case_\d+)\.tftest\.hcl\.\.\. (pass|fail)$`)
	seen := map[string]bool{}
	for _, m := range verdict.FindAllStringSubmatch(out, -1) {
		seen[m[1]] = true
		if m[2] == "fail" {
			c := files[m[1]]
			t.Errorf("%s: Go %s it, the root's var.%s does not (%s)", c.name, verdictWord(goRejects[m[1]]), c.tfVar, m[1])
		}
	}
	if len(seen) != len(cases) {
		t.Fatalf("terraform test reported %d of %d cases:\n%s", len(seen), len(cases), out)
	}
	if t.Failed() {
		t.Logf("terraform test output:\n%s", out)
	}
	t.Logf("%d cases through both validators, %d refused by Go", len(cases), rejected)
}

// truncName is a case's value as its name shows it: a long value by its
// first characters and its length.
func truncName(s string) string {
	if len(s) <= 20 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d)", s[:10], len(s))
}

func verdictWord(rejects bool) string {
	if rejects {
		return "rejects"
	}
	return "accepts"
}

// runBlock is a test file of one plan run with every variable set, expecting
// the failure of tfVar's validation when Go rejects the value.
func runBlock(t *testing.T, vars map[string]any, tfVar string, rejects bool) string {
	t.Helper()
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("run \"check\" {\n  command = plan\n  variables {\n")
	for _, k := range names {
		v, err := json.Marshal(vars[k])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "    %s = %s\n", k, v)
	}
	b.WriteString("  }\n")
	if rejects {
		fmt.Fprintf(&b, "  expect_failures = [var.%s]\n", tfVar)
	}
	b.WriteString("}\n")
	return b.String()
}
