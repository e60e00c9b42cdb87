package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sovd/bootstrap/internal/terraform"
)

// Adoption: an apply interrupted while a create call was in flight can leave
// an object that AWS made but Terraform never recorded. The next apply would
// then fail with "already exists". Since every data-tier name is predictable,
// the data step looks for such orphans before planning and imports them, so
// a re-run after any failure finishes the job and makes nothing twice.

// AdoptAPI finds data-tier objects by their predictable names.
type AdoptAPI interface {
	SecretARNByName(ctx context.Context, name string) (string, error)
	SecurityGroupIDByName(ctx context.Context, vpcID, name string) (string, error)
	IngressRuleID(ctx context.Context, groupID string, port int32, fromGroupID string) (string, error)
	DBParameterGroupExists(ctx context.Context, name string) (bool, error)
	DBSubnetGroupExists(ctx context.Context, name string) (bool, error)
	CacheSubnetGroupExists(ctx context.Context, name string) (bool, error)
	ECRRepositoryExists(ctx context.Context, name string) (bool, error)
	BucketExists(ctx context.Context, name string) (bool, error)
	DBInstanceStatus(ctx context.Context, id string) (string, error)
	ReplicationGroupStatus(ctx context.Context, id string) (string, error)
}

// orphan is a resource address and a way to find its object's import id.
type orphan struct {
	address string
	find    func(ctx context.Context, api AdoptAPI, ids map[string]string) (string, error)
}

func exists(id string, ok bool, err error) (string, error) {
	if err != nil || !ok {
		return "", err
	}
	return id, nil
}

func statusID(id, status string, err error) (string, error) {
	if err != nil || status == "" || strings.Contains(status, "delet") || strings.Contains(status, "fail") {
		return "", err
	}
	return id, nil
}

// orphans lists the adoptable resources of terraform/stateful for a state,
// in dependency order (security groups before their rules). ids holds the
// ids of resources found so far, by address.
func orphans(st *State, in terraform.Inputs) []orphan {
	p := st.Profile
	name := p.Prefix()
	major := strings.SplitN(p.Database.EngineVersion, ".", 2)[0]
	rule := func(sgAddr string, port int32) func(context.Context, AdoptAPI, map[string]string) (string, error) {
		return func(ctx context.Context, api AdoptAPI, ids map[string]string) (string, error) {
			if ids[sgAddr] == "" || in.ClusterSecurityGroupID == "" {
				return "", nil
			}
			return api.IngressRuleID(ctx, ids[sgAddr], port, in.ClusterSecurityGroupID)
		}
	}
	list := []orphan{
		{"aws_security_group.db", func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			return api.SecurityGroupIDByName(ctx, in.VPCID, name+"-postgres")
		}},
		{"aws_security_group.redis", func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			return api.SecurityGroupIDByName(ctx, in.VPCID, name+"-redis")
		}},
		{"aws_vpc_security_group_ingress_rule.db_from_cluster[0]", rule("aws_security_group.db", 5432)},
		{"aws_vpc_security_group_ingress_rule.redis_from_cluster[0]", rule("aws_security_group.redis", 6379)},
		{"aws_db_subnet_group.this", func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			ok, err := api.DBSubnetGroupExists(ctx, name)
			return exists(name, ok, err)
		}},
		{"aws_db_parameter_group.this", func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			pg := name + "-postgres" + major
			ok, err := api.DBParameterGroupExists(ctx, pg)
			return exists(pg, ok, err)
		}},
		{"aws_db_instance.this", func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			s, err := api.DBInstanceStatus(ctx, name)
			return statusID(name, s, err)
		}},
		{"aws_elasticache_subnet_group.this", func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			ok, err := api.CacheSubnetGroupExists(ctx, name)
			return exists(name, ok, err)
		}},
		{"aws_elasticache_replication_group.this", func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			s, err := api.ReplicationGroupStatus(ctx, name)
			return statusID(name, s, err)
		}},
		{"aws_s3_bucket.data", func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			b := p.StorageBucketName(st.AccountID)
			ok, err := api.BucketExists(ctx, b)
			return exists(b, ok, err)
		}},
	}
	for _, repo := range p.Registry.Repositories {
		repo := repo
		list = append(list, orphan{fmt.Sprintf("aws_ecr_repository.this[%q]", repo), func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			ok, err := api.ECRRepositoryExists(ctx, repo)
			return exists(repo, ok, err)
		}})
	}
	for _, s := range []string{"database", "jwt", "redis"} {
		secret := p.Secrets.Prefix + "/" + s
		list = append(list, orphan{"aws_secretsmanager_secret." + s, func(ctx context.Context, api AdoptAPI, _ map[string]string) (string, error) {
			return api.SecretARNByName(ctx, secret)
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
// the working copy. It returns the addresses to be imported.
func adoptOrphans(ctx context.Context, api AdoptAPI, d *terraform.Driver, st *State, in terraform.Inputs) ([]string, error) {
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
	var blocks strings.Builder
	blocks.WriteString("# Written by bootstrap: objects found in AWS under this root's names but\n# missing from its state (an interrupted run). Removed on the next run.\n")
	for _, o := range orphans(st, in) {
		if inState[o.address] {
			continue
		}
		id, err := o.find(ctx, api, ids)
		if err != nil {
			return adopted, fmt.Errorf("looking for an unrecorded %s: %w", o.address, err)
		}
		if id == "" {
			continue
		}
		st.Progress.Info("%s exists in AWS (%s) but not in the state, likely from an interrupted run: importing it", o.address, id)
		fmt.Fprintf(&blocks, "\nimport {\n  to = %s\n  id = %q\n}\n", o.address, id)
		ids[o.address] = id
		adopted = append(adopted, o.address)
	}
	if len(adopted) == 0 {
		return nil, nil
	}
	return adopted, os.WriteFile(filepath.Join(d.Dir(), AdoptFile), []byte(blocks.String()), 0o644)
}
