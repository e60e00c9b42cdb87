package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sovd/bootstrap/internal/cloud"
	"github.com/sovd/bootstrap/internal/config"
	"github.com/sovd/bootstrap/internal/tfdriver"
)

// Adoption: an apply interrupted while a create call was in flight can leave
// an object that AWS made but Terraform never recorded. The next apply would
// then fail with "already exists". Since every data-tier name is predictable,
// the data step looks for such orphans before planning and imports them, so
// a re-run after any failure finishes the job and makes nothing twice.
//
// A name is not proof: an object is imported only when its tags say this
// environment of this application made it (ownership.go). One that matches
// by name alone stops the run before anything is imported or changed.

// AdoptAPI finds data-tier objects by their predictable names, with their
// tags; *cloud.Clients is the real one.
type AdoptAPI interface {
	FindSecret(ctx context.Context, name string) (cloud.Found, error)
	FindSecurityGroup(ctx context.Context, vpcID, name string) (cloud.Found, error)
	FindIngressRule(ctx context.Context, groupID string, port int32, fromGroupID string) (cloud.Found, error)
	FindDBParameterGroup(ctx context.Context, name string) (cloud.Found, error)
	FindDBSubnetGroup(ctx context.Context, name string) (cloud.Found, error)
	FindCacheSubnetGroup(ctx context.Context, name string) (cloud.Found, error)
	FindRepository(ctx context.Context, name string) (cloud.Found, error)
	FindBucket(ctx context.Context, name string) (cloud.Found, error)
	FindDBInstance(ctx context.Context, id string) (cloud.Found, error)
	FindReplicationGroup(ctx context.Context, id string) (cloud.Found, error)
	FindRole(ctx context.Context, name string) (cloud.Found, error)
	FindLogGroup(ctx context.Context, name string) (cloud.Found, error)
	FindKMSKeyByAlias(ctx context.Context, alias string) (cloud.Found, error)
	FindKMSAlias(ctx context.Context, alias string) (cloud.Found, error)
	FindKMSKeysByTags(ctx context.Context, tags map[string]string) ([]cloud.Found, error)
}

// orphan is a resource address and a way to find its object. needsNetwork
// marks the lookups that need the cluster's VPC (security groups, rules).
type orphan struct {
	address      string
	needsNetwork bool
	find         func(ctx context.Context, api AdoptAPI, ids map[string]string) (cloud.Found, error)
}

// lookup finds the orphan's object: through the run's cache (found.go)
// when the lookup depends on nothing but the profile, else afresh.
func (o orphan) lookup(ctx context.Context, st *State, api AdoptAPI, ids map[string]string) (cloud.Found, error) {
	if o.needsNetwork {
		return o.find(ctx, api, ids)
	}
	return st.found(ctx, foundData+o.address, func(ctx context.Context) (cloud.Found, error) { return o.find(ctx, api, ids) })
}

// liveOnly drops a database or replication group AWS is deleting or failed to
// make: there is nothing to adopt.
func liveOnly(f cloud.Found, err error) (cloud.Found, error) {
	if err != nil || f.Status == "" {
		return f, err
	}
	if strings.Contains(f.Status, "delet") || strings.Contains(f.Status, "fail") {
		return cloud.Found{}, nil
	}
	return f, nil
}

// addrDBInstance is the database's address in terraform/stateful.
const addrDBInstance = "aws_db_instance.this"

// liveDBInstance finds the database, nothing when AWS is deleting it or
// failed to make it.
func liveDBInstance(ctx context.Context, api AdoptAPI, id string) (cloud.Found, error) {
	return liveOnly(api.FindDBInstance(ctx, id))
}

// foundDBInstance is the database as the run last read it (the ownership
// check's lookup when it ran, else a fresh one, then kept): its engine
// version for the major guard, read once per run.
func foundDBInstance(ctx context.Context, st *State, api AdoptAPI) (cloud.Found, error) {
	return st.found(ctx, foundData+addrDBInstance, func(ctx context.Context) (cloud.Found, error) {
		return liveDBInstance(ctx, api, st.Profile.Database.Identifier)
	})
}

// unaliasedKey finds the data key a create made and the alias never
// reached: a key has no name, so it is found by the root's tags on it, this
// environment's and its Name. Only a key those tags prove this
// environment's is found (one of another's is no obstacle to making ours:
// KMS keys share no name). Two or more are an error: which one the root
// made cannot be told, and one would be left billed.
func unaliasedKey(ctx context.Context, api AdoptAPI, p *config.Profile, n tfdriver.Names) (cloud.Found, error) {
	tags := map[string]string{"Name": n.KMSKeyName}
	for k, v := range envOwnership(p) {
		tags[k] = v
	}
	keys, err := api.FindKMSKeysByTags(ctx, tags)
	if err != nil || len(keys) == 0 {
		return cloud.Found{}, err
	}
	if len(keys) > 1 {
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.ID
		}
		return cloud.Found{}, fmt.Errorf("%d KMS keys are tagged %s and none is aliased %s (%s): bootstrap cannot tell which one its Terraform made. "+
			"Nothing was encrypted with a key that has no alias yet: schedule the deletion of all of them but one "+
			"(aws kms schedule-key-deletion --key-id <id> --pending-window-in-days 7), then run again",
			len(keys), cloud.TagsString(tags), n.KMSAlias, strings.Join(ids, ", "))
	}
	return keys[0], nil
}

// orphans lists the adoptable resources of terraform/stateful for a state,
// in dependency order (security groups before their rules). ids holds the
// ids of resources found so far, by address.
func orphans(st *State, in tfdriver.Inputs) []orphan {
	p := st.Profile
	n := tfdriver.NamesOf(p)
	rule := func(sgAddr string, port int) func(context.Context, AdoptAPI, map[string]string) (cloud.Found, error) {
		return func(ctx context.Context, api AdoptAPI, ids map[string]string) (cloud.Found, error) {
			if ids[sgAddr] == "" || in.ClusterSecurityGroupID == "" {
				return cloud.Found{}, nil
			}
			return api.FindIngressRule(ctx, ids[sgAddr], int32(port), in.ClusterSecurityGroupID)
		}
	}
	list := []orphan{
		// The data key before its alias; found through the alias, whose
		// name is predictable, else (made and never aliased) by its tags.
		{"aws_kms_key.data", false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			f, err := api.FindKMSKeyByAlias(ctx, n.KMSAlias)
			if err != nil || f.Exists() {
				return f, err
			}
			return unaliasedKey(ctx, api, p, n)
		}},
		{"aws_kms_alias.data", false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindKMSAlias(ctx, n.KMSAlias)
		}},
		{"aws_security_group.db", true, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindSecurityGroup(ctx, in.VPCID, n.DBSecurityGroup)
		}},
		{"aws_security_group.redis", true, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindSecurityGroup(ctx, in.VPCID, n.RedisSecurityGroup)
		}},
		{"aws_vpc_security_group_ingress_rule.db_from_cluster[0]", true, rule("aws_security_group.db", p.Database.Port)},
		{"aws_vpc_security_group_ingress_rule.redis_from_cluster[0]", true, rule("aws_security_group.redis", p.Redis.Port)},
		{"aws_db_subnet_group.this", false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindDBSubnetGroup(ctx, n.DBSubnetGroup)
		}},
		{"aws_db_parameter_group.this", false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindDBParameterGroup(ctx, n.DBParameterGroup)
		}},
		{addrDBInstance, false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return liveDBInstance(ctx, api, p.Database.Identifier)
		}},
		{"aws_elasticache_subnet_group.this", false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindCacheSubnetGroup(ctx, n.CacheSubnetGroup)
		}},
		{tfdriver.RedisGroupAddress, false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return liveOnly(api.FindReplicationGroup(ctx, p.Redis.ReplicationGroupID))
		}},
		{"aws_s3_bucket.data", false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindBucket(ctx, p.StorageBucketName(st.AccountID))
		}},
		{"aws_s3_bucket.access_logs", false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindBucket(ctx, p.AccessLogBucketName(st.AccountID))
		}},
		{"aws_iam_role.rds_monitoring", false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindRole(ctx, n.MonitoringRole)
		}},
	}
	// The log groups come before the instance in the root (RDS would make
	// an untagged one on its first export); one left by an interrupted
	// create would fail the next with ResourceAlreadyExistsException.
	for _, e := range tfdriver.DBLogExports {
		group := n.DBLogGroups[e]
		list = append(list, orphan{fmt.Sprintf("aws_cloudwatch_log_group.db[%q]", e), false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindLogGroup(ctx, group)
		}})
	}
	for _, repo := range p.Registry.Repositories {
		repo := repo
		list = append(list, orphan{fmt.Sprintf("aws_ecr_repository.this[%q]", repo), false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindRepository(ctx, repo)
		}})
	}
	for _, s := range []string{"database", "jwt", "redis"} {
		secret := p.Secrets.Prefix + "/" + s
		list = append(list, orphan{"aws_secretsmanager_secret." + s, false, func(ctx context.Context, api AdoptAPI, _ map[string]string) (cloud.Found, error) {
			return api.FindSecret(ctx, secret)
		}})
	}
	return list
}

// AdoptFile is the file of Terraform import blocks written into the run
// directory's copy of the root (never into terraform/stateful itself). Import
// blocks let the plan import and apply in one go, where `terraform import`
// would fail on for_each over values not yet known. The next run's copy of
// the root removes it.
const AdoptFile = "bootstrap_adopt.tf"

// adoptOrphans finds the objects that exist in AWS under a data-tier name
// but are missing from the state, and writes an import block for each into
// the working copy. It returns the addresses to be imported. An object
// whose tags do not prove it this environment's is an *OwnershipError, and
// nothing is written: the plan that follows would otherwise take it over.
func adoptOrphans(ctx context.Context, api AdoptAPI, d *tfdriver.Driver, st *State, in tfdriver.Inputs) ([]string, error) {
	have, err := d.Resources(ctx)
	if err != nil {
		return nil, err
	}
	inState := map[string]bool{}
	for _, a := range have {
		inState[a] = true
	}
	// Ids of what the state holds, so rules can be found for their groups.
	ids := map[string]string{}
	if len(have) > 0 {
		if s, err := d.ResourceIDs(ctx); err == nil {
			ids = s
		}
	}
	var adopted []string
	var foreign []cloud.Found
	redisGroup := ""
	var blocks strings.Builder
	blocks.WriteString("# Written by bootstrap: objects found in AWS under this root's names but\n# missing from its state (an interrupted run), tagged for this environment.\n# Removed on the next run.\n")
	own := envOwnership(st.Profile)
	// The buckets, born untagged (creating.go): those the apply will make
	// are recorded before it, and an untagged one the record proves made by
	// an earlier apply is adopted.
	buckets := map[string]string{
		"aws_s3_bucket.data":        st.Profile.StorageBucketName(st.AccountID),
		"aws_s3_bucket.access_logs": st.Profile.AccessLogBucketName(st.AccountID),
	}
	made, err := readCreating(st)
	if err != nil {
		return nil, err
	}
	var toMake []string
	for _, o := range orphans(st, in) {
		if inState[o.address] {
			continue
		}
		f, err := o.lookup(ctx, st, api, ids)
		if err != nil {
			return nil, fmt.Errorf("looking for an unrecorded %s: %w", o.address, err)
		}
		if !f.Exists() {
			if b := buckets[o.address]; b != "" {
				toMake = append(toMake, b)
			}
			continue
		}
		switch {
		case own.Owns(f.Tags):
			st.Progress.Info("%s exists in AWS (%s), tagged for %s, but not in the state, likely from an interrupted run: importing it", o.address, f.ID, st.Profile.Name)
		case made.madeByApply(f):
			st.Progress.Info("%s exists in AWS (%s) without tags: an apply of %s recorded it in %s at %s and was stopped before it tagged it (made %s): importing it; this apply tags it",
				o.address, f.ID, st.Profile.Name, st.RelPath(CreatingFile), made[f.Name].Format(time.RFC3339), f.Created.UTC().Format(time.RFC3339))
		default:
			foreign = append(foreign, f)
			continue
		}
		if o.address == tfdriver.RedisGroupAddress {
			// Imported alone, not by a block (tfdriver/adoptredis.go), once
			// every object is known to be this environment's.
			redisGroup = f.ID
			ids[o.address] = f.ID
			adopted = append(adopted, o.address)
			continue
		}
		fmt.Fprintf(&blocks, "\nimport {\n  to = %s\n  id = %q\n}\n", o.address, f.ID)
		ids[o.address] = f.ID
		adopted = append(adopted, o.address)
	}
	if len(foreign) > 0 {
		return nil, &OwnershipError{Env: st.Profile.Name, Cluster: st.Profile.Cluster.Name, Region: st.Profile.Region, Want: own, Objects: foreign}
	}
	if err := made.record(st, toMake, time.Now()); err != nil {
		return nil, fmt.Errorf("recording the buckets this apply will make: %w", err)
	}
	if redisGroup != "" {
		if err := d.ImportRedisGroup(ctx, redisGroup, st.Profile.Region); err != nil {
			return nil, err
		}
	}
	if !strings.Contains(blocks.String(), "import {") {
		return adopted, nil
	}
	return adopted, os.WriteFile(filepath.Join(d.Dir(), AdoptFile), []byte(blocks.String()), 0o644)
}
