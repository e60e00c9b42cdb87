package tfdriver

import (
	"encoding/json"
	"os"
	"strings"

	"github.com/sovd/bootstrap/internal/config"
)

// Inputs are what the data tier takes from the live cluster and account.
type Inputs struct {
	AccountID              string
	VPCID                  string
	PrivateSubnetIDs       []string
	ClusterSecurityGroupID string
	// HostedZoneID is the Route53 zone of app.domain, found by name when
	// the profile names none (pipeline.ResolveHostedZone); "" until found.
	HostedZoneID string
}

// Teardown are the settings applied just before destroy, after the typed
// confirmation: deletion protection lifted, a final snapshot with a unique
// name, and the bucket and repositories allowed to go with their contents.
type Teardown struct {
	FinalSnapshotID string
}

// Application is the name prefix of every data-tier resource ("sovd" in
// sovd-production) and the root's application variable.
const Application = "sovd"

// Vars maps a profile onto terraform/stateful's variables. A nil teardown is
// the normal apply.
func Vars(p *config.Profile, in Inputs, td *Teardown) map[string]any {
	protected := p.Protected()
	v := map[string]any{
		"environment":               p.Name,
		"application":               Application,
		"region":                    p.Region,
		"vpc_id":                    in.VPCID,
		"private_subnet_ids":        in.PrivateSubnetIDs,
		"cluster_security_group_id": in.ClusterSecurityGroupID,
		"tags":                      nonNil(p.Tags),
		// A protected environment's changes wait for the maintenance window.
		"apply_immediately": !protected,

		"db_identifier":     p.Database.Identifier,
		"db_port":           p.Database.Port,
		"db_instance_class": p.Database.InstanceClass,
		"db_engine_version": p.Database.EngineVersion,
		// Only bootstrap upgrade --allow-database-major moves the major
		// (MajorUpgrade below).
		"allow_major_version_upgrade": false,
		"db_allocated_storage":        p.Database.AllocatedStorageGB,
		"db_max_allocated_storage":    p.Database.MaxAllocatedStorageGB,
		"db_multi_az":                 p.Database.MultiAZ,
		"db_backup_retention_days":    p.Database.BackupRetentionDays,
		"db_name":                     p.Database.Name,
		"db_username":                 p.Database.Username,
		"db_deletion_protection":      p.Protection.DeletionProtection,
		// The profile's protection decides whether a final snapshot is kept.
		"db_skip_final_snapshot": !p.Protection.FinalSnapshot,

		"redis_replication_group_id": p.Redis.ReplicationGroupID,
		"redis_port":                 p.Redis.Port,
		"redis_node_type":            p.Redis.NodeType,
		"redis_engine_version":       p.Redis.EngineVersion,
		"redis_num_cache_clusters":   p.Redis.NumCacheClusters,
		"redis_automatic_failover":   p.Redis.AutomaticFailover,
		"redis_multi_az":             p.Redis.MultiAZ,

		"bucket_name":                 p.StorageBucketName(orPlaceholder(in.AccountID)),
		"bucket_force_destroy":        !protected,
		"ecr_repository_names":        p.Registry.Repositories,
		"ecr_force_delete":            !protected,
		"secrets_prefix":              p.Secrets.Prefix,
		"secret_recovery_window_days": p.Secrets.RecoveryWindowDays,
		"generated_secrets_version":   p.Secrets.Generation,
	}
	if in.ClusterSecurityGroupID == "" {
		// Not made by EKS yet: the groups come without their rules.
		v["cluster_security_group_id"] = nil
	}
	if zone := hostedZone(p, in, td); zone != "" {
		v["domain_name"] = p.App.Domain
		v["route53_zone_id"] = zone
	}
	if td != nil {
		v["db_deletion_protection"] = false
		v["bucket_force_destroy"] = true
		v["ecr_force_delete"] = true
		if p.Protection.FinalSnapshot {
			v["db_final_snapshot_identifier"] = td.FinalSnapshotID
		}
	}
	return v
}

// MajorUpgrade turns vars into those of the apply that moves PostgreSQL to
// a new major version, after its manual snapshot: RDS is allowed the major
// change (allow_major_version_upgrade) and makes it now rather than in the
// next maintenance window, so the snapshot just taken is the state the
// upgrade starts from.
func MajorUpgrade(vars map[string]any) map[string]any {
	vars["allow_major_version_upgrade"] = true
	vars["apply_immediately"] = true
	return vars
}

// hostedZone is the zone of app.domain: found (in), configured, or, not
// yet known, a placeholder for the described commands. A destroy that could
// not find it leaves both variables out: the certificate and its records
// go from the state all the same.
func hostedZone(p *config.Profile, in Inputs, td *Teardown) string {
	switch {
	case p.App.Domain == "":
		return ""
	case in.HostedZoneID != "":
		return in.HostedZoneID
	case p.App.HostedZoneID != "":
		return p.App.HostedZoneID
	case td != nil:
		return ""
	}
	return "<hosted-zone-id>"
}

func orPlaceholder(account string) string {
	if account == "" {
		return "<account-id>"
	}
	return account
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// WriteVarFile writes variables as a .tfvars.json file.
func WriteVarFile(path string, vars map[string]any) error {
	data, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// Names are the names terraform/stateful gives the objects around the
// database and Redis (locals in main.tf, network.tf, rds.tf, redis.tf),
// for the lookups that must find them by name before Terraform has them.
// The database and replication group take database.identifier and
// redis.replicationGroupId; these take <application>-<environment>.
type Names struct {
	DBSecurityGroup    string
	RedisSecurityGroup string
	DBSubnetGroup      string
	DBParameterGroup   string
	CacheSubnetGroup   string
	// MonitoringRole is RDS enhanced monitoring's role (rds.tf).
	MonitoringRole string
	// KMSAlias is the alias of the environment's data key (kms.tf).
	KMSAlias string
	// KMSKeyName is the data key's Name tag (kms.tf), by which a key made
	// and never aliased is found.
	KMSKeyName string
	// DBLogGroups are the database's log groups by their key in
	// aws_cloudwatch_log_group.db (rds.tf's local.db_log_exports):
	// /aws/rds/instance/<identifier>/<export>.
	DBLogGroups map[string]string
}

// DBLogExports are the log types the instance exports to CloudWatch, as
// rds.tf's local.db_log_exports lists them.
var DBLogExports = []string{"postgresql", "upgrade"}

// NamesOf computes Names as the root does.
func NamesOf(p *config.Profile) Names {
	name := Application + "-" + p.Name
	major, _, _ := strings.Cut(p.Database.EngineVersion, ".")
	logGroups := map[string]string{}
	for _, e := range DBLogExports {
		logGroups[e] = "/aws/rds/instance/" + p.Database.Identifier + "/" + e
	}
	return Names{
		DBSecurityGroup:    name + "-postgres",
		RedisSecurityGroup: name + "-redis",
		DBSubnetGroup:      name,
		DBParameterGroup:   name + "-postgres" + major,
		CacheSubnetGroup:   name,
		MonitoringRole:     name + "-rds-monitoring",
		KMSAlias:           "alias/" + name + "-data",
		KMSKeyName:         name + "-data",
		DBLogGroups:        logGroups,
	}
}
