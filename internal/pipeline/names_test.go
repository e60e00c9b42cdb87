package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sovd/bootstrap/internal/testenv"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// TestCustomIdentifiersReachThePlan: database.identifier, database.port,
// redis.replicationGroupId and redis.port, validated and used by External
// Secrets' policy and status, are what the real terraform plans for the
// instance, the replication group and the security group rules, and what
// the Redis AUTH step targets; the outputs the app's values are made of
// carry the ports.
func TestCustomIdentifiersReachThePlan(t *testing.T) {
	if testenv.OwnProcess(t) {
		return // it ran, in a test process of its own, beside the other process tests
	}
	testenv.Moto(t).Use(t)
	testenv.UseTerraform(t)
	ctx := context.Background()
	st, log := processState(t, "staging", "eksctl-not-used")
	st.Progress = NewProgress(log, false, false)
	st.Now = time.Now
	p := st.Profile
	p.Database.Identifier, p.Database.Port = "stg-orders-pg", 5433
	p.Redis.ReplicationGroupID, p.Redis.Port = "stg-orders-cache", 6380
	st.AccountID = testenv.MotoAccountID
	st.Network = &Network{VPCID: "vpc-0123456789abcdef0", PrivateSubnetIDs: []string{"subnet-0123456789abcdef0", "subnet-0123456789abcdef1"},
		ClusterSecurityGroupID: "sg-0123456789abcdef0"}
	if err := Run(ctx, st, "bootstrap data", []Step{EnsureStateBucket{}}); err != nil {
		t.Fatal(err)
	}
	d, err := openStateful(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := tfdriver.WriteVarFile(st.Path(StatefulVars), tfdriver.Vars(p, dataInputs(st), nil)); err != nil {
		t.Fatal(err)
	}
	if err := d.Init(ctx, backend(st)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Plan(ctx, st.Path(StatefulVars), st.Path(StatefulPlan), false); err != nil {
		t.Fatalf("%v\n%s", err, lastLines(log.String(), 30))
	}
	exe, err := tfdriver.Find(ctx, st.Path("tools"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "-chdir="+d.Dir(), "show", "-json", st.Path(StatefulPlan)).Output()
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				After map[string]any `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
		OutputChanges map[string]struct {
			After any `json:"after"`
		} `json:"output_changes"`
	}
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatal(err)
	}
	after := map[string]map[string]any{}
	for _, rc := range plan.ResourceChanges {
		after[rc.Address] = rc.Change.After
	}
	names := tfdriver.NamesOf(p)
	for _, e := range tfdriver.DBLogExports {
		if got := after[fmt.Sprintf("aws_cloudwatch_log_group.db[%q]", e)]["name"]; got != names.DBLogGroups[e] {
			t.Errorf("plan: log group %s is named %v, want %s", e, got, names.DBLogGroups[e])
		}
	}
	if tags, _ := after["aws_kms_key.data"]["tags"].(map[string]any); tags["Name"] != names.KMSKeyName {
		t.Errorf("plan: the data key's Name tag is %v, want %s", tags["Name"], names.KMSKeyName)
	}
	for addr := range after {
		key, ok := strings.CutPrefix(addr, "aws_cloudwatch_log_group.db[")
		if ok && !slices.Contains(tfdriver.DBLogExports, strings.Trim(key, `"]`)) {
			t.Errorf("plan makes log group %s, which tfdriver.DBLogExports does not list", addr)
		}
	}
	for _, c := range []struct {
		address, attr string
		want          any
	}{
		{"aws_db_instance.this", "identifier", "stg-orders-pg"},
		{"aws_db_instance.this", "port", 5433.0},
		{"aws_elasticache_replication_group.this", "replication_group_id", "stg-orders-cache"},
		{"aws_elasticache_replication_group.this", "port", 6380.0},
		{"aws_vpc_security_group_ingress_rule.db_from_cluster[0]", "from_port", 5433.0},
		{"aws_vpc_security_group_ingress_rule.db_from_cluster[0]", "to_port", 5433.0},
		{"aws_vpc_security_group_ingress_rule.redis_from_cluster[0]", "from_port", 6380.0},
		{"aws_vpc_security_group_ingress_rule.redis_from_cluster[0]", "to_port", 6380.0},
		// The names adoption and the ownership check look up (adopt.go).
		{"aws_s3_bucket.data", "bucket", p.StorageBucketName(st.AccountID)},
		{"aws_s3_bucket.access_logs", "bucket", p.AccessLogBucketName(st.AccountID)},
		{"aws_iam_role.rds_monitoring", "name", names.MonitoringRole},
		{"aws_kms_alias.data", "name", names.KMSAlias},
		{"aws_db_subnet_group.this", "name", names.DBSubnetGroup},
		{"aws_db_parameter_group.this", "name", names.DBParameterGroup},
		{"aws_elasticache_subnet_group.this", "name", names.CacheSubnetGroup},
	} {
		if got := after[c.address][c.attr]; got != c.want {
			t.Errorf("plan: %s.%s = %v, want %v", c.address, c.attr, got, c.want)
		}
	}
	// The outputs the values overlay reads (config.database.port,
	// config.redis.port).
	if got := plan.OutputChanges["db_port"].After; got != 5433.0 {
		t.Errorf("output db_port = %v, want 5433", got)
	}
	if got := plan.OutputChanges["redis_port"].After; got != 6380.0 {
		t.Errorf("output redis_port = %v, want 6380", got)
	}
	// What the AUTH step and the final snapshot name. The AUTH step is a
	// script (read the group, then ROTATE and SET as it decides): every
	// replication group it names is the custom one, and it modifies it
	// with both strategies.
	desc, err := (SetRedisAuth{}).Describe(ctx, st)
	if err != nil || len(desc.Actions) == 0 {
		t.Errorf("the Redis AUTH step describes %v (%v)", desc.Actions, err)
	}
	var text strings.Builder
	for _, a := range desc.Actions {
		text.WriteString(strings.Join(a.Args, " ") + "\n" + a.Script + "\n")
	}
	groups := regexp.MustCompile(`--replication-group-id[ =]'?([^ '\n]+)`).FindAllStringSubmatch(text.String(), -1)
	if len(groups) == 0 {
		t.Errorf("the Redis AUTH step names no replication group:\n%s", text.String())
	}
	for _, g := range groups {
		if g[1] != "stg-orders-cache" {
			t.Errorf("the Redis AUTH step targets %s, want stg-orders-cache", g[1])
		}
	}
	for _, want := range []string{"modify-replication-group", "ROTATE", "SET"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the Redis AUTH step lacks %s:\n%s", want, text.String())
		}
	}
	if id := FinalSnapshotID(st); id[:len("stg-orders-pg-final-")] != "stg-orders-pg-final-" {
		t.Errorf("final snapshot %s", id)
	}
}
