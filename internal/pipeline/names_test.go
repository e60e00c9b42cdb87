package pipeline

import (
	"context"
	"encoding/json"
	"os/exec"
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
	// What the AUTH step and the final snapshot name.
	// (ROTATE, then SET: two commands, both on the custom group.)
	desc, err := (SetRedisAuth{}).Describe(ctx, st)
	if err != nil || len(desc.Actions) == 0 {
		t.Errorf("the Redis AUTH step describes %v (%v)", desc.Actions, err)
	}
	// Every action that names a replication group names the custom one,
	// and both modifications (ROTATE, SET) are among them.
	modify := 0
	for _, a := range desc.Actions {
		for i, arg := range a.Args {
			if arg == "--replication-group-id" && (i+1 >= len(a.Args) || a.Args[i+1] != "stg-orders-cache") {
				t.Errorf("the Redis AUTH step targets %v", a.Args)
			}
		}
		if len(a.Args) > 1 && a.Args[1] == "modify-replication-group" {
			modify++
		}
	}
	if modify != 2 {
		t.Errorf("the Redis AUTH step modifies the group %d times, want 2 (ROTATE, SET): %v", modify, desc.Actions)
	}
	if id := FinalSnapshotID(st); id[:len("stg-orders-pg-final-")] != "stg-orders-pg-final-" {
		t.Errorf("final snapshot %s", id)
	}
}
