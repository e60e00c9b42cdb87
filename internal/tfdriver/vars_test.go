package tfdriver

import (
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/sovd/bootstrap/internal/config"
)

func TestVarsFollowTheProfile(t *testing.T) {
	t.Parallel()
	in := Inputs{AccountID: "123456789012", VPCID: "vpc-1", PrivateSubnetIDs: []string{"subnet-a", "subnet-b", "subnet-c"}, ClusterSecurityGroupID: "sg-1"}
	prod := Vars(config.Builtin("production"), in, nil)
	want := map[string]any{
		"environment": "production", "db_instance_class": "db.t3.large", "db_multi_az": true,
		"db_deletion_protection": true, "db_skip_final_snapshot": false, "db_backup_retention_days": 7,
		"redis_num_cache_clusters": 2, "redis_automatic_failover": true, "secret_recovery_window_days": 30,
		"bucket_name": "sovd-production-backups-123456789012", "bucket_force_destroy": false,
		"vpc_id": "vpc-1", "cluster_security_group_id": "sg-1", "apply_immediately": false,
		"db_name": "sovd_production", "db_username": "sovd_admin",
	}
	for k, v := range want {
		if prod[k] != v {
			t.Errorf("production %s = %v, want %v", k, prod[k], v)
		}
	}
	if _, ok := prod["db_final_snapshot_identifier"]; ok {
		t.Error("a normal apply must not name a final snapshot")
	}
	staging := Vars(config.Builtin("staging"), in, nil)
	for k, v := range map[string]any{"db_multi_az": false, "db_skip_final_snapshot": true, "secret_recovery_window_days": 0, "bucket_force_destroy": true} {
		if staging[k] != v {
			t.Errorf("staging %s = %v, want %v", k, staging[k], v)
		}
	}
}

func TestTeardownVarsLiftProtectionAndNameTheSnapshot(t *testing.T) {
	t.Parallel()
	v := Vars(config.Builtin("production"), Inputs{}, &Teardown{FinalSnapshotID: "sovd-production-final-20261124-120000"})
	if v["db_deletion_protection"] != false || v["db_final_snapshot_identifier"] != "sovd-production-final-20261124-120000" ||
		v["db_skip_final_snapshot"] != false || v["bucket_force_destroy"] != true {
		t.Errorf("teardown vars: %v", v)
	}
	s := Vars(config.Builtin("staging"), Inputs{}, &Teardown{FinalSnapshotID: "x"})
	if _, ok := s["db_final_snapshot_identifier"]; ok || s["db_skip_final_snapshot"] != true {
		t.Errorf("staging keeps no final snapshot: %v", s)
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	rc := func(addr string, actions ...tfjson.Action) *tfjson.ResourceChange {
		return &tfjson.ResourceChange{Address: addr, Mode: tfjson.ManagedResourceMode, Change: &tfjson.Change{Actions: actions}}
	}
	p := &tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{
		rc("aws_db_instance.this", tfjson.ActionCreate),
		rc("aws_s3_bucket.this", tfjson.ActionUpdate),
		rc("aws_security_group.db", tfjson.ActionDelete, tfjson.ActionCreate),
		rc("aws_ecr_repository.this", tfjson.ActionNoop),
		rc("aws_secretsmanager_secret.jwt", tfjson.ActionDelete),
		{Address: "data.aws_caller_identity.this", Mode: tfjson.DataResourceMode, Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionRead}}},
	}}
	s := Summarize(p)
	if s.String() != "2 to add, 1 to change, 2 to destroy (1 replaced)" || !s.Changed() {
		t.Errorf("summary %q", s)
	}
	if len(s.Resources) != 4 || s.Resources[0] != "create aws_db_instance.this" {
		t.Errorf("resources %v", s.Resources)
	}
	if Summarize(&tfjson.Plan{}).Changed() {
		t.Error("an empty plan changes nothing")
	}
	// An import with no other change is still a change: skipping the apply
	// would leave the adopted object out of the state.
	imp := Summarize(&tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{{
		Address: "aws_security_group.db", Mode: tfjson.ManagedResourceMode,
		Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionNoop}, Importing: &tfjson.Importing{ID: "sg-1"}},
	}}})
	if !imp.Changed() || imp.Import != 1 || imp.String() != "0 to add, 0 to change, 0 to destroy, 1 to import" {
		t.Errorf("import-only plan: %q changed=%v", imp, imp.Changed())
	}
	// So is a move (a moved block): the state must be written under the
	// new address, or a later root without the block would destroy and
	// re-create the object.
	mv := Summarize(&tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{{
		Address: "aws_vpc_security_group_ingress_rule.db_from_cluster[0]", PreviousAddress: "aws_vpc_security_group_ingress_rule.db_from_cluster",
		Mode: tfjson.ManagedResourceMode, Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionNoop}},
	}}})
	if !mv.Changed() || mv.Move != 1 || mv.String() != "0 to add, 0 to change, 0 to destroy, 1 to move" {
		t.Errorf("move-only plan: %q changed=%v", mv, mv.Changed())
	}
}

func TestBackendArgs(t *testing.T) {
	t.Parallel()
	got := Backend{Bucket: "b", Key: "sovd/production/stateful.tfstate", Region: "us-east-1"}.Args()
	want := []string{"bucket=b", "key=sovd/production/stateful.tfstate", "region=us-east-1", "encrypt=true", "use_lockfile=true"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("arg %d = %s, want %s", i, got[i], want[i])
		}
	}
}

// Before EKS has made the cluster security group (`up` applies the data
// tier beside eksctl), the variable is null: the root then makes the groups
// without their rules. An empty string would fail the root's validation.
func TestVarsWithoutTheClusterSecurityGroupPassNull(t *testing.T) {
	t.Parallel()
	in := Inputs{AccountID: "123456789012", VPCID: "vpc-1", PrivateSubnetIDs: []string{"subnet-a"}}
	v := Vars(config.Builtin("staging"), in, nil)
	got, ok := v["cluster_security_group_id"]
	if !ok || got != nil {
		t.Errorf("cluster_security_group_id = %#v (present %v), want null", got, ok)
	}
}
