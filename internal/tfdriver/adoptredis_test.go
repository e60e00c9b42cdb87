package tfdriver

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFillStateAttribute: the imported replication group's state gets the
// strategy a create stores, with the next serial; a value already there is
// kept, and a state without the resource is an error.
func TestFillStateAttribute(t *testing.T) {
	t.Parallel()
	state := func(strategy string) []byte {
		return []byte(`{"version":4,"terraform_version":"1.11.4","serial":41,"lineage":"l-1","outputs":{},
"resources":[{"mode":"managed","type":"aws_elasticache_replication_group","name":"this","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]",
"instances":[{"schema_version":2,"attributes":{"id":"sovd-staging","auth_token_update_strategy":` + strategy + `,"num_cache_clusters":2,"snapshot_retention_limit":7},"sensitive_attributes":[],"private":"eyJzY2hlbWFfdmVyc2lvbiI6IjIifQ=="}]},
{"mode":"data","type":"aws_elasticache_replication_group","name":"this","instances":[{"attributes":{"auth_token_update_strategy":null}}]}]}`)
	}
	type inst struct {
		SchemaVersion int            `json:"schema_version"`
		Attributes    map[string]any `json:"attributes"`
		Private       string         `json:"private"`
	}
	var got struct {
		Version   int    `json:"version"`
		Serial    int64  `json:"serial"`
		Lineage   string `json:"lineage"`
		Resources []struct {
			Mode      string `json:"mode"`
			Instances []inst `json:"instances"`
		} `json:"resources"`
	}
	for _, null := range []string{"null", `""`} {
		out, changed, err := FillStateAttribute(state(null), "aws_elasticache_replication_group", "this", "auth_token_update_strategy", "ROTATE")
		if err != nil || !changed {
			t.Fatalf("strategy %s: changed %t, err %v", null, changed, err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		m := got.Resources[0].Instances[0]
		if got.Version != 4 || got.Serial != 42 || got.Lineage != "l-1" {
			t.Errorf("strategy %s: version %d serial %d lineage %q, want 4, 42, l-1", null, got.Version, got.Serial, got.Lineage)
		}
		if m.Attributes["auth_token_update_strategy"] != "ROTATE" || m.Attributes["id"] != "sovd-staging" ||
			m.Attributes["num_cache_clusters"] != float64(2) || m.SchemaVersion != 2 || m.Private == "" {
			t.Errorf("strategy %s: the managed instance became %+v", null, m)
		}
		if d := got.Resources[1].Instances[0].Attributes["auth_token_update_strategy"]; d != nil {
			t.Errorf("strategy %s: the data source's attribute became %v", null, d)
		}
	}
	out, changed, err := FillStateAttribute(state(`"SET"`), "aws_elasticache_replication_group", "this", "auth_token_update_strategy", "ROTATE")
	if err != nil || changed || !strings.Contains(string(out), `"SET"`) {
		t.Errorf("a set strategy: changed %t, err %v, want it kept:\n%s", changed, err, out)
	}
	if _, _, err := FillStateAttribute(state("null"), "aws_elasticache_replication_group", "other", "auth_token_update_strategy", "ROTATE"); err == nil || !strings.Contains(err.Error(), "not in the state") {
		t.Errorf("a missing resource: err %v", err)
	}
}
