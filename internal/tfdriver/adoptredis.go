package tfdriver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// RedisGroupAddress is the root's replication group.
const RedisGroupAddress = "aws_elasticache_replication_group.this"

// A replication group that an interrupted apply made and never recorded
// cannot be adopted with an import block, as every other data-tier object
// is (pipeline/adopt.go). The AWS provider's schema gives
// auth_token_update_strategy a Default of ROTATE (hashicorp/terraform-
// provider-aws, internal/service/elasticache/replication_group.go, v5.x),
// which a create stores and an import does not; so the plan that imports
// the group also plans an update of that attribute, null → ROTATE, even
// under the root's ignore_changes (the plugin SDK fills a Default into
// what ignore_changes leaves null). The provider carries such an update
// out as ModifyReplicationGroup with AuthToken "" (auth_token is not in
// the configuration: redis.tf), which ElastiCache refuses with
// InvalidParameterValue, "Invalid AuthToken provided". The apply fails,
// and every later one the same way, since the import is kept.
//
// So the group is imported alone, as `terraform import` does, without a
// plan; then its state is given what a create would have stored, ROTATE,
// and the plan that follows has nothing to change on the group's token.

// ImportRedisGroup imports the replication group id into the state, alone,
// and completes its state as a create would have left it. region is the
// provider's. The import reads a one-resource configuration of its own
// (terraform import -config) beside the working directory's backend: the
// root's full configuration would fail to import while a for_each of it
// waits on an object not yet made (acm.tf's validation records).
func (d *Driver) ImportRedisGroup(ctx context.Context, id, region string) error {
	defer d.forget()
	cfg, err := os.MkdirTemp("", "bootstrap-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cfg)
	// Only what the import reads: the backend (the same partial block as
	// versions.tf, so the working directory's initialised backend is the
	// one used), the provider, and the resource's required arguments.
	stub := fmt.Sprintf(`terraform {
  backend "s3" {}
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = %s
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = %s
  description          = "imported alone by bootstrap"
}
`, strconv.Quote(region), strconv.Quote(id))
	if err := os.WriteFile(filepath.Join(cfg, "main.tf"), []byte(stub), 0o644); err != nil {
		return err
	}
	if err := d.run(ctx, func(ctx context.Context) error {
		return d.tf.Import(ctx, RedisGroupAddress, id, tfexec.Config(cfg))
	}); err != nil {
		return fmt.Errorf("terraform import %s %s in %s: %w", RedisGroupAddress, id, d.dir, err)
	}
	return d.fillState(ctx, "aws_elasticache_replication_group", "this", "auth_token_update_strategy", "ROTATE")
}

// fillState sets attr of the one instance of the managed resource typ.name
// to value where the state holds null or "" (what an import leaves of an
// attribute the provider only defaults), and pushes the state with the next
// serial. Anything else there is left as it is.
func (d *Driver) fillState(ctx context.Context, typ, name, attr, value string) error {
	raw, err := d.StatePull(ctx)
	if err != nil {
		return fmt.Errorf("terraform state pull in %s: %w", d.dir, err)
	}
	out, changed, err := FillStateAttribute([]byte(raw), typ, name, attr, value)
	if err != nil || !changed {
		return err
	}
	f, err := os.CreateTemp("", "bootstrap-state-*.tfstate")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(out); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := d.run(ctx, func(ctx context.Context) error { return d.tf.StatePush(ctx, f.Name()) }); err != nil {
		return fmt.Errorf("terraform state push in %s: %w", d.dir, err)
	}
	return nil
}

// FillStateAttribute is fillState's edit of a state file (format version
// 4): the one instance of managed resource typ.name gets attr = value when
// it holds null or "", and the serial goes up by one, as a push needs.
// changed is false when there was nothing to fill.
func FillStateAttribute(state []byte, typ, name, attr, value string) (out []byte, changed bool, err error) {
	var s map[string]any
	dec := json.NewDecoder(bytes.NewReader(state))
	dec.UseNumber() // serials and other numbers pass through unchanged
	if err := dec.Decode(&s); err != nil {
		return nil, false, fmt.Errorf("reading the state: %w", err)
	}
	if v, _ := s["version"].(json.Number); v.String() != "4" {
		return nil, false, fmt.Errorf("state format version %v, want 4", s["version"])
	}
	resources, _ := s["resources"].([]any)
	var inst map[string]any
	for _, r := range resources {
		r, _ := r.(map[string]any)
		if r["mode"] != "managed" || r["type"] != typ || r["name"] != name {
			continue
		}
		instances, _ := r["instances"].([]any)
		if len(instances) != 1 {
			return nil, false, fmt.Errorf("%s.%s has %d instances in the state, want 1", typ, name, len(instances))
		}
		inst, _ = instances[0].(map[string]any)
	}
	if inst == nil {
		return nil, false, fmt.Errorf("%s.%s is not in the state", typ, name)
	}
	attrs, _ := inst["attributes"].(map[string]any)
	if attrs == nil {
		return nil, false, fmt.Errorf("%s.%s has no attributes in the state", typ, name)
	}
	if cur, ok := attrs[attr]; ok && cur != nil && cur != "" {
		return state, false, nil
	}
	attrs[attr] = value
	serial, err := strconv.ParseInt(fmt.Sprint(s["serial"]), 10, 64)
	if err != nil {
		return nil, false, fmt.Errorf("the state's serial %v: %w", s["serial"], err)
	}
	s["serial"] = serial + 1
	out, err = json.MarshalIndent(s, "", "  ")
	return out, true, err
}
